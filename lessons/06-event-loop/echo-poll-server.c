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
    struct client *c = &s->clients[i];

    if (outbuf_pending(&c->out) == 0) {
        ssize_t n = send(s->fds[i].fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            c->broken = true; /* EPIPE, ECONNRESET: the client vanished */
            c->error = errno;
            return;
        }
        if (n > 0) {
            data += n;
            len -= (size_t)n;
            c->last_active = s->now;
        }
    }
    if (outbuf_append(&c->out, data, len) < 0) {
        diag_warn("%s: output buffer:", c->peer); /* ENOMEM */
        c->broken = true;
    }
}

/* One read: as much as the output buffer can still take, since every byte comes back. */
static void client_read(struct server *s, size_t i)
{
    struct client *c = &s->clients[i];
    size_t max = outbuf_room(&c->out);
    ssize_t n;

    if (max > sizeof s->buf)
        max = sizeof s->buf;
    n = read(s->fds[i].fd, s->buf, max);
    if (n > 0) {
        c->last_active = s->now;
        client_send(s, i, s->buf, (size_t)n); /* the echo */
    } else if (n == 0) {
        c->read_done = true; /* the client shut down its side: finish sending, then close */
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        c->broken = true; /* ECONNRESET: the client vanished */
        c->error = errno;
    }
}

/* Send what is queued, as much as the socket takes. */
static void client_write(struct server *s, size_t i)
{
    struct client *c = &s->clients[i];
    ssize_t n = outbuf_flush(&c->out, s->fds[i].fd);

    if (n < 0) {
        c->broken = true; /* EPIPE, ECONNRESET: the client vanished */
        c->error = errno;
    } else if (n > 0) {
        c->last_active = s->now;
    }
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
    struct client *c = &s->clients[i];

    if (c->lingering) {
        if (s->now >= c->linger_until)
            c->broken = true;
    } else if (s->opt.idle_timeout > 0 &&
               s->now - c->last_active >= (long long)s->opt.idle_timeout * 1000) {
        if (!s->opt.quiet)
            fprintf(stderr, "idle for %u s: %s\n", s->opt.idle_timeout, c->peer);
        c->broken = true;
    }
}

static void resume_accepting(struct server *s);

/* Close client i; the last entry moves into its place. */
static void client_close(struct server *s, size_t i)
{
    struct client *c = &s->clients[i];

    close(s->fds[i].fd);
    outbuf_free(&c->out);
    if (!c->refused)
        s->nserved--;
    if (c->lingering)
        s->nlingering--;
    if (!s->opt.quiet && !c->refused) { /* a refused client's one line was "refused" */
        if (c->error != 0)
            fprintf(stderr, "closed %s: %s\n", c->peer, strerror(c->error));
        else
            fprintf(stderr, "closed %s\n", c->peer);
    }
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

/* After every turn: close client i if it is done, else set what poll() watches for it.
 * Returns false when it was closed. */
static bool client_update(struct server *s, size_t i)
{
    struct client *c = &s->clients[i];
    size_t pending = outbuf_pending(&c->out);
    short events = 0;

    if (c->refused && pending == 0 && !c->lingering && !c->broken)
        start_lingering(s, i);
    if (c->broken || (c->read_done && pending == 0 && !c->refused)) {
        client_close(s, i);
        return false;
    }
    if (c->lingering) {
        s->fds[i].events = POLLIN; /* only for the client's close (or bytes to drop) */
        return true;
    }
    if (outbuf_room(&c->out) == 0)
        c->read_paused = true; /* backpressure: the client must read before it may send */
    else if (pending == 0)
        c->read_paused = false; /* drained: read again */
    if (!c->read_done && !c->read_paused)
        events |= POLLIN;
    if (pending > 0)
        events |= POLLOUT; /* only while output waits: a writable socket is the usual case */
    s->fds[i].events = events;
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
    if (s->opt.max_clients > 0 && s->nserved >= s->opt.max_clients) {
        if (!s->opt.quiet)
            fprintf(stderr, "refused %s: too many clients\n", c->peer);
        c->refused = true;
        c->read_done = true;
        client_send(s, i, busy_text, strlen(busy_text)); /* a new socket takes it whole */
    } else {
        s->nserved++;
        s->served_one = true;
        if (!s->opt.quiet)
            fprintf(stderr, "connection from %s\n", c->peer);
    }
    client_update(s, i);
}

/* Accept every client waiting in the backlog, until EAGAIN. */
static void accept_clients(struct server *s)
{
    while (s->fds[0].events & POLLIN) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;
        int fd =
            accept4(s->fds[0].fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return; /* the backlog is empty */
            if (errno == EINTR || errno == ECONNABORTED)
                continue; /* a client that gave up before we took it is no failure */
            if (net_accept_failed_one(errno)) { /* that client's network failed, or a firewall */
                diag_warn("accept: %s: skipping that connection", strerror(errno));
                continue;
            }
            pause_accepting(s, errno); /* EMFILE, ENFILE, ENOBUFS, ENOMEM */
            return;
        }
        client_open(s, fd, &peer);
        poll_listener(s); /* --once: no more after the first */
    }
}

/* ---- the loop ------------------------------------------------------------------------ */

/* How long poll() may sleep: until the first idle or lingering deadline, or the next
 * accept() retry; NULL: no deadline. It looks at every client: poll() itself costs that. */
static struct timespec *wait_time(const struct server *s, struct timespec *ts)
{
    long long deadline = s->accept_paused ? s->accept_retry_at : -1, left;

    for (size_t i = 1; i < s->n && (s->opt.idle_timeout > 0 || s->nlingering > 0); i++) {
        const struct client *c = &s->clients[i];
        long long due = -1;
        if (c->lingering)
            due = c->linger_until;
        else if (s->opt.idle_timeout > 0)
            due = c->last_active + (long long)s->opt.idle_timeout * 1000;
        if (due >= 0 && (deadline < 0 || due < deadline))
            deadline = due;
    }
    if (deadline < 0)
        return NULL;                      /* sleep until something happens */
    left = deadline - clock_now_ms() + 1; /* +1: wake after the deadline, not just before */
    if (left < 0)
        left = 0;
    ts->tv_sec = (time_t)(left / 1000);
    ts->tv_nsec = (long)(left % 1000) * 1000000;
    return ts;
}

/* Serve until SIGINT or SIGTERM (or, with --once, until the one client leaves). SIGINT and
 * SIGTERM stay blocked except inside ppoll(), which lets them in only while it sleeps: a
 * stop that comes while the loop works waits for the next ppoll(), which then returns at
 * once with EINTR. (A flag checked before a plain poll() would leave a gap in which the
 * signal is caught, and the server sleeps on until some client wakes it.) Returns 0, or -1
 * when poll fails. */
static int serve(struct server *s)
{
    sigset_t stop_set, wait_mask;

    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &stop_set, &wait_mask) < 0)
        return -1;
    sigdelset(&wait_mask, SIGINT);
    sigdelset(&wait_mask, SIGTERM);
    while (!sig_stop_requested()) {
        struct timespec ts;
        int n = ppoll(s->fds, (nfds_t)s->n, wait_time(s, &ts), &wait_mask);
        if (n < 0 && errno != EINTR)
            return -1;
        s->now = clock_now_ms();
        if (n < 0)
            continue; /* a signal: the loop's condition says whether it was a stop */
        serve_clients(s);
        if (s->fds[0].revents & POLLIN)
            accept_clients(s);
        if (s->accept_paused && s->now >= s->accept_retry_at)
            resume_accepting(s);
        if (s->opt.once && s->served_one && s->n == 1)
            break;
    }
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
