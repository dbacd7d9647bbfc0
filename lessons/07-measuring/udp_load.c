/* udp_load.c - echo-load --udp: requests as datagrams, replies matched, losses counted.
 *
 * One thread, one epoll set, level-triggered, as load.c. What differs from TCP: there is no
 * connection to wait for (connect() on UDP only fixes the peer), no byte stream (a datagram
 * arrives whole or not at all, so there is no partial reply to keep), and no promise of
 * delivery or order: each request in flight has a slot with its number and send time, a
 * reply is matched to a slot by its bytes, and a timer gives up on the ones nobody answers.
 */
#define _GNU_SOURCE /* epoll, SOCK_NONBLOCK: Linux, as load.c */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "net.h"
#include "sig.h"
#include "stream.h"
#include "udp_load.h"

enum {
    BUF_SIZE = 65536, /* more than any datagram: a reply is never cut short */
    MAX_EVENTS = 256,
    MAX_REPORTED = 10,
};
static const uint64_t LOST_NS = (uint64_t)UDP_LOST_MS * 1000000u;
static const uint64_t SCAN_NS = 100000000u; /* look for lost requests every 100 ms */
static const uint64_t FREE = UINT64_MAX;    /* a slot with no request in it */

struct client {
    int fd;
    bool failed; /* refused, or answered wrong: no more requests */
    uint32_t id;
    uint32_t events;           /* the epoll interest registered now */
    const struct addrinfo *ai; /* the address in use; the next one is tried on a refusal */
    uint64_t next;             /* number of the next request to send */
    unsigned inflight;         /* slots in use */
    uint64_t *k;               /* [window] the request number in each slot, or FREE */
    uint64_t *sent_at;         /* [window] its send time */
};

struct uload {
    const struct load_config *cfg;
    struct load_result *res;
    struct stream stream;
    struct addrinfo *addrs;
    struct client *clients;
    uint64_t *slots; /* conns * window request numbers, then as many send times */
    char *buf;
    int epfd;
    sigset_t wait_mask;
    unsigned live;      /* clients not failed */
    uint64_t unclaimed; /* -n: requests not yet sent by anyone */
    uint64_t start, deadline, next_scan;
    unsigned reported;
};

/* ---- failures --------------------------------------------------------------------------- */

/* Name the failure (the first MAX_REPORTED), count it, close the client's socket. */
static void client_fail(struct uload *l, struct client *c, const char *why, int error)
{
    if (c->failed)
        return;
    if (l->reported++ < MAX_REPORTED)
        fprintf(stderr, "%s: connection %" PRIu32 ": %s%s%s\n", diag_progname(), c->id + 1, why,
                error != 0 ? ": " : "", error != 0 ? strerror(error) : "");
    l->res->failed++;
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    c->failed = true;
    l->live--;
}

/* A reply that answers no request sent: name its first bytes and fail the client. */
static void client_mismatch(struct uload *l, struct client *c, size_t n)
{
    char why[NET_ERR_LEN], shown[24];
    size_t i;

    for (i = 0; i < n && i + 1 < sizeof shown; i++) {
        unsigned char b = (unsigned char)l->buf[i];
        shown[i] = '.';
        if (b >= 0x20 && b < 0x7f)
            shown[i] = l->buf[i];
    }
    shown[i] = '\0';
    snprintf(why, sizeof why, "a reply of %zu bytes answers no request sent: \"%s%s\"", n, shown,
             n > i ? "..." : "");
    l->res->mismatches++;
    client_fail(l, c, why, 0);
}

/* ---- the socket ------------------------------------------------------------------------- */

static void set_interest(struct uload *l, struct client *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.u32 = c->id};

    if (c->events == events || c->failed)
        return;
    if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
        client_fail(l, c, "epoll_ctl", errno);
        return;
    }
    c->events = events;
}

/* A socket connected to c->ai, or the next address that takes one. Returns 0, or -1 with
 * errno set when no address is left. */
static int client_open(struct uload *l, struct client *c)
{
    for (; c->ai != NULL; c->ai = c->ai->ai_next) {
        const struct addrinfo *ai = c->ai;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = c->id};
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);

        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
            epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            int saved_errno = errno;
            close(fd);
            errno = saved_errno;
            continue;
        }
        c->fd = fd;
        c->events = EPOLLIN;
        return 0;
    }
    return -1;
}

/* ---- sending: keep the window full -------------------------------------------------------- */

static void client_send(struct uload *l, struct client *c);

/* The server's address refused (an ICMP port unreachable came back): move on to the next
 * address of the name, and send the requests in flight there again. */
static void client_refused(struct uload *l, struct client *c)
{
    close(c->fd);
    c->fd = -1;
    c->ai = c->ai->ai_next;
    if (c->ai == NULL || client_open(l, c) < 0) {
        char why[NET_ERR_LEN];
        snprintf(why, sizeof why, "no reply from %s port %s", l->cfg->host, l->cfg->port);
        client_fail(l, c, why, ECONNREFUSED);
        return;
    }
    for (unsigned s = 0; s < l->cfg->window; s++) {
        if (c->k[s] == FREE)
            continue;
        c->k[s] = FREE; /* sent again below, as new requests */
        c->inflight--;
        if (l->cfg->requests != 0)
            l->unclaimed++;
    }
    client_send(l, c);
}

