/* sig.c - race-free stop signals: blocked everywhere, let in only while waiting. */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include "sig.h"

/* Written by the handler, read by every thread (a client thread of a threaded server
 * checks it in sig_wait_fd): a lock-free atomic, which C11 allows in a signal handler
 * and which, unlike volatile sig_atomic_t, is also safe to share between threads. */
static _Atomic int stop_flag;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the stop flag must be lock-free");

/* The mask to wait with: the thread's old mask minus SIGINT/SIGTERM. Only the thread that
 * called sig_setup_stop() uses it; other threads wait with their own mask, so the signal is
 * always delivered to the thread that can act on it. */
static sigset_t wait_mask;
static _Thread_local bool is_stop_thread;

static void on_stop_signal(int signo)
{
    (void)signo;
    stop_flag = 1;
}

int sig_setup_stop(void)
{
    struct sigaction sa = {0};
    sigset_t stop_set;

    sa.sa_handler = SIG_IGN; /* a peer that vanishes gives EPIPE, not death */
    if (sigaction(SIGPIPE, &sa, NULL) < 0)
        return -1;
    sa.sa_handler = on_stop_signal; /* no SA_RESTART: ppoll must return EINTR */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
        return -1;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &stop_set, &wait_mask) < 0)
        return -1;
    sigdelset(&wait_mask, SIGINT);
    sigdelset(&wait_mask, SIGTERM);
    is_stop_thread = true;
    return 0;
}

bool sig_stop_requested(void)
{
    return stop_flag != 0;
}

/* Milliseconds left until deadline (never negative); deadline is CLOCK_MONOTONIC. */
static int ms_left(const struct timespec *deadline)
{
    struct timespec now;
    long long ms;

    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
         (deadline->tv_nsec - now.tv_nsec) / 1000000;
    return ms < 0 ? 0 : (int)ms;
}

int sig_wait_fd(int fd, short events, int timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = events};
    struct timespec deadline;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    for (;;) {
        struct timespec left, *tsp = NULL;
        int n;

        if (stop_flag) {
            errno = EINTR;
            return -1;
        }
        if (timeout_ms >= 0) {
            int ms = ms_left(&deadline);
            left.tv_sec = ms / 1000;
            left.tv_nsec = (long)(ms % 1000) * 1000000;
            tsp = &left;
        }
        n = ppoll(&pfd, 1, tsp, is_stop_thread ? &wait_mask : NULL);
        if (n > 0)
            return 1; /* ready, or POLLERR/POLLHUP: the next call reports it */
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return -1;
        /* EINTR without a stop (another signal): wait again. */
    }
}
