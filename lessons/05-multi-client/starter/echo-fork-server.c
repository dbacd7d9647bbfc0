/* echo-fork-server - lesson 03's echo server with a process per client: YOUR TURN.
 *
 * The starter of lesson 05 (make starter copies it into yours/). What stays is the kit's:
 * the command line, the listener, the accept loop and the busy line (multi.c), the echo
 * itself (echo.c, lesson 03's), the table of children below, and main. A process per client
 * is yours to write, TODO(1) to TODO(4), in that order; the threads come next, TODO(5) to
 * TODO(8) in mt_server.c and registry.c. After each, `make test-yours` shows which stage
 * passes now. As shipped, this server serves its clients itself, one at a time, as lesson
 * 03's does: stages 1 and 2 pass already.
 *
 * parent: listen -> loop { accept; fork; close the client's socket } -> SIGTERM
 *         -> close the listener -> SIGTERM to every child -> wait for each -> exit 0
 * child:  close the listener -> echo until EOF or a stop -> close the socket -> exit 0
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "echo.h"
#include "multi.h"
#include "net.h"
#include "sig.h"

/* ---- the children, shared with the SIGCHLD handler ------------------------------------ */

/* Every child not yet reaped: its pid in a slot, 0 in a free slot. The SIGCHLD handler frees
 * slots whenever a child ends, in the middle of whatever the parent was doing, so what it
 * shares with the rest of the program is lock-free atomics: the only objects that C lets a
 * handler and the code it interrupted both touch. The table is 4 MB of address space, of
 * which only the slots used are ever touched. */
static _Atomic pid_t child_pid[MULTI_LARGEST_MAX_CLIENTS];
static _Atomic int slots_used; /* one past the highest slot ever filled: where to look */
static _Atomic int children;   /* slots filled: children running, or ended and not reaped */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2 && sizeof(pid_t) == sizeof(int),
               "the handler's objects must be lock-free");

/* Note a new child. SIGCHLD is blocked meanwhile (see start_child), and children is below
 * --max-clients, so a free slot exists. */
static void remember_child(pid_t pid)
{
    int i = 0;

    while (child_pid[i] != 0)
        i++;
    child_pid[i] = pid;
    if (i >= slots_used)
        slots_used = i + 1;
    children++;
}

/* Free the slot of a child just reaped (async-signal-safe: atomics only). */
static void forget_child(pid_t pid)
{
    for (int i = 0; i < slots_used; i++) {
        if (child_pid[i] == pid) {
            child_pid[i] = 0;
            children--;
            return;
        }
    }
}

/* The SIGCHLD handler: reap every child that has ended. */
static void reap_children(int signo)
{
    (void)signo;
    /* TODO(2): reap every child that has ended, not just one: signals do not queue, and one
     * SIGCHLD may stand for several children. In a loop, pid = waitpid(-1, NULL, WNOHANG)
     * while it returns a pid (> 0), and forget_child(pid) frees its slot; WNOHANG, or the
     * call waits for a child still serving its client, and the parent stops accepting. The
     * loop ends on a call that finds nobody, which may fail with ECHILD: save errno on entry
     * and restore it before you return, or the code this handler interrupted reads ECHILD.
     * README: "Reaping: SIGCHLD and a waitpid loop". Checked by: stage 4. */
    (void)forget_child; /* used once you have written TODO 2 */
}

/* SA_RESTART: a system call that SIGCHLD interrupts starts again instead of failing with
 * EINTR (the stop-aware waits return EINTR anyway, and wait again). SA_NOCLDSTOP: a child
 * stopped (SIGSTOP) has not ended; no signal for that. Returns 0, or -1 with errno set. */
static int reap_on_sigchld(void)
{
    struct sigaction sa = {0};

    sa.sa_handler = reap_children;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGCHLD, &sa, NULL);
}

/* Block (or, with SIG_UNBLOCK, let in again) SIGCHLD in the parent. */
static void mask_sigchld(int how)
{
    sigset_t chld;

    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    if (sigprocmask(how, &chld, NULL) < 0)
        die("sigprocmask:");
}

/* ---- a child: one client ----------------------------------------------------------------- */

/* One client's echo, from its first byte to the closed socket and the "closed" line. */
static void serve_client(const struct multi_options *opt, int fd, const char *peer)
{
    if (echo_serve(fd) == 0)
        net_linger(fd, NET_LINGER_MS); /* the last echo must arrive before we close */
    else
        echo_report(peer, errno); /* nothing for a stop (EINTR) or a client that vanished */
    close(fd);
    multi_log(opt, "closed", peer, "");
}

/* ---- the parent: accept, fork, stop ------------------------------------------------------ */

/* Fork a child for the accepted fd, or turn the client away. */
static void start_child(const struct multi_options *opt, int listen_fd, int fd,
                        const struct sockaddr_storage *ss)
{
    char peer[NET_ENDPOINT_LEN];

    net_format_addr((const struct sockaddr *)ss, peer, sizeof peer);
    /* TODO(4): --max-clients: when `children` (the children not yet reaped) has reached
     * opt->max_clients, log "refused" with ": too many clients" (multi_log), turn the client
     * away with multi_refuse(fd), and return. README: "A cap: --max-clients".
     * Checked by: stage 6. */
    multi_log(opt, "connection from", peer, ""); /* before the child can log "closed" */
    /* TODO(1): a process per client. pid = fork(); the child (pid 0) closes the listening
     * socket (the parent's: a child holding it keeps the port open), serves the client with
     * serve_client() and exits (exit(EXIT_SUCCESS)); the parent notes the child
     * (remember_child(pid)), closes fd (the child has its own copy: the connection ends when
     * the last copy is closed) and returns to accept at once. Block SIGCHLD from before
     * fork() until the pid is noted (mask_sigchld(SIG_BLOCK), then SIG_UNBLOCK in both
     * processes): a child may end before fork() has returned in the parent, and its handler
     * would reap a pid not yet in the table. If fork() fails (pid -1): diag_warn() with
     * ": cannot start a process:", multi_refuse(fd), log "closed".
     * README: "A process per client: echo-fork-server". Checked by: stage 3. */
    (void)listen_fd;
    (void)remember_child;        /* used once you have written TODO 1 */
    serve_client(opt, fd, peer); /* for now the parent serves the client itself */
}

/* Stop every child and wait for each. */
static void stop_children(void)
{
    /* TODO(3): block SIGCHLD (mask_sigchld(SIG_BLOCK)): the handler then reaps nothing more,
     * so every pid in the table stays a child of ours. Send SIGTERM (kill) to every child in
     * the table (child_pid[0] to child_pid[slots_used - 1], 0 in a free slot); each stops at
     * its next wait, closes its client and logs "closed". Then wait for each one
     * (waitpid(pid, NULL, 0), again while it fails with EINTR), freeing its slot.
     * README: "Stopping the children". Checked by: stage 5. */
    (void)mask_sigchld; /* used once you have written TODO 1 and TODO 3 */
}

int main(int argc, char **argv)
{
    struct multi_options opt;
    struct sockaddr_storage peer;
    int listen_fd, fd;

    diag_set_progname(argv[0]);
    multi_parse_args(argc, argv, &opt);
    if (sig_setup_stop() < 0) /* before any fork: the children inherit it */
        die("signals:");
    if (reap_on_sigchld() < 0)
        die("signals:");
    listen_fd = multi_listen(&opt);
    while ((fd = multi_accept(listen_fd, &peer)) >= 0)
        start_child(&opt, listen_fd, fd, &peer);
    close(listen_fd); /* stop accepting: new connections are refused by the kernel */
    stop_children();
    return EXIT_SUCCESS;
}
