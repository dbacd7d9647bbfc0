/* accept-fail.so - an LD_PRELOAD shim: one connection that accept() or accept4() takes is
 * broken off with a reset, and that call fails with an errno instead, as when the kernel
 * reports a connection that failed between the handshake and accept() (EPROTO and its kin,
 * see net_accept_failed_one in common/net.h).
 *
 *   KIT_ACCEPT_FAIL=N:NAME    the Nth connection accepted fails with NAME: EPROTO, ENOPROTOOPT,
 *                             EHOSTDOWN, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH, ENETDOWN, EPERM,
 *                             ENONET, or ECONNABORTED (a client that gave up in the backlog)
 *   KIT_ACCEPT_FAIL_LOG=FILE  append one line there when it does, so that a test can tell a
 *                             shim that never ran (a statically linked server) from a pass
 *   KIT_ACCEPT_FAIL_SIGNAL=CHLD  then, errno already set, send SIGCHLD to the process, as when
 *                             a child ends right after accept() failed: a single-threaded
 *                             server runs its handler before the failing call returns, so a
 *                             handler that does not restore errno changes the error its
 *                             caller reads (lesson 05's echo-fork-server)
 *
 * strace's -e inject=accept:error=EPROTO fails the call without running it, and the client
 * stays queued for the next accept(); a real EPROTO means that client is gone. Hence a shim.
 * Used by echo_test_accept_error_skipped (tests/lib/echo_server_tests.bash).
 */
#define _GNU_SOURCE /* RTLD_NEXT, accept4 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct errno_name {
    const char *name;
    int value;
};

static const struct errno_name errno_names[] = {
    {"EPROTO", EPROTO},
    {"ENOPROTOOPT", ENOPROTOOPT},
    {"EHOSTDOWN", EHOSTDOWN},
    {"EHOSTUNREACH", EHOSTUNREACH},
    {"EOPNOTSUPP", EOPNOTSUPP},
    {"ENETUNREACH", ENETUNREACH},
    {"ENETDOWN", ENETDOWN},
    {"EPERM", EPERM},
    {"ECONNABORTED", ECONNABORTED},
};

/* Connections accepted so far, by any thread. */
static _Atomic unsigned long accepted;

/* Which connection fails, from KIT_ACCEPT_FAIL ("3:EPROTO"), and with what in *how.
 * 0 when the variable is unset or malformed: then nothing fails. */
static unsigned long fail_at(const struct errno_name **how)
{
    const char *spec = getenv("KIT_ACCEPT_FAIL");
    char *colon;
    unsigned long n;

    if (spec == NULL)
        return 0;
    n = strtoul(spec, &colon, 10);
    if (*colon != ':')
        return 0;
    for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++) {
        if (strcmp(colon + 1, errno_names[i].name) == 0) {
            *how = &errno_names[i];
            return n;
        }
    }
    return 0;
}

/* One line in KIT_ACCEPT_FAIL_LOG, if set. */
static void log_failure(unsigned long n, const char *name)
{
    const char *path = getenv("KIT_ACCEPT_FAIL_LOG");
    char line[128];
    int fd, len;

    if (path == NULL)
        return;
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    len = snprintf(line, sizeof line, "accept-fail: connection %lu failed with %s\n", n, name);
    if (len > 0 && write(fd, line, (size_t)len) < 0) {
        /* nothing to do: the test will miss the line and say so */
    }
    close(fd);
}

/* KIT_ACCEPT_FAIL_SIGNAL=CHLD: SIGCHLD to this process. kill() delivers a signal the caller
 * does not block before it returns, and like getenv() and getpid() it leaves errno alone when
 * it succeeds: whatever errno is after this, the handler made it so. */
static void maybe_signal(void)
{
    const char *name = getenv("KIT_ACCEPT_FAIL_SIGNAL");

    if (name != NULL && strcmp(name, "CHLD") == 0)
        (void)kill(getpid(), SIGCHLD);
}

/* fd as accept() returned it; the chosen connection is reset and -1 returned instead. */
static int maybe_fail(int fd)
{
    struct linger reset = {.l_onoff = 1, .l_linger = 0};
    const struct errno_name *how = NULL;
    unsigned long n;

    if (fd < 0)
        return fd;
    n = ++accepted;
    if (n != fail_at(&how) || how == NULL)
        return fd;
    /* The line first: once the reset is out, a test may look for it at once. */
    log_failure(n, how->name);
    (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset); /* close sends RST */
    close(fd);
    errno = how->value;
    maybe_signal();
    return -1;
}

int accept(int fd, __SOCKADDR_ARG addr, socklen_t *restrict len)
{
    static int (*real_accept)(int, __SOCKADDR_ARG, socklen_t *restrict);

    if (real_accept == NULL)
        *(void **)&real_accept = dlsym(RTLD_NEXT, "accept"); /* POSIX's way to get a function */
    return maybe_fail(real_accept(fd, addr, len));
}

int accept4(int fd, __SOCKADDR_ARG addr, socklen_t *restrict len, int flags)
{
    static int (*real_accept4)(int, __SOCKADDR_ARG, socklen_t *restrict, int);

    if (real_accept4 == NULL)
        *(void **)&real_accept4 = dlsym(RTLD_NEXT, "accept4");
    return maybe_fail(real_accept4(fd, addr, len, flags));
}
