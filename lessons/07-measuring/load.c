/* load.c - the load generator's event loop: connect all, then keep every window full.
 *
 * One thread drives every connection through one epoll set, level-triggered. A connection
 * writes as much of its request stream as its window allows; when the socket is full it
 * asks for EPOLLOUT, and every echo that completes a request opens the window again. Nothing
 * is copied per request: the bytes to send and the bytes expected back are both generated
 * from the stream (stream.h) into one scratch buffer.
 */
#define _GNU_SOURCE /* epoll, SOCK_NONBLOCK: the Linux event loop of lesson 06 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "load.h"
#include "net.h"
#include "sig.h"
#include "stream.h"

enum {
    /* One read or write. 64 KiB, the loopback segment size, measured faster than 256 KiB or
     * 1 MiB here: the bytes generated, sent, received and compared stay in the CPU's cache. */
    BUF_SIZE = 64 * 1024,
    MAX_EVENTS = 256,
    MAX_REPORTED = 10, /* failures named one by one; the rest are counted */
};
static const uint64_t NS = 1000000000u;

/* CONN_CLOSED is 0: a connection not yet started (calloc) owns nothing to close. */
enum conn_state { CONN_CLOSED, CONN_CONNECTING, CONN_OPEN };

struct conn {
    int fd;
    uint32_t id; /* 0..conns-1; messages count from 1 */
    enum conn_state state;
    uint32_t events;           /* the epoll interest registered now */
    const struct addrinfo *ai; /* the address being tried */
    int last_errno;            /* why the last address failed */
    uint64_t claimed;          /* requests this connection may send, in all */
    uint64_t sent;             /* stream bytes written */
    uint64_t received;         /* stream bytes echoed back and checked */
    uint64_t heard_at;         /* when it last received a byte (0: not since it connected) */
    uint64_t *sent_at;         /* send time of request k, at [k % window] */
};

struct load {
    const struct load_config *cfg;
    struct load_result *res;
    struct stream stream;
    struct addrinfo *addrs;
    struct conn *conns;
    uint64_t *sent_at; /* conns * window send times */
    char *buf;         /* BUF_SIZE bytes: what is sent or received right now */
    int epfd;
    sigset_t wait_mask; /* our signal mask without SIGINT/SIGTERM: they get in while we wait */
    unsigned live;      /* connections connecting or open */
    unsigned connecting;
    uint64_t unclaimed;  /* requests not yet given to any connection (-n) */
    bool measuring;      /* all connections are open (or failed) and the clock runs */
    uint64_t timeout_ns; /* --timeout: for a connect, and for an echo owed */
    uint64_t connect_deadline, start, deadline;
    uint64_t next_scan; /* when to look for connections that went silent */
    unsigned reported;  /* failures named on stderr so far */
    uint64_t last_tick, tick_requests, tick_bytes;
    bool progress_shown;
};

/* ---- the progress line (only on a terminal) ---------------------------- */

static void progress_clear(struct load *l)
{
    if (l->progress_shown) {
        fputs("\r\033[K", stderr); /* back to the line start, erase to its end */
        l->progress_shown = false;
    }
}

static void progress_tick(struct load *l, uint64_t now)
{
    const struct load_result *res = l->res;
    double secs;

    if (!l->cfg->progress || !l->measuring || now - l->last_tick < NS)
        return;
    secs = (double)(now - l->last_tick) / 1e9;
    fprintf(stderr, "\r%s: %.0f s: %.0f requests/s, %.2f MB/s, %u errors\033[K", diag_progname(),
            (double)(now - l->start) / 1e9, (double)(res->requests - l->tick_requests) / secs,
            (double)(res->bytes - l->tick_bytes) / secs / 1e6, res->failed);
    l->progress_shown = true;
    l->last_tick = now;
    l->tick_requests = res->requests;
    l->tick_bytes = res->bytes;
}

/* ---- connection bookkeeping ----------------------------------------------- */

