/* stop-check - the stop of common/sig.c, in threads and across fork().
 *
 *   stop-check threads N   sig_setup_stop(), then N threads and the main thread wait in
 *                          sig_wait_fd() on descriptors that never get ready. Prints
 *                          "waiting: N+1 threads", and after SIGTERM or SIGINT
 *                          "woken: N+1 of N+1 waits ended with EINTR", exit 0.
 *   stop-check fork        sig_setup_stop(), then fork(). Each process prints
 *                          "parent PID waiting" or "child PID waiting" and waits. A stop of
 *                          the child ends the child alone ("child: stopped"); the parent,
 *                          watching a socket the child held, says "parent: the child has
 *                          ended" and waits on; a stop of the parent then ends it
 *                          ("parent: stopped"), exit 0.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "args.h"
#include "diag.h"
#include "sig.h"

static const char usage[] = "threads N | fork";

enum { MAX_THREADS = 64 };

static atomic_int woken_by_stop;

/* Wait on a silent descriptor until a stop; count the wait if it ended with EINTR. */
static void *wait_for_stop(void *arg)
{
    int fd = *(const int *)arg;

    if (sig_wait_fd(fd, POLLIN, -1) < 0 && errno == EINTR)
        woken_by_stop++;
    return NULL;
}

static int check_threads(int count)
{
    pthread_t threads[MAX_THREADS];
    int silent[2], fd;

    if (pipe(silent) < 0) /* nobody writes: its read end never becomes readable */
        die("pipe:");
    fd = silent[0];
    for (int i = 0; i < count; i++) {
        int rc = pthread_create(&threads[i], NULL, wait_for_stop, &fd);
        if (rc != 0) {
            errno = rc;
            die("pthread_create:");
        }
    }
    printf("waiting: %d threads\n", count + 1);
    fflush(stdout);
    wait_for_stop(&fd);
    for (int i = 0; i < count; i++)
        pthread_join(threads[i], NULL);
    printf("woken: %d of %d waits ended with EINTR\n", (int)woken_by_stop, count + 1);
    close(silent[0]);
    close(silent[1]);
    return 0;
}

static int check_fork(void)
{
    int sv[2];
    pid_t child;

    /* A socket pair, not a pipe: the only pipes in either process are then sig.c's own. */
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        die("socketpair:");
    fflush(stdout);
    child = fork();
    if (child < 0)
        die("fork:");
    if (child == 0) {
        close(sv[0]);
        printf("child %ld waiting\n", (long)getpid());
        fflush(stdout);
        if (sig_wait_fd(-1, 0, -1) < 0 && errno == EINTR)
            printf("child: stopped\n");
        fflush(stdout);
        close(sv[1]); /* the parent sees EOF */
        return 0;
    }
    close(sv[1]);
    printf("parent %ld waiting\n", (long)getpid());
    fflush(stdout);
    if (sig_wait_fd(sv[0], POLLIN, -1) == 1) {
        printf("parent: the child has ended\n");
        fflush(stdout);
        if (sig_wait_fd(-1, 0, -1) < 0 && errno == EINTR)
            printf("parent: stopped\n");
    }
    close(sv[0]);
    waitpid(child, NULL, 0);
    return 0;
}

int main(int argc, char **argv)
{
    diag_set_progname(argv[0]);
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        diag_print_usage(usage);
        return 0;
    }
    if (argc < 2 || argc > 3)
        die_usage(usage);
    if (sig_setup_stop() < 0)
        die("signals:");
    if (argc == 3 && strcmp(argv[1], "threads") == 0)
        return check_threads((int)args_count("threads", argv[2], 0, MAX_THREADS, usage));
    if (argc == 2 && strcmp(argv[1], "fork") == 0)
        return check_fork();
    die_usage(usage);
}