/* May c send one more request now? (-n: one is claimed from the common budget.) */
static bool claim(struct uload *l)
{
    if (l->cfg->requests == 0)
        return true;
    if (l->unclaimed == 0)
        return false;
    l->unclaimed--;
    return true;
}

static void client_send(struct uload *l, struct client *c)
{
    size_t size = l->cfg->size;

    while (!c->failed && c->inflight < l->cfg->window) {
        unsigned slot = 0;
        uint64_t now;
        ssize_t n;

        if (!claim(l))
            break;
        while (c->k[slot] != FREE)
            slot++;
        stream_fill(&l->stream, c->id, c->next * size, l->buf, size);
        now = clock_now_ns();
        n = send(c->fd, l->buf, size, 0);
        if (n < 0) {
            if (l->cfg->requests != 0)
                l->unclaimed++; /* not sent after all */
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                set_interest(l, c, EPOLLIN | EPOLLOUT); /* the send buffer is full */
                return;
            }
            if (errno == ECONNREFUSED)
                client_refused(l, c);
            else if (errno != EINTR)
                client_fail(l, c, "send", errno);
            return;
        }
        c->k[slot] = c->next++;
        c->sent_at[slot] = now;
        c->inflight++;
    }
    set_interest(l, c, EPOLLIN);
}

/* ---- receiving: match every reply -------------------------------------------------------- */

/* The request number k that a reply for no slot in flight may answer: the latest request
 * sent whose number has the reply's digits. Returns 0, or -1 when there is none. */
static int earlier_request(const struct uload *l, const struct client *c, size_t n, uint64_t *k)
{
    uint64_t low, last, span = (uint64_t)1 << (5 * l->stream.tag_len); /* k modulo span */

    if (c->next == 0 || stream_sequence(&l->stream, l->buf, n, &low) < 0)
        return -1;
    last = c->next - 1;
    if (low > last) /* low < span: no number up to last has these digits */
        return -1;
    *k = last - ((last - low) % span);
    return 0;
}

/* Match the reply of n bytes in l->buf to a request of c. */
static void client_reply(struct uload *l, struct client *c, size_t n, uint64_t now)
{
    size_t size = l->cfg->size, body = size - 1; /* the bytes a reply must start with */
    uint64_t k;

    if (n >= body) {
        for (unsigned s = 0; s < l->cfg->window; s++) {
            if (c->k[s] == FREE ||
                stream_verify(&l->stream, c->id, c->k[s] * size, l->buf, body) != body)
                continue;
            hist_record(&l->res->latency, now - c->sent_at[s]);
            l->res->requests++;
            l->res->bytes += n;
            c->k[s] = FREE;
            c->inflight--;
            return;
        }
        /* Not in flight: a late reply to a request counted lost, or a duplicate. */
        if (earlier_request(l, c, n, &k) == 0 &&
            stream_verify(&l->stream, c->id, k * size, l->buf, body) == body)
            return;
    }
    client_mismatch(l, c, n);
}

/* One datagram per readiness event: epoll is level-triggered and reports the socket again
 * while more are queued, and a second recv() that finds nothing costs a system call. */
static void client_receive(struct uload *l, struct client *c)
{
    ssize_t n = recv(c->fd, l->buf, BUF_SIZE, 0);

    if (n >= 0)
        client_reply(l, c, (size_t)n, clock_now_ns());
    else if (errno == ECONNREFUSED)
        client_refused(l, c);
    else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        client_fail(l, c, "recv", errno);
    client_send(l, c); /* replies open the window */
}

/* Give up on requests unanswered for LOST_NS, and send new ones in their place. */
static void scan_lost(struct uload *l, uint64_t now)
{
    for (unsigned i = 0; i < l->cfg->conns; i++) {
        struct client *c = &l->clients[i];
        bool freed = false;

        for (unsigned s = 0; !c->failed && s < l->cfg->window; s++) {
            if (c->k[s] != FREE && now - c->sent_at[s] >= LOST_NS) {
                c->k[s] = FREE;
                c->inflight--;
                l->res->lost++;
                freed = true;
            }
        }
        if (freed)
            client_send(l, c);
    }
}

/* ---- the run ------------------------------------------------------------------------------ */

/* With -n: every request has been sent, and answered or lost. */
static bool all_done(const struct uload *l)
{
    if (l->cfg->requests == 0 || l->unclaimed > 0)
        return false;
    for (unsigned i = 0; i < l->cfg->conns; i++)
        if (!l->clients[i].failed && l->clients[i].inflight > 0)
            return false;
    return true;
}

