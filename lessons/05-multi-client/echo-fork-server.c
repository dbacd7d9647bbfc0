/* echo-fork-server - lesson 03's echo server with a process per client.
 *
 * What UNP, CS:APP and Beej teach first: the parent only accepts, and for each client it
 * forks a child that serves that client and exits. fork() gives the child a copy of every
 * descriptor, so each side closes what is not its own: the parent the client's socket, the
 * child the listener. A child that has exited stays a zombie (its exit status, kept for its
 * parent) until the parent waits for it: the SIGCHLD handler reaps every ended child.
 *
 * parent: listen -> loop { accept; fork; close the client's socket } -> SIGTERM
 *         -> close the listener -> SIGTERM to every child -> wait for each -> exit 0
 * child:  close the listener -> echo until EOF or a stop -> close the socket -> exit 0
 *
 * Portable POSIX: fork, waitpid, sigaction and sigprocmask work alike on Linux, macOS and
 * the BSDs.
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

/* The SIGCHLD handler: reap every child that has ended, not just one (signals do not queue:
 * one SIGCHLD may stand for several children), and never wait for one still running
 * (WNOHANG). The loop ends on a waitpid() that finds nobody: 0, or -1 with errno ECHILD once
 * no child is left. That errno would overwrite the errno of whatever the handler interrupted
 * (accept() failing with EMFILE, say, just before its caller reads errno), so it is saved and
 * restored. */
static void reap_children(int signo)
{
    int saved_errno = errno;
    pid_t pid;

    (void)signo;
    while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
        forget_child(pid);
    errno = saved_errno;
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

/* The child: serve one client, then exit. It keeps the stop handling it inherits (sig.h):
 * SIGINT or SIGTERM, from its parent's stop or a Ctrl-C, makes its next wait return EINTR, and
 * the conversation ends. exit(), not _exit(): the parent flushed stdout before its first fork,
 * so the child has no copied stdio buffer to write out twice, and exit() runs the handlers
 * that close common/'s descriptors (sig.c's pipe). */
static _Noreturn void serve_child(const struct multi_options *opt, int listen_fd, int fd,
                                  const char *peer)
{
    close(listen_fd); /* the parent's: a child holding it would keep the port open */
    serve_client(opt, fd, peer);
    exit(EXIT_SUCCESS);
}

/* ---- the parent: accept, fork, stop ------------------------------------------------------ */

/* Fork a child for the accepted fd, or turn the client away. */
static void start_child(const struct multi_options *opt, int listen_fd, int fd,
                        const struct sockaddr_storage *ss)
{
    char peer[NET_ENDPOINT_LEN];
    pid_t pid;
    int fork_errno;

    net_format_addr((const struct sockaddr *)ss, peer, sizeof peer);
    if ((size_t)children >= opt->max_clients) {
        multi_log(opt, "refused", peer, ": too many clients");
        multi_refuse(fd);
        return;
    }
    multi_log(opt, "connection from", peer, ""); /* before the child can log "closed" */
    /* The handler must not reap the child before its pid is noted: a child may end at once. */
    mask_sigchld(SIG_BLOCK);
    pid = fork();
    fork_errno = errno;
    if (pid == 0) {
        mask_sigchld(SIG_UNBLOCK);
        serve_child(opt, listen_fd, fd, peer);
    }
    if (pid > 0)
        remember_child(pid);
    mask_sigchld(SIG_UNBLOCK);
    if (pid < 0) {
        errno = fork_errno;
        diag_warn("%s: cannot start a process:", peer);
        multi_refuse(fd);
        multi_log(opt, "closed", peer, "");
        return;
    }
    close(fd); /* the child has its own copy: the connection ends when the child closes it */
}

/* Stop every child and wait for each. SIGCHLD stays blocked: the handler reaps nothing more,
 * so every pid in the table is a child of ours (running or a zombie), never a pid that the
 * system has given to another process since. */
static void stop_children(void)
{
    mask_sigchld(SIG_BLOCK);
    for (int i = 0; i < slots_used; i++) {
        if (child_pid[i] != 0)
            (void)kill(child_pid[i], SIGTERM);
    }
    for (int i = 0; i < slots_used; i++) {
        pid_t pid = child_pid[i];
        if (pid == 0)
            continue;
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        child_pid[i] = 0;
        children--;
    }
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
#ifndef NO_REAPING /* `make zombies` builds a copy without it, to show what it prevents */
    if (reap_on_sigchld() < 0)
        die("signals:");
#endif
    listen_fd = multi_listen(&opt);
    while ((fd = multi_accept(listen_fd, &peer)) >= 0)
        start_child(&opt, listen_fd, fd, &peer);
    close(listen_fd); /* stop accepting: new connections are refused by the kernel */
    stop_children();
    return EXIT_SUCCESS;
}