static void conn_close(struct load *l, struct conn *c)
{
    if (c->state == CONN_CLOSED)
        return;
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    if (c->state == CONN_CONNECTING)
        l->connecting--;
    l->live--;
    c->state = CONN_CLOSED;
}

/* Name the failure, "WHY" or "WHY: strerror(error)" when error is not 0 (the first
 * MAX_REPORTED failures only), count it, close the connection. */
static void conn_fail(struct load *l, struct conn *c, const char *why, int error)
{
    if (l->reported++ < MAX_REPORTED) {
        progress_clear(l);
        fprintf(stderr, "%s: connection %" PRIu32 ": %s%s%s\n", diag_progname(), c->id + 1, why,
                error != 0 ? ": " : "", error != 0 ? strerror(error) : "");
    }
    l->res->failed++;
    conn_close(l, c);
}

/* conn_fail in the words of net_connect(): "cannot connect to HOST port PORT: reason". */
static void conn_fail_connect(struct load *l, struct conn *c, int error)
{
    char why[NET_ERR_LEN];

    snprintf(why, sizeof why, "cannot connect to %s port %s", l->cfg->host, l->cfg->port);
    conn_fail(l, c, why, error);
}

static void set_interest(struct load *l, struct conn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.u32 = c->id};

    if (c->events == events)
        return;
    if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
        conn_fail(l, c, "epoll_ctl", errno);
        return;
    }
    c->events = events;
}

/* ---- connecting ------------------------------------------------------------------ */

/* Start a non-blocking connect to c->ai or the next address that takes one. Its outcome,
 * even an immediate success, arrives as EPOLLOUT (conn_connected). */
static void conn_connect(struct load *l, struct conn *c)
{
    int on = 1;

    for (; c->ai != NULL; c->ai = c->ai->ai_next) {
        const struct addrinfo *ai = c->ai;
        struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = c->id};
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);

        if (fd < 0) {
            c->last_errno = errno;
            continue;
        }
        /* Small requests go out at once: Nagle's algorithm would hold one back while an
         * earlier one is unacknowledged, and that wait would be counted as latency. */
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) < 0 ||
            (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) ||
            epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            c->last_errno = errno;
            close(fd);
            continue;
        }
        c->fd = fd;
        c->events = EPOLLOUT;
        return;
    }
    conn_fail_connect(l, c, c->last_errno);
}

static void conn_connected(struct load *l, struct conn *c)
{
    int error = 0;
    socklen_t len = sizeof error;

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
        error = errno;
    if (error != 0) { /* refused or unreachable: try the next address */
        c->last_errno = error;
        close(c->fd);
        c->fd = -1;
        c->ai = c->ai->ai_next;
        conn_connect(l, c);
        return;
    }
    c->state = CONN_OPEN;
    l->connecting--;
    set_interest(l, c, EPOLLIN); /* nothing to send until the clock starts */
}

/* ---- sending: keep the window full -------------------------------------------- */

/* Take requests from the -n budget, shared by every connection (no limit when the run is
 * timed), until c may send `want` requests in all or the budget is spent. Returns how many
 * c may send in all: c->claimed. */
static uint64_t conn_claim(struct load *l, struct conn *c, uint64_t want)
{
    if (want > c->claimed && l->measuring) {
        uint64_t more = want - c->claimed;
        if (l->cfg->requests != 0) {
            if (more > l->unclaimed)
                more = l->unclaimed;
            l->unclaimed -= more;
        }
        c->claimed += more;
    }
    return c->claimed;
}

/* How far this connection may have sent by now, as a stream offset: the window, `window`
 * requests past the last one whose echo is complete, as far as the -n budget goes. */
static uint64_t conn_send_limit(struct load *l, struct conn *c)
{
    return conn_claim(l, c, c->received / l->cfg->size + l->cfg->window) * l->cfg->size;
}

/* With -n: this connection has had every reply it will get. */
static bool conn_finished(const struct load *l, const struct conn *c)
{
    return l->cfg->requests != 0 && l->unclaimed == 0 && c->received == c->claimed * l->cfg->size;
}