static int wait_ms(const struct uload *l, uint64_t now)
{
    uint64_t until = l->next_scan;

    if (l->cfg->requests == 0 && l->deadline < until)
        until = l->deadline;
    return until <= now ? 0 : (int)((until - now + 999999) / 1000000);
}

static int uload_loop(struct uload *l, char *err, size_t errlen)
{
    struct epoll_event events[MAX_EVENTS];

    l->start = clock_now_ns();
    l->deadline = l->start + (uint64_t)(l->cfg->seconds * 1e9);
    l->next_scan = l->start + SCAN_NS;
    for (unsigned i = 0; i < l->cfg->conns; i++)
        client_send(l, &l->clients[i]);
    while (l->live > 0 && !all_done(l)) {
        uint64_t now = clock_now_ns();
        int n;

        if (l->cfg->requests == 0 && now >= l->deadline)
            break;
        if (now >= l->next_scan) {
            scan_lost(l, now);
            l->next_scan = now + SCAN_NS;
            continue;
        }
        n = epoll_pwait(l->epfd, events, MAX_EVENTS, wait_ms(l, now), &l->wait_mask);
        if (n < 0 && errno == EINTR && sig_stop_requested()) {
            l->res->interrupted = true;
            break;
        }
        if (n < 0 && errno != EINTR) {
            snprintf(err, errlen, "epoll_pwait: %s", strerror(errno));
            return -1;
        }
        for (int i = 0; i < n; i++) {
            struct client *c = &l->clients[events[i].data.u32];
            if (!c->failed && (events[i].events & (EPOLLIN | EPOLLERR)))
                client_receive(l, c);
            if (!c->failed && (events[i].events & EPOLLOUT))
                client_send(l, c);
        }
    }
    l->res->seconds = (double)(clock_now_ns() - l->start) / 1e9;
    return 0;
}

/* ---- setting up and tearing down ---------------------------------------------------------- */

static int uload_open(struct uload *l, char *err, size_t errlen)
{
    const struct load_config *cfg = l->cfg;
    struct addrinfo hints = {0};
    size_t slots = (size_t)cfg->conns * cfg->window;
    int rc;

    hints.ai_family = AF_UNSPEC; /* localhost may be ::1 or 127.0.0.1: try both */
    hints.ai_socktype = SOCK_DGRAM;
    rc = getaddrinfo(cfg->host, cfg->port, &hints, &l->addrs);
    if (rc != 0) {
        l->addrs = NULL;
        snprintf(err, errlen, "cannot resolve %s port %s: %s", cfg->host, cfg->port,
                 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return -1;
    }
    l->clients = calloc(cfg->conns, sizeof *l->clients);
    l->slots = malloc(2 * slots * sizeof *l->slots);
    l->buf = malloc(BUF_SIZE);
    if (l->clients == NULL || l->slots == NULL || l->buf == NULL ||
        stream_init(&l->stream, cfg->size) < 0) {
        snprintf(err, errlen, "out of memory for %u connections", cfg->conns);
        return -1;
    }
    for (size_t i = 0; i < slots; i++)
        l->slots[i] = FREE;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0 || sigprocmask(SIG_BLOCK, NULL, &l->wait_mask) < 0) {
        snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
        return -1;
    }
    sigdelset(&l->wait_mask, SIGINT);
    sigdelset(&l->wait_mask, SIGTERM);
    return 0;
}

static void uload_close(struct uload *l)
{
    if (l->clients != NULL)
        for (unsigned i = 0; i < l->cfg->conns; i++)
            if (l->clients[i].fd >= 0)
                close(l->clients[i].fd);
    if (l->epfd >= 0)
        close(l->epfd);
    stream_free(&l->stream);
    free(l->buf);
    free(l->slots);
    free(l->clients);
    if (l->addrs != NULL)
        freeaddrinfo(l->addrs);
}

int udp_load_run(const struct load_config *cfg, struct load_result *res, char *err, size_t errlen)
{
    struct uload l = {.cfg = cfg, .res = res, .epfd = -1, .unclaimed = cfg->requests};
    size_t slots = (size_t)cfg->conns * cfg->window;
    int rc = -1;

    memset(res, 0, sizeof *res);
    if (uload_open(&l, err, errlen) == 0) {
        for (unsigned i = 0; i < cfg->conns; i++) {
            struct client *c = &l.clients[i];
            *c = (struct client){.fd = -1, .id = i, .ai = l.addrs};
            c->k = l.slots + (size_t)i * cfg->window;
            c->sent_at = l.slots + slots + (size_t)i * cfg->window;
            l.live++;
            if (client_open(&l, c) < 0) {
                char why[NET_ERR_LEN];
                snprintf(why, sizeof why, "cannot connect to %s port %s", cfg->host, cfg->port);
                client_fail(&l, c, why, errno);
            }
        }
        rc = uload_loop(&l, err, errlen);
    }
    if (l.reported > MAX_REPORTED)
        diag_warn("%u more connection failures not named", l.reported - MAX_REPORTED);
    uload_close(&l);
    return rc;
}
