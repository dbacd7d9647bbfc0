/* diag.c - program-name diagnostics and the kit's exit codes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

static const char *progname = "?";

void diag_set_progname(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');
    progname = slash ? slash + 1 : argv0;
}

const char *diag_progname(void)
{
    return progname;
}

/* Shared by diag_warn and die: errno is read first, before stdio can change it. */
static void vwarn(const char *fmt, va_list ap)
{
    int saved_errno = errno;
    size_t len = strlen(fmt);

    flockfile(stderr); /* one whole line even when several threads warn at once */
    fprintf(stderr, "%s: ", progname);
    vfprintf(stderr, fmt, ap);
    if (len > 0 && fmt[len - 1] == ':')
        fprintf(stderr, " %s", strerror(saved_errno));
    fputc('\n', stderr);
    funlockfile(stderr);
}

void diag_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
}

void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vwarn(fmt, ap);
    va_end(ap);
    exit(EXIT_RUNTIME);
}

void die_usage(const char *usage)
{
    fprintf(stderr, "usage: %s %s\n", progname, usage);
    exit(EXIT_USAGE);
}

void diag_print_usage(const char *usage)
{
    printf("usage: %s %s\n", progname, usage);
}
