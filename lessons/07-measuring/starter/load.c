/* load.c - the load generator's event loop: connect all, then keep every window full.
 *
 * One thread drives every connection through one epoll set, level-triggered. A connection
 * writes as much of its request stream as its window allows; when the socket is full it
 * asks for EPOLLOUT, and every echo that completes a request opens the window again. Nothing
 * is copied per request: the bytes to send and the bytes expected back are both generated
 * from the stream (stream.h) into one scratch buffer.
 *
 * YOUR TURN: this is the starter. The frame is here: the connections, connected all at once
 * without blocking, the epoll loop, the failures and their messages, --timeout. What this
 * lesson teaches is yours to write, TODO(1) to TODO(5), in that order: start the clock, keep
 * every window full, check every byte that comes back, count what came back, and time each
 * request from its own send. After each, `make test-yours` shows which stage passes now; the
 * README's "Your turn" lists them. Every other file of echo-load (options, summary, CSV, the
 * stream, the histogram, --udp) is the lesson's own.
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

/* With -n: this connection has had every reply it will get. */
static bool conn_finished(const struct load *l, const struct conn *c)
{
    return l->cfg->requests != 0 && l->unclaimed == 0 && c->received == c->claimed * l->cfg->size;
}

/* Send as much of c's request stream as its window allows, in as many send() calls as the
 * socket takes; when it is full, wait for EPOLLOUT. With -n, close the connection once every
 * echo it will get is in. */
static void conn_send(struct load *l, struct conn *c)
{
    /* TODO(2): keep the window full. c may have sent `window` requests past the last one
     * whose echo is complete (c->received / size of them are); conn_claim(l, c, that many)
     * says how many it may send in all, since with -n every connection shares one budget.
     * As a stream offset: claimed x size. While c->sent is short of it: stream_fill() the
     * next bytes (at most BUF_SIZE) into l->buf, send() them with MSG_NOSIGNAL, and add to
     * c->sent what send() took, which may be less than asked. On EINTR try again. On EAGAIN
     * (or a short send) the socket buffer is full: set_interest(l, c, EPOLLIN | EPOLLOUT) and
     * return; EPOLLOUT brings you back. Any other error: conn_fail(l, c, "send", errno). Once
     * c->sent reaches the offset: if conn_finished(), conn_close() (the server sees EOF),
     * else set_interest(l, c, EPOLLIN): the next echo opens the window again.
     * README: "The window: request/reply or pipelined".
     * Checked by: stage 2, stage 6. */

    /* TODO(5): time each request from its own send. Just before each send(), note
     * clock_now_ns(); for every request k whose first byte is among the bytes send() took, keep
     * that time in c->sent_at[k % window]: one slot per request in flight. One time per
     * connection would time a request that waited behind a stalled one from a later send,
     * and its wait would vanish from the percentiles.
     * README: "Coordinated omission".
     * Checked by: stage 7, stage 8. */

    /* The stub: the connection fails, and the run ends. */
    (void)conn_claim; /* yours to call: (void) keeps the compiler quiet until you do */
    (void)conn_finished;
    conn_fail(l, c, "sending is not written yet (TODO 2)", 0);
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
    /* TODO(3): check every byte. The n bytes in l->buf continue c's echo at stream offset
     * c->received. The first `owed` of them, owed = min(n, c->sent - c->received), must be
     * the stream's own: stream_verify(&l->stream, c->id, c->received, l->buf, owed) makes
     * them again, compares, and returns how many are right from the first. Count those (TODO 4).
     * Then, if any byte was wrong or came back unsent (n > owed), conn_mismatch(l, c, right,
     * right == owed) names it and fails c: return false. All right: return true.
     * README: "What it sends, and how it checks every byte".
     * Checked by: stage 2, stage 5. */

    /* TODO(4): count what came back right, never what was sent. Each request whose last byte
     * is among the right bytes is complete: add them to l->res->requests, add the bytes to
     * l->res->bytes, and move c->received on (conn_mismatch() names the offset from it).
     * README: "echo-load".
     * Checked by: stage 2, stage 3. */

    /* TODO(5), the other half: record the latency of each request completed,
     * hist_record(&l->res->latency, clock_now_ns() - its send time in c->sent_at).
     * README: "Latency, percentiles and the histogram".
     * Checked by: stage 7, stage 8. */

    /* The stub: the echo fails its connection, and the run ends. */
    (void)n;
    (void)conn_mismatch; /* yours to call */
    conn_fail(l, c, "checking the echo is not written yet (TODO 3)", 0);
    return false;
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
    /* TODO(1): start the clock here, now that every connection is open or has failed, and
     * not before: the handshakes (or a SYN resent a second later) are not time the server
     * spent answering. Set l->measuring = true, l->start = l->last_tick = clock_now_ns() and, for
     * a timed run (-d), l->deadline = l->start + l->cfg->seconds in nanoseconds. Then fill
     * every window: conn_send() each connection whose state is CONN_OPEN.
     * README: "echo-load".
     * Checked by: stage 2, stage 3. */

    for (unsigned i = 0; i < l->cfg->conns; i++) /* the stub: every connection fails */
        if (l->conns[i].state == CONN_OPEN)
            conn_fail(l, &l->conns[i], "the run is not started yet (TODO 1)", 0);
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
