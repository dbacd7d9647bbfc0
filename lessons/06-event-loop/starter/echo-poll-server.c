/* echo-poll-server - the echo server of lesson 03 for many clients at once: one thread, poll().
 *
 * The step between a thread per client (lesson 05) and epoll (echo-event-server). One
 * thread keeps every socket in one array of struct pollfd and asks poll() which are ready,
 * then reads or writes only those, with calls that never block: every socket is
 * non-blocking, so a call that would wait says EAGAIN instead.
 *
 * What a client sent and its socket could not take back at once waits in that client's
 * output buffer (outbuf.h, 64 KiB). The server reads from a client only as much as the
 * buffer can still hold, and not at all while it is full: a client that sends without
 * reading costs at most 64 KiB, and TCP's flow control stops it (backpressure).
 *
 * What epoll removes: every turn, poll() copies the whole array into the kernel, which
 * checks every socket in it, and the loop walks the whole array again to find the few
 * that are ready. With 10,000 idle clients, each turn costs 10,000 entries, however few
 * clients are busy. `make bench` measures it.
 *
 * Linux: accept4() and ppoll(), which the BSDs have too (not macOS); poll() is POSIX.
 *
 * YOUR TURN: this is the starter. The frame is here: the options, the structures, the
 * arrays, listening, stopping, main. The loop, the reads and writes, the output buffer and
 * backpressure are yours to write, TODO(1) to TODO(8), in that order (TODO(3) and TODO(5)
 * continue in outbuf.c). After each, `make test-yours` shows which stage passes now; the
 * README's "Your turn" lists them.
 */
#define _GNU_SOURCE /* accept4, ppoll */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "clock.h"
#include "diag.h"
#include "net.h"
#include "outbuf.h"
#include "sig.h"

static const char usage[] = "[-b ADDR] [--idle-timeout SECS] [--max-clients N] [--once] [-q] PORT";
static const char busy_text[] = "Server busy, try again later.\n"; /* as lesson 05 says it */

enum {
    READ_MAX = 64 * 1024,   /* most bytes read from one client per turn */
    FIRST_CAP = 64,         /* entries of the first arrays; they double when full */
    ACCEPT_RETRY_MS = 1000, /* out of descriptors: try accept() again this often */
    MAX_IDLE_TIMEOUT = 86400,
    MAX_CLIENTS_LIMIT = 10000000,
};

struct options {
    const char *addr; /* -b: where to listen (default 127.0.0.1, loopback only) */
    const char *port;
    unsigned idle_timeout; /* seconds of silence before a client is closed; 0: never */
    size_t max_clients;    /* clients served at once; 0: any */
    bool once;             /* serve one client, then exit when it leaves */
    bool quiet;            /* no connection log */
};

/* One client. Its socket is in the struct pollfd of the same index. */
struct client {
    bool read_done;         /* EOF seen: send what is left, then close */
    bool read_paused;       /* the output buffer filled up: read again once it is empty */
    bool refused;           /* --max-clients: told busy_text, then ended by the server */
    bool lingering;         /* refused and half-closed: dropping input until it closes */
    bool broken;            /* gone, idle too long, or lingered long enough: close now */
    int error;              /* why it is gone (errno), for the log; or 0 */
    long long last_active;  /* ms, CLOCK_MONOTONIC: last byte in or out */
    long long linger_until; /* ms: when lingering gives up */
    struct outbuf out;      /* what the socket has not taken yet */
    char peer[NET_ENDPOINT_LEN];
};

/* fds[0] is the listening socket; fds[i] and clients[i], from 1 to n - 1, one client each.
 * The two arrays grow together; a closed client's place is taken by the last one. */
struct server {
    struct options opt;
    struct pollfd *fds;
    struct client *clients; /* clients[0] is unused: the listener's place */
    size_t n, cap;          /* entries in use (the listener included), entries allocated */
    size_t nserved;         /* clients served now, refused ones not counted */
    size_t nlingering;      /* of the clients, those lingering */
    bool served_one;        /* --once: the one client has come */
    bool accept_paused;     /* out of descriptors: the listener is not polled */
    bool accept_error_logged;
    long long accept_retry_at; /* ms: when to try accept() again */
    long long now;             /* ms, read once per turn */
    char buf[READ_MAX];        /* one read buffer for all: one thread reads at a time */
};

