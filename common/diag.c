/* diag.c - program-name diagnostics and the kit's exit codes. */
#include <errno.h>
#include <getopt.h>
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

void die_bad_usage(const char *usage, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    die_usage(usage);
}

/* The long option named by arg ("--once=yes" names "once"), or NULL. */
static const struct option *find_long_option(const char *arg, const struct option *longopts)
{
    size_t len = strcspn(arg, "=");

    for (; longopts != NULL && longopts->name != NULL; longopts++)
        if (strlen(longopts->name) == len && strncmp(longopts->name, arg, len) == 0)
            return longopts;
    return NULL;
}

void die_bad_option(const char *usage, int c, char **argv, const struct option *longopts)
{
    /* getopt leaves the offending word just before optind (or at it, inside "-qx"). */
    const char *word = argv[optind - 1];

    if (strncmp(word, "--", 2) == 0) {
        const struct option *known = find_long_option(word + 2, longopts);

        if (known == NULL && optopt == 0)
            die_bad_usage(usage, "unknown option: %.*s", (int)strcspn(word, "="), word);
        if (known != NULL && known->val == optopt && c == ':')
            die_bad_usage(usage, "option --%s needs a value", known->name);
        if (known != NULL && known->val == optopt)
            die_bad_usage(usage, "option --%s takes no value: %s", known->name, word);
    }
    if (c == ':')
        die_bad_usage(usage, "option -%c needs a value", optopt);
    die_bad_usage(usage, "unknown option: -%c", optopt);
}

void diag_print_usage(const char *usage)
{
    printf("usage: %s %s\n", progname, usage);
}