/* Record the send time of every request whose first byte is in the n bytes just sent. */
static void conn_stamp_sent(const struct load *l, struct conn *c, size_t n, uint64_t now)
{
    uint64_t size = l->cfg->size;

    for (uint64_t k = (c->sent + size - 1) / size; k * size < c->sent + n; k++)
        c->sent_at[k % l->cfg->window] = now;
}

/* Send as much of c's request stream as its window allows: up to conn_send_limit(), in as
 * many send() calls as the socket takes; when it is full, wait for EPOLLOUT. With -n, close
 * the connection once every echo it will get is in. */
static void conn_send(struct load *l, struct conn *c)
{
    for (;;) {
        uint64_t limit = conn_send_limit(l, c), before;
        size_t len;
        ssize_t n;

        if (c->sent == limit) { /* window full, or nothing left to send */
            if (conn_finished(l, c))
                conn_close(l, c); /* the server sees EOF and closes its side */
            else
                set_interest(l, c, EPOLLIN);
            return;
        }
        len = limit - c->sent > BUF_SIZE ? BUF_SIZE : (size_t)(limit - c->sent);
        stream_fill(&l->stream, c->id, c->sent, l->buf, len);
        /* A request is sent when send() is called: on loopback the call itself carries the
         * bytes through TCP to the server, and that is part of the round trip. */
        before = clock_now_ns();
        n = send(c->fd, l->buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            conn_fail(l, c, "send", errno);
            return;
        }
        if (n > 0) {
            conn_stamp_sent(l, c, (size_t)n, before);
            c->sent += (uint64_t)n;
        }
        if (n < 0 || (size_t)n < len) { /* the socket buffer is full: wait for room */
            set_interest(l, c, EPOLLIN | EPOLLOUT);
            return;
        }
    }
}

/* ---- receiving: check every byte, time every request ------------------------------- */

static const char *show_byte(char b, char out[16])
{
    unsigned char u = (unsigned char)b;

    if (u >= 0x20 && u < 0x7f)
        snprintf(out, 16, "0x%02x '%c'", u, b);
    else if (b == '\n')
        snprintf(out, 16, "0x0a '\\n'");
    else
        snprintf(out, 16, "0x%02x", u);
    return out;
}

/* Record the latency of every request whose last byte is in the n bytes just checked. */
static void conn_complete(struct load *l, struct conn *c, size_t n)
{
    uint64_t size = l->cfg->size, now = clock_now_ns();
    uint64_t first = c->received / size, end = (c->received + n) / size;

    for (uint64_t k = first; k < end; k++)
        hist_record(&l->res->latency, now - c->sent_at[k % l->cfg->window]);
    l->res->requests += end - first;
    l->res->bytes += n;
    c->received += n;
}

/* Name the first wrong byte (at stream offset c->received, buf[at]) and fail c. */
static void conn_mismatch(struct load *l, struct conn *c, size_t at, bool beyond_sent)
{
    char got[16], why[NET_ERR_LEN];
    uint64_t pos = c->received;

    l->res->mismatches++;
    show_byte(l->buf[at], got);
    if (beyond_sent) {
        snprintf(why, sizeof why, "echoed bytes that were never sent (offset %" PRIu64 ", got %s)",
                 pos, got);
    } else {
        char want[16];
        show_byte(stream_byte(&l->stream, c->id, pos), want);
        snprintf(why, sizeof why,
                 "wrong byte at offset %" PRIu64 " (request %" PRIu64 ", byte %" PRIu64
                 "): expected %s, got %s",
                 pos, pos / l->cfg->size, pos % l->cfg->size, want, got);
    }
    conn_fail(l, c, why, 0);
}

/* Check the n bytes just received and count what they complete. Returns false (and fails the
 * connection) at the first byte that differs from what was sent. */
static bool conn_check(struct load *l, struct conn *c, size_t n)
{
    uint64_t owed = c->sent - c->received;
    size_t expected = n > owed ? (size_t)owed : n;
    size_t good = stream_verify(&l->stream, c->id, c->received, l->buf, expected);

    conn_complete(l, c, good);
    if (good < n)
        conn_mismatch(l, c, good, good == expected);
    return good == n;
}

