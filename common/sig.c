/* sig.c - race-free stop signals: blocked except while waiting, and a self-pipe (sig.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "sig.h"

/* ---- what the handler and the waiting threads share ------------------------------------- */

/* Written by the handler, read by every thread: lock-free atomics, which C11 allows in a
 * signal handler and which, unlike volatile sig_atomic_t, are also safe between threads. */
static _Atomic int stop_flag;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the stop flag must be lock-free");

/* The self-pipe: the handler writes one byte to its write end, every wait polls its read
 * end. -1 until sig_setup_stop(), and again after exit has closed them. */
static _Atomic int wake_read_fd = -1;
static _Atomic int wake_write_fd = -1;

/* The mask to wait with: the thread's old mask minus SIGINT/SIGTERM. Only the thread that
 * called sig_setup_stop() uses it; in the other threads the stop signals stay blocked, so
 * the kernel delivers them to the one thread that lets them in. */
static sigset_t wait_mask;
static _Thread_local bool is_stop_thread;

/* ---- the self-pipe ---------------------------------------------------------------------- */

/* Make the pipe readable for good: every poll() on its read end returns at once from now
 * on. Async-signal-safe: write() is, and errno is given back as it was found. */
static void wake_every_wait(void)
{
    const char byte = 's';
    int saved_errno = errno;
    ssize_t n = write(wake_write_fd, &byte, 1);

    (void)n; /* a failure changes nothing: the flag is set, and each wait checks it first */
    errno = saved_errno;
}

/* A new self-pipe whose ends close on exec; the write end never blocks (the handler must
 * not). Only async-signal-safe calls: it also runs in a child right after fork(). Returns 0,
 * or -1 with errno set. */
static int open_wake_pipe(void)
{
    int fds[2], flags;

    if (pipe(fds) < 0)
        return -1;
    if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) < 0 || fcntl(fds[1], F_SETFD, FD_CLOEXEC) < 0 ||
        (flags = fcntl(fds[1], F_GETFL)) < 0 || fcntl(fds[1], F_SETFL, flags | O_NONBLOCK) < 0) {
        int saved_errno = errno;
        close(fds[0]);
        close(fds[1]);
        errno = saved_errno;
        return -1;
    }
    wake_read_fd = fds[0];
    wake_write_fd = fds[1];
    return 0;
}

/* At exit: close both ends, so that no descriptor is left open (valgrind checks). */
static void close_wake_pipe(void)
{
    int read_end = atomic_exchange(&wake_read_fd, -1);
    int write_end = atomic_exchange(&wake_write_fd, -1);

    if (read_end >= 0)
        close(read_end);
    if (write_end >= 0)
        close(write_end);
}

/* In the child after fork(): a pipe of its own, or a stop of either process would wake the
 * other. A stop already requested stays requested. */
static void renew_wake_pipe_in_child(void)
{
    close_wake_pipe();
    if (open_wake_pipe() == 0 && stop_flag)
        wake_every_wait();
}

/* ---- the handler and the setup ---------------------------------------------------------- */

static void on_stop_signal(int signo)
{
    (void)signo;
    if (atomic_exchange(&stop_flag, 1) == 0) /* the first stop writes the byte; one is enough */
        wake_every_wait();
}

/* The pipe, once per process, closed at exit and renewed in children. Returns 0, or -1. */
static int prepare_wake_pipe(void)
{
    static bool prepared;
    int rc;

    if (prepared)
        return 0;
    if (open_wake_pipe() < 0)
        return -1;
    rc = pthread_atfork(NULL, NULL, renew_wake_pipe_in_child);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    if (atexit(close_wake_pipe) != 0) {
        errno = ENOMEM;
        return -1;
    }
    prepared = true;
    return 0;
}

int sig_setup_stop(void)
{
    struct sigaction sa = {0};
    sigset_t stop_set;
    int rc;

    if (prepare_wake_pipe() < 0) /* before the handler, which writes to it */
        return -1;
    sa.sa_handler = SIG_IGN; /* a peer that vanishes gives EPIPE, not death */
    if (sigaction(SIGPIPE, &sa, NULL) < 0)
        return -1;
    sa.sa_handler = on_stop_signal; /* no SA_RESTART: an interrupted call returns EINTR */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
        return -1;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    rc = pthread_sigmask(SIG_BLOCK, &stop_set, &wait_mask);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    sigdelset(&wait_mask, SIGINT);
    sigdelset(&wait_mask, SIGTERM);
    is_stop_thread = true;
    return 0;
}

bool sig_stop_requested(void)
{
    return stop_flag != 0;
}

/* ---- waiting ---------------------------------------------------------------------------- */

/* The CLOCK_MONOTONIC time timeout_ms (>= 0) from now. */
static struct timespec deadline_after(int timeout_ms)
{
    struct timespec deadline;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    return deadline;
}

/* Milliseconds left until deadline (never negative). */
static int ms_left(const struct timespec *deadline)
{
    struct timespec now;
    long long ms;

    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
         (deadline->tv_nsec - now.tv_nsec) / 1000000;
    return ms < 0 ? 0 : (int)ms;
}

/* poll(), with SIGINT/SIGTERM let in for its duration in the thread that set them up. A
 * stop pending or arriving runs the handler as soon as the mask allows; if that happens
 * before poll() starts, the byte the handler wrote makes poll() return at once. */
static int poll_letting_stop_in(struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
    sigset_t blocked;
    int n, saved_errno;

    if (!is_stop_thread)
        return poll(fds, nfds, timeout_ms);
    (void)pthread_sigmask(SIG_SETMASK, &wait_mask, &blocked);
    n = poll(fds, nfds, timeout_ms);
    saved_errno = errno;
    (void)pthread_sigmask(SIG_SETMASK, &blocked, NULL);
    errno = saved_errno;
    return n;
}

int sig_wait_fd(int fd, short events, int timeout_ms)
{
    /* poll() skips a negative fd: with fd -1 only the pipe and the time count. Without
     * sig_setup_stop() there is no pipe, and fd is polled alone. */
    struct pollfd fds[2] = {
        {.fd = fd, .events = events},
        {.fd = wake_read_fd, .events = POLLIN},
    };
    nfds_t nfds = fds[1].fd < 0 ? 1 : 2;
    struct timespec deadline = deadline_after(timeout_ms < 0 ? 0 : timeout_ms);

    for (;;) {
        int n;

        if (stop_flag) {
            errno = EINTR;
            return -1;
        }
        n = poll_letting_stop_in(fds, nfds, timeout_ms < 0 ? -1 : ms_left(&deadline));
        if (n < 0 && errno != EINTR)
            return -1;
        if (n > 0 && fds[0].revents != 0 && !stop_flag)
            return 1; /* ready, or POLLERR/POLLHUP: the next call on fd reports it */
        if (n == 0)
            return 0;
        /* A stop (the pipe, checked above as the flag), or another signal: look again. */
    }
}