/* ---- the command line ------------------------------------------------------------- */

static void parse_args(int argc, char **argv, struct options *opt)
{
    static const struct option longopts[] = {
        {"bind", required_argument, NULL, 'b'},
        {"idle-timeout", required_argument, NULL, 'i'},
        {"max-clients", required_argument, NULL, 'm'},
        {"once", no_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    *opt = (struct options){.addr = "127.0.0.1"};
    opterr = 0; /* our own message and the usage line, not getopt's message */
    while ((c = getopt_long(argc, argv, ":b:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            opt->addr = optarg;
            break;
        case 'i': /* 0 turns the timeout off, as if not given */
            opt->idle_timeout =
                (unsigned)args_count("--idle-timeout", optarg, 0, MAX_IDLE_TIMEOUT, usage);
            break;
        case 'm':
            opt->max_clients = args_count("--max-clients", optarg, 1, MAX_CLIENTS_LIMIT, usage);
            break;
        case 'o':
            opt->once = true;
            break;
        case 'q':
            opt->quiet = true;
            break;
        case 'h':
            diag_print_usage(usage);
            exit(EXIT_SUCCESS);
        default:
            die_bad_option(usage, c, argv, longopts);
        }
    }
    args_need(argc, argv, "PORT", usage);
    opt->port = args_port(argv[optind], true, usage);
}

/* ---- one client -------------------------------------------------------------------- */

/* Bytes for client i: straight to its socket while nothing is queued (usually the socket
 * takes them all), the rest queued behind what waits. The caller read no more than the
 * buffer can hold, so queuing cannot fail for want of room. */
static void client_send(struct server *s, size_t i, const char *data, size_t len)
{
    /* TODO(3): the echo. While nothing waits in client i's output buffer, send() the bytes
     * at once, with MSG_NOSIGNAL; whatever send() did not take (all of them when something
     * already waits: bytes leave in order) goes into the buffer with outbuf_append(), to
     * be sent when the socket has room (TODO(5)). send() returning -1 with EAGAIN or
     * EWOULDBLOCK took nothing, EINTR likewise; any other error (EPIPE, ECONNRESET): the
     * client is gone, set broken and error. Bytes sent: note s->now in last_active.
     * README: "First step: `poll()` and echo-poll-server", "What can go wrong".
     * Checked by: stage 1, stage 3. */
    (void)s;
    (void)i;
    (void)data;
    (void)len;
}

/* One read: as much as the output buffer can still take, since every byte comes back. */
static void client_read(struct server *s, size_t i)
{
    /* TODO(3): one read() from client i into s->buf, of no more bytes than its output
     * buffer can still take (outbuf_room(): every byte comes back), nor sizeof s->buf; none
     * at all when the buffer is full (a read() of 0 bytes returns 0, which is no EOF).
     * Bytes: note s->now in last_active, and echo them with client_send(). 0: the client's
     * EOF, set read_done (client_update() closes it once its buffer is empty). -1 with
     * EAGAIN, EWOULDBLOCK or EINTR: nothing to read now, no error. Any other error
     * (ECONNRESET): set broken, and error = errno for the log.
     * README: "First step: `poll()` and echo-poll-server". Checked by: stage 1, stage 3. */
    (void)s;
    (void)i;
    (void)client_send;
}

/* Send what is queued, as much as the socket takes. */
static void client_write(struct server *s, size_t i)
{
    /* TODO(5): poll() said client i can take bytes (POLLOUT): outbuf_flush() what waits in
     * its output buffer. -1: the client is gone (EPIPE, ECONNRESET), set broken and error;
     * bytes sent: note s->now in last_active.
     * README: "What can go wrong" (Forgetting EPOLLOUT). Checked by: stage 3. */
    (void)s;
    (void)i;
}

/* Lingering: read and drop; the client's EOF, or an error, ends it. */
static void drop_input(struct server *s, size_t i)
{
    ssize_t n = read(s->fds[i].fd, s->buf, sizeof s->buf);

    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        s->clients[i].broken = true; /* done: close, with nothing to report */
}

/* poll() reported client i. POLLERR and POLLHUP are always reported: the next read or
 * write returns the error, which closes the connection. */
static void client_event(struct server *s, size_t i, short revents)
{
    struct client *c = &s->clients[i];

    if (c->lingering) {
        drop_input(s, i);
        return;
    }
    if ((revents & (POLLOUT | POLLERR | POLLHUP)) && outbuf_pending(&c->out) > 0)
        client_write(s, i);
    if ((revents & (POLLIN | POLLERR | POLLHUP)) && (s->fds[i].events & POLLIN) && !c->broken)
        client_read(s, i);
}

/* Time is up for client i: silent for --idle-timeout seconds, or lingered long enough. */
static void check_deadlines(struct server *s, size_t i)
{
    /* TODO(7): --idle-timeout. A client silent (no byte in or out) for opt.idle_timeout
     * seconds, when that is not 0: log "idle for N s: ADDR:PORT" (unless -q) and set
     * broken. A lingering client whose linger_until has passed: set broken.
     * README: "Build and run" (--idle-timeout). Checked by: stage 6. */
    (void)s;
    (void)i;
}

static void resume_accepting(struct server *s);

/* Close client i; the last entry moves into its place. */
static void client_close(struct server *s, size_t i)
{
    struct client *c = &s->clients[i];

    /* TODO(4): client i leaves: close() its socket, outbuf_free() its buffer, count it
     * out (nserved, unless refused; nlingering, if lingering), and log "closed ADDR:PORT",
     * or "closed ADDR:PORT: strerror(error)" when error is set (unless -q or refused).
     * README: "First step: `poll()` and echo-poll-server". Checked by: stage 1, stage 2. */
    (void)c;
    s->n--;
    s->fds[i] = s->fds[s->n];
    s->clients[i] = s->clients[s->n];
    resume_accepting(s); /* a descriptor is free again */
}

/* A refused client has its busy line sent: half-close (a FIN follows the line) and drop
 * what it sends until it closes too, or NET_LINGER_MS pass. Closing at once with its bytes
 * unread would make the kernel send a reset, which can destroy the busy line. */
static void start_lingering(struct server *s, size_t i)
{
    struct client *c = &s->clients[i];

    if (shutdown(s->fds[i].fd, SHUT_WR) < 0) {
        c->broken = true;
        return;
    }
    c->lingering = true;
    c->linger_until = s->now + NET_LINGER_MS;
    s->nlingering++;
}

/* After every turn: client i closed if done, else what poll() watches for it set. Returns
 * false when it was closed. */
static bool client_update(struct server *s, size_t i)
{
    /* After every turn: close client i if it is done, else set what poll() watches for it.
     * TODO(4): close it (client_close(), return false) once it is broken, or once its input
     * has ended (read_done) and nothing waits in its output buffer (a refused client is
     * ended by lingering instead, TODO(8)).
     * TODO(5): ask for POLLOUT only while bytes wait in its output buffer: a socket can
     * almost always take bytes, and a readiness the loop does not act on is reported again
     * at once (a busy loop).
     * TODO(6): backpressure: ask for POLLIN only while its input has not ended and the
     * client may send: once its buffer is full (outbuf_room() is 0), set read_paused, and
     * clear it only once the buffer is empty. Meanwhile TCP stops the client; a POLLIN the
     * loop would not act on would be reported again at once (a busy loop).
     * TODO(8): a refused client whose busy line has left (nothing pending): start_lingering(),
     * and from then on watch POLLIN only (its close, or bytes to drop).
     * README: "First step: `poll()` and echo-poll-server", "Backpressure, with the 1 GiB client".
     * Checked by: stage 1, stage 2, stage 3, stage 4, stage 6. */
    (void)start_lingering;
    s->fds[i].events = POLLIN; /* for now: every client, always */
    return true;
}

/* Serve every client poll() reported, and close the ones that are done. From the last
 * entry down: closing one moves the last entry into its place, one already seen. */
static void serve_clients(struct server *s)
{
    for (size_t i = s->n; i-- > 1;) {
        if (s->fds[i].revents != 0)
            client_event(s, i, s->fds[i].revents);
        check_deadlines(s, i);
        client_update(s, i);
    }
}

/* ---- accepting --------------------------------------------------------------------- */

/* The listener is polled unless accepting is paused or --once has its client. */
static void poll_listener(struct server *s)
{
    bool on = !s->accept_paused && !(s->opt.once && s->served_one);

    s->fds[0].events = on ? POLLIN : 0;
}

/* accept() failed for want of descriptors or memory. The client stays in the backlog, and
 * poll() would report the listener again at once: a busy loop. So stop polling it until a
 * client closes or a second has passed. */
static void pause_accepting(struct server *s, int error)
{
    if (!s->accept_error_logged)
        diag_warn("accept: %s: serving the %zu open connections, accepting again when one "
                  "closes",
                  strerror(error), s->n - 1);
    s->accept_error_logged = true;
    s->accept_paused = true;
    s->accept_retry_at = s->now + ACCEPT_RETRY_MS;
    poll_listener(s);
}

static void resume_accepting(struct server *s)
{
    s->accept_paused = false;
    poll_listener(s);
}

/* Both arrays twice as large. Returns 0, or -1 (out of memory; nothing lost). */
static int grow(struct server *s)
{
    size_t cap = s->cap * 2;
    struct pollfd *fds = realloc(s->fds, cap * sizeof *fds);
    struct client *clients;

    if (fds == NULL)
        return -1;
    s->fds = fds;
    clients = realloc(s->clients, cap * sizeof *clients);
    if (clients == NULL)
        return -1;
    s->clients = clients;
    s->cap = cap;
    return 0;
}

/* A new client on fd: an entry at the end of the arrays, served or refused. */
static void client_open(struct server *s, int fd, const struct sockaddr_storage *peer)
{
    struct client *c;
    size_t i = s->n;

    if (s->n == s->cap && grow(s) < 0) {
        diag_warn("out of memory: closing a new connection");
        close(fd);
        return;
    }
    s->n++;
    s->fds[i] = (struct pollfd){.fd = fd, .events = POLLIN};
    c = &s->clients[i];
    *c = (struct client){.last_active = s->now};
    net_format_addr((const struct sockaddr *)peer, c->peer, sizeof c->peer);
    /* TODO(8): --max-clients. When opt.max_clients is set and nserved has reached it, log
     * "refused ADDR:PORT: too many clients" (unless -q), mark it refused and read_done, and
     * client_send() it busy_text; it is then ended by lingering (TODO(8) in
     * client_update()), and not counted in nserved.
     * README: "Build and run" (--max-clients). Checked by: stage 6. */
    (void)busy_text;
    s->nserved++;
    s->served_one = true;
    if (!s->opt.quiet)
        fprintf(stderr, "connection from %s\n", c->peer);
    client_update(s, i);
}

/* Accept every client waiting in the backlog, until EAGAIN. */
static void accept_clients(struct server *s)
{
    /* TODO(2): accept every client waiting in the backlog, as long as the listener is
     * polled (s->fds[0].events has POLLIN): accept4() with SOCK_NONBLOCK | SOCK_CLOEXEC,
     * client_open() the new socket with the peer's address, then poll_listener() (--once
     * takes no more). Until accept4() says EAGAIN or EWOULDBLOCK: the backlog is empty.
     * EINTR, ECONNABORTED (a client that gave up): go on. An error of that one client's
     * network (net_accept_failed_one()): diag_warn("accept: %s: skipping that
     * connection", strerror(errno)), and go on. Any other (EMFILE, ENFILE, ENOBUFS,
     * ENOMEM): pause_accepting(s, errno), and return.
     * README: "First step: `poll()` and echo-poll-server", "What can go wrong".
     * Checked by: stage 1, stage 2, stage 7. */
    (void)s;
    (void)client_open;
    (void)pause_accepting;
}

/* ---- the loop ------------------------------------------------------------------------ */

/* How long poll() may sleep: until the first idle or lingering deadline, or the next
 * accept() retry; NULL: no deadline. It looks at every client: poll() itself costs that. */
static struct timespec *wait_time(const struct server *s, struct timespec *ts)
{
    /* TODO(7): how long ppoll() may sleep: until the first deadline, written into *ts. The
     * deadlines: each client's last_active + opt.idle_timeout seconds (when --idle-timeout
     * is set), each lingering client's linger_until, and accept_retry_at while accepting is
     * paused. Return NULL when there is none (sleep until something happens): as now.
     * README: "Build and run" (--idle-timeout). Checked by: stage 6, stage 7. */
    (void)s;
    (void)ts;
    return NULL;
}

/* Serve until SIGINT or SIGTERM (or, with --once, until the one client leaves). SIGINT and
 * SIGTERM stay blocked except inside ppoll(), which lets them in only while it sleeps: a
 * stop that comes while the loop works waits for the next ppoll(), which then returns at
 * once with EINTR. (A flag checked before a plain poll() would leave a gap in which the
 * signal is caught, and the server sleeps on until some client wakes it.) Returns 0, or -1
 * when poll fails. */
static int serve(struct server *s)
{
    /* TODO(1): the loop. Block SIGINT and SIGTERM with sigprocmask(), keeping the old mask
     * without them to wait with. Then, until sig_stop_requested(): ppoll() the s->n
     * entries of s->fds, with wait_time()'s deadline and that mask (so the stop signals
     * come in only while it sleeps); -1 with EINTR is a signal: go round. Then s->now =
     * clock_now_ms(); serve_clients(); accept_clients() when the listener's revents has POLLIN;
     * resume_accepting() once accept_retry_at has passed while paused; with --once, leave
     * the loop once its client has gone (served_one, and s->n back to 1). Returns 0, or -1
     * when ppoll() fails.
     * README: "First step: `poll()` and echo-poll-server". Checked by: stage 1, stage 2. */
    sigset_t none;

    (void)s;
    (void)wait_time;
    (void)serve_clients;
    (void)accept_clients;
    sigemptyset(&none);
    while (!sig_stop_requested()) /* until then: wait for SIGINT or SIGTERM, serving nobody */
        sigsuspend(&none);
    return 0;
}

/* ---- starting and stopping ------------------------------------------------------------ */

/* One descriptor per client: take all the system allows (the soft limit is often 1024).
 * Not fatal when refused: accept() then says EMFILE, and the server says so. */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Listen (non-blocking: accept() says EAGAIN once the backlog is empty) and make the
 * arrays, the listener first. Dies on failure. Returns the listening endpoint. */
static void start(struct server *s, char *endpoint, size_t len)
{
    char err[NET_ERR_LEN];
    int fd, flags;

    fd = net_listen(s->opt.addr, s->opt.port, SOMAXCONN, err, sizeof err);
    if (fd < 0)
        die("%s", err);
    if (net_local_endpoint(fd, endpoint, len, err, sizeof err) < 0)
        die("%s", err);
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        die("fcntl:");
    s->cap = FIRST_CAP;
    s->fds = malloc(s->cap * sizeof *s->fds);
    s->clients = malloc(s->cap * sizeof *s->clients);
    if (s->fds == NULL || s->clients == NULL)
        die("out of memory");
    s->fds[0] = (struct pollfd){.fd = fd, .events = POLLIN};
    s->n = 1;
    s->now = clock_now_ms();
}

/* Close every client and the listener, free the arrays. */
static void stop(struct server *s)
{
    while (s->n > 1)
        client_close(s, s->n - 1);
    close(s->fds[0].fd);
    free(s->fds);
    free(s->clients);
}

int main(int argc, char **argv)
{
    static struct server s; /* the read buffer is large: static, not on the stack */
    char endpoint[NET_ENDPOINT_LEN];
    int rc;

    diag_set_progname(argv[0]);
    parse_args(argc, argv, &s.opt);
    if (sig_setup_stop() < 0)
        die("signals:");
    raise_fd_limit();
    start(&s, endpoint, sizeof endpoint);
    printf("listening on %s\n", endpoint);
    if (fflush(stdout) == EOF)
        die("stdout:");
    rc = serve(&s);
    if (rc < 0)
        diag_warn("poll:");
    stop(&s);
    return rc < 0 ? EXIT_RUNTIME : EXIT_SUCCESS;
}