static void conn_receive(struct load *l, struct conn *c)
{
    ssize_t n = recv(c->fd, l->buf, BUF_SIZE, 0);
    char why[NET_ERR_LEN];

    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            snprintf(why, sizeof why, "lost after %" PRIu64 " bytes echoed", c->received);
            conn_fail(l, c, why, errno);
        }
        return;
    }
    c->heard_at = clock_now_ns(); /* it is alive: the --timeout counts from here */
    if (n == 0) {
        snprintf(why, sizeof why,
                 "the server closed the connection after echoing %" PRIu64 " of %" PRIu64 " bytes",
                 c->received, c->sent);
        conn_fail(l, c, why, 0);
        return;
    }
    if (conn_check(l, c, (size_t)n))
        conn_send(l, c); /* replies open the window */
}

static void conn_event(struct load *l, struct conn *c, uint32_t events)
{
    if (c->state == CONN_CONNECTING) {
        conn_connected(l, c);
        return;
    }
    if (c->state == CONN_OPEN && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        conn_receive(l, c);
    if (c->state == CONN_OPEN && (events & EPOLLOUT))
        conn_send(l, c);
}

/* ---- the run --------------------------------------------------------------------- */

/* Every connection is open or failed: start the clock and fill every window. */
static void load_begin(struct load *l)
{
    l->measuring = true;
    l->start = l->last_tick = clock_now_ns();
    l->deadline = l->start + (uint64_t)(l->cfg->seconds * 1e9);
    for (unsigned i = 0; i < l->cfg->conns; i++)
        if (l->conns[i].state == CONN_OPEN)
            conn_send(l, &l->conns[i]);
}

/* Give up on connections still connecting when the connect time is up. */
static void load_connect_timeout(struct load *l)
{
    for (unsigned i = 0; i < l->cfg->conns; i++) {
        struct conn *c = &l->conns[i];
        if (c->state == CONN_CONNECTING)
            conn_fail_connect(l, c, ETIMEDOUT);
    }
}

/* Fail every connection that owes echoes and has received nothing for the --timeout: a server
 * that reads and never answers must not hold the run (with -n) forever. */
static void load_silence_check(struct load *l, uint64_t now)
{
    for (unsigned i = 0; i < l->cfg->conns; i++) {
        struct conn *c = &l->conns[i];
        uint64_t since = c->heard_at > l->start ? c->heard_at : l->start;
        char why[NET_ERR_LEN];

        if (c->state != CONN_OPEN || c->sent == c->received || now - since < l->timeout_ns)
            continue;
        snprintf(why, sizeof why, "no echo for %g s after echoing %" PRIu64 " of %" PRIu64 " bytes",
                 l->cfg->timeout, c->received, c->sent);
        conn_fail(l, c, why, 0);
    }
    /* Again in a tenth of the time-out, so a silence is noticed within 10 % (1 ms at least). */
    l->next_scan = now + (l->timeout_ns / 10 > 1000000 ? l->timeout_ns / 10 : 1000000);
}

/* How long epoll may sleep: until the next deadline, silence check or progress tick; -1 when
 * none. */
static int wait_ms(const struct load *l, uint64_t now)
{
    uint64_t until = UINT64_MAX;

    if (!l->measuring) {
        until = l->connect_deadline;
    } else {
        if (l->cfg->requests == 0)
            until = l->deadline;
        if (l->next_scan < until)
            until = l->next_scan;
        if (l->cfg->progress && l->last_tick + NS < until)
            until = l->last_tick + NS;
    }
    if (until == UINT64_MAX)
        return -1;
    return until <= now ? 0 : (int)((until - now + 999999) / 1000000);
}

static int load_loop(struct load *l, char *err, size_t errlen)
{
    struct epoll_event events[MAX_EVENTS];

    while (l->live > 0) {
        uint64_t now = clock_now_ns();
        int n;

        if (!l->measuring && l->connecting == 0) {
            load_begin(l);
            continue;
        }
        if (!l->measuring && now >= l->connect_deadline)
            load_connect_timeout(l);
        if (l->measuring && l->cfg->requests == 0 && now >= l->deadline)
            break;
        if (l->measuring && now >= l->next_scan) {
            load_silence_check(l, now);
            continue; /* it may have failed the last connection */
        }
        progress_tick(l, now);
        n = epoll_pwait(l->epfd, events, MAX_EVENTS, wait_ms(l, now), &l->wait_mask);
        if (n < 0 && errno == EINTR && sig_stop_requested()) {
            l->res->interrupted = true;
            break;
        }
        if (n < 0 && errno != EINTR) {
            snprintf(err, errlen, "epoll_pwait: %s", strerror(errno));
            return -1;
        }
        for (int i = 0; i < n; i++)
            conn_event(l, &l->conns[events[i].data.u32], events[i].events);
    }
    if (l->measuring)
        l->res->seconds = (double)(clock_now_ns() - l->start) / 1e9;
    progress_clear(l);
    return 0;
}

/* ---- setting up and tearing down -------------------------------------------------- */

static int load_open(struct load *l, char *err, size_t errlen)
{
    const struct load_config *cfg = l->cfg;
    struct addrinfo hints = {0};
    int rc;

    hints.ai_family = AF_UNSPEC; /* localhost may be ::1 or 127.0.0.1: try both */
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(cfg->host, cfg->port, &hints, &l->addrs);
    if (rc != 0) {
        l->addrs = NULL;
        snprintf(err, errlen, "cannot resolve %s port %s: %s", cfg->host, cfg->port,
                 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return -1;
    }
    l->conns = calloc(cfg->conns, sizeof *l->conns);
    l->sent_at = calloc((size_t)cfg->conns * cfg->window, sizeof *l->sent_at);
    l->buf = malloc(BUF_SIZE);
    if (l->conns == NULL || l->sent_at == NULL || l->buf == NULL ||
        stream_init(&l->stream, cfg->size) < 0) {
        snprintf(err, errlen, "out of memory for %u connections", cfg->conns);
        return -1;
    }
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0 || sigprocmask(SIG_BLOCK, NULL, &l->wait_mask) < 0) {
        snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
        return -1;
    }
    sigdelset(&l->wait_mask, SIGINT);
    sigdelset(&l->wait_mask, SIGTERM);
    return 0;
}

static void load_close(struct load *l)
{
    if (l->conns != NULL)
        for (unsigned i = 0; i < l->cfg->conns; i++)
            conn_close(l, &l->conns[i]);
    if (l->epfd >= 0)
        close(l->epfd);
    stream_free(&l->stream);
    free(l->buf);
    free(l->sent_at);
    free(l->conns);
    if (l->addrs != NULL)
        freeaddrinfo(l->addrs);
}

int load_run(const struct load_config *cfg, struct load_result *res, char *err, size_t errlen)
{
    struct load l = {.cfg = cfg, .res = res, .epfd = -1, .unclaimed = cfg->requests};
    int rc = -1;

    memset(res, 0, sizeof *res);
    if (load_open(&l, err, errlen) == 0) {
        l.timeout_ns = (uint64_t)(cfg->timeout * 1e9);
        l.connect_deadline = clock_now_ns() + l.timeout_ns;
        for (unsigned i = 0; i < cfg->conns; i++) {
            struct conn *c = &l.conns[i];
            *c = (struct conn){.fd = -1, .id = i, .state = CONN_CONNECTING, .ai = l.addrs};
            c->sent_at = l.sent_at + (size_t)i * cfg->window;
            l.live++;
            l.connecting++;
            conn_connect(&l, c);
        }
        rc = load_loop(&l, err, errlen);
    }
    if (l.reported > MAX_REPORTED)
        diag_warn("%u more connection failures not named", l.reported - MAX_REPORTED);
    load_close(&l);
    return rc;
}
