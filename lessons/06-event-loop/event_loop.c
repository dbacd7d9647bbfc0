/* event_loop.c - one thread serving every client: epoll, non-blocking sockets, backpressure.
 *
 * The loop sleeps in epoll_wait() until something is ready: the listening socket (clients
 * to accept), the signalfd (SIGINT/SIGTERM) or a connection (bytes to read, room to write).
 * It handles each ready thing with calls that never block, then sleeps again.
 *
 * epoll is used level-triggered (the default): it reports a socket for as long as it is
 * ready, not once per change. So the loop may read one chunk per connection and turn,
 * which keeps a fast sender from starving the others, and anything left is simply
 * reported again on the next turn. Edge-triggered epoll would oblige us to read and write
 * until EAGAIN every time, or lose the wake-up for good. The price of level-triggering is
 * that the loop must stop watching what it does not want: EPOLLOUT only while output is
 * pending, EPOLLIN only while there is room for the answers (or it would spin).
 */
#define _GNU_SOURCE /* accept4, epoll, signalfd: Linux system calls beyond POSIX */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "event_loop.h"
#include "net.h"
#include "outbuf.h"

enum {
    EV_BATCH = 256,          /* events taken from epoll per wake-up */
    EV_READ_MAX = 64 * 1024, /* most bytes read from one connection per turn */
    ACCEPT_RETRY_MS = 1000,  /* out of descriptors: try accept() again this often */
};

/* What an epoll event points at (epoll_event.data.ptr): the listening socket, the
 * signalfd, or a connection, whose first member is its watch. */
enum watch_kind { WATCH_LISTENER, WATCH_SIGNALS, WATCH_CONN };

struct watch {
    enum watch_kind kind;
    int fd;
};

/* Connections in order, oldest first (a doubly linked list through older/newer). */
struct conn_list {
    struct ev_conn *oldest, *newest;
};

/* Everything the loop knows about one client. With a thread per client (lesson 05) this
 * lived on the thread's stack; here it must survive between wake-ups, so it is a block. */
struct ev_conn {
    struct watch watch; /* first member: data.ptr is the watch and the connection */
    struct ev_loop *loop;
    uint32_t events;               /* what epoll watches for now */
    bool read_done;                /* EOF seen, or closing: never read again */
    bool read_paused;              /* the output buffer filled up: read once it is empty */
    bool broken;                   /* the peer is gone or a handler failed: close now */
    bool server_ends;              /* ev_close_when_flushed: linger once all is sent */
    bool lingering;                /* half-closed, dropping input until the client closes */
    bool refused;                  /* --max-clients: told busy_text, never seen by handlers */
    bool want_writable;            /* ev_want_writable: the handler has more to send */
    bool timer_on;                 /* ev_set_timer: in the timer list, due at timer_at */
    int error;                     /* why the peer is gone (errno), for the log; or 0 */
    long long last_active;         /* ms, CLOCK_MONOTONIC: last byte in or out */
    long long linger_until;        /* ms: when lingering gives up and closes anyway */
    struct ev_conn *older, *newer; /* in the activity list, or else the lingering list */
    long long timer_at;            /* ms: when on_timer is due */
    struct ev_conn *timer_earlier, *timer_later; /* in the timer list, by deadline */
    struct outbuf out;
    char peer[NET_ENDPOINT_LEN];
    max_align_t state[]; /* the handlers' per-connection state (state_size bytes) */
};

struct ev_loop {
    int epfd;
    struct watch listener, signals;
    bool accepting;            /* the listener is in epoll */
    bool served_one;           /* --once: the one client has come */
    bool accept_error_logged;  /* out of descriptors: said once (not once per client) */
    long long accept_retry_at; /* ms: when to try accept() again; 0: not paused */
    bool stop;
    long long now; /* ms, read once per wake-up */
    size_t nconns;
    size_t nlingering;          /* of nconns: over, closing; not counted against --max-clients */
    struct conn_list active;    /* least recently active first: idle clients at its head */
    struct conn_list lingering; /* first to give up first: they all linger as long */
    struct ev_conn *timer_first, *timer_last; /* the timers set, earliest deadline first */
    const struct ev_handlers *h;
    struct ev_options opt;
    char inbuf[EV_READ_MAX]; /* one read buffer for all: one thread reads at a time */
};

/* ---- the two lists: oldest first, so the next to time out is at the head ---------- */

static void list_remove(struct conn_list *list, struct ev_conn *c)
{
    if (c->older != NULL)
        c->older->newer = c->newer;
    else
        list->oldest = c->newer;
    if (c->newer != NULL)
        c->newer->older = c->older;
    else
        list->newest = c->older;
    c->older = c->newer = NULL;
}

static void list_append(struct conn_list *list, struct ev_conn *c)
{
    c->older = list->newest;
    c->newer = NULL;
    if (list->newest != NULL)
        list->newest->newer = c;
    else
        list->oldest = c;
    list->newest = c;
}

/* Traffic on c: it becomes the most recently active connection. */
static void touch(struct ev_conn *c)
{
    struct conn_list *active = &c->loop->active;

    c->last_active = c->loop->now;
    if (active->newest != c) {
        list_remove(active, c);
        list_append(active, c);
    }
}

/* ---- timers: at most one per connection, in a list by deadline ------------------- */

static void timer_remove(struct ev_conn *c)
{
    struct ev_loop *loop = c->loop;

    if (!c->timer_on)
        return;
    if (c->timer_earlier != NULL)
        c->timer_earlier->timer_later = c->timer_later;
    else
        loop->timer_first = c->timer_later;
    if (c->timer_later != NULL)
        c->timer_later->timer_earlier = c->timer_earlier;
    else
        loop->timer_last = c->timer_earlier;
    c->timer_earlier = c->timer_later = NULL;
    c->timer_on = false;
}

/* Put c in its place by deadline, searching from the latest end: a server that always
 * sets the same duration finds the place at once, as the idle list does. */
static void timer_insert(struct ev_conn *c)
{
    struct ev_loop *loop = c->loop;
    struct ev_conn *before = loop->timer_last;

    while (before != NULL && before->timer_at > c->timer_at)
        before = before->timer_earlier;
    c->timer_earlier = before;
    c->timer_later = before != NULL ? before->timer_later : loop->timer_first;
    if (c->timer_later != NULL)
        c->timer_later->timer_earlier = c;
    else
        loop->timer_last = c;
    if (before != NULL)
        before->timer_later = c;
    else
        loop->timer_first = c;
    c->timer_on = true;
}

/* ---- accepting ------------------------------------------------------------------ */

/* Watch the listening socket (on) or stop watching it. Returns 0, or -1 with errno. */
static int watch_listener(struct ev_loop *loop, bool on)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &loop->listener};

    if (on == loop->accepting)
        return 0;
    if (epoll_ctl(loop->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, loop->listener.fd, &ev) < 0)
        return -1;
    loop->accepting = on;
    return 0;
}

/* accept() failed for want of descriptors or memory. The pending client stays in the
 * backlog and, level-triggered, the listener would be reported again at once: a busy
 * loop. So stop watching it until a connection closes or a second has passed. */
static void pause_accepting(struct ev_loop *loop, int error)
{
    if (!loop->accept_error_logged)
        diag_warn("accept: %s: serving the %zu open connections, accepting again when one "
                  "closes",
                  strerror(error), loop->nconns);
    loop->accept_error_logged = true;
    loop->accept_retry_at = loop->now + ACCEPT_RETRY_MS;
    if (watch_listener(loop, false) < 0)
        diag_warn("epoll_ctl:");
}

static void resume_accepting(struct ev_loop *loop)
{
    if (loop->accept_retry_at == 0)
        return;
    loop->accept_retry_at = 0;
    if (watch_listener(loop, true) < 0)
        diag_warn("epoll_ctl:");
}

static struct ev_conn *conn_new(struct ev_loop *loop, int fd, const struct sockaddr_storage *peer);
static void conn_open(struct ev_loop *loop, int fd, const struct sockaddr_storage *peer);
static void conn_update(struct ev_conn *c);

/* More clients than --max-clients: accept, say so (busy_text) and end the connection, so
 * the client learns it instead of waiting in the backlog. Not with a plain close(): to a
 * client that has already sent something, close() with those bytes unread sends a reset,
 * not a FIN, and the client may see the reset instead of the busy line. So a refused client
 * is ended as ev_close_when_flushed ends one: the text sent, the connection half-closed,
 * and what the client sends dropped until it closes (NET_LINGER_MS at most). A new
 * socket's send buffer is empty: the short text goes out at once, and from then on the
 * connection is lingering, not counted against --max-clients. The handlers never see it. */
static void refuse(struct ev_loop *loop, int fd, const struct sockaddr_storage *peer)
{
    const char *text = loop->h->busy_text;
    struct ev_conn *c = conn_new(loop, fd, peer);

    if (c == NULL)
        return;
    c->refused = true;
    if (!loop->opt.quiet)
        fprintf(stderr, "refused %s: too many clients\n", c->peer); /* as in lesson 05 */
    if (text != NULL)
        (void)ev_send(c, text, strlen(text)); /* a failure marks c broken: closed below */
    ev_close_when_flushed(c);
    conn_update(c);
}

/* Accept every client waiting in the backlog, until EAGAIN. */
static void accept_clients(struct ev_loop *loop)
{
    while (loop->accepting) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;
        int fd = accept4(loop->listener.fd, (struct sockaddr *)&peer, &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return; /* the backlog is empty */
            if (errno == EINTR || errno == ECONNABORTED)
                continue; /* a client that gave up before we took it is no failure */
            if (net_accept_failed_one(errno)) { /* that client's network failed, or a firewall */
                diag_warn("accept: %s: skipping that connection", strerror(errno));
                continue;
            }
            pause_accepting(loop, errno); /* EMFILE, ENFILE, ENOBUFS, ENOMEM */
            return;
        }
        if (loop->opt.max_clients > 0 && loop->nconns - loop->nlingering >= loop->opt.max_clients) {
            refuse(loop, fd, &peer);
            continue;
        }
        conn_open(loop, fd, &peer);
        if (loop->opt.once) {
            loop->served_one = true;
            if (watch_listener(loop, false) < 0)
                diag_warn("epoll_ctl:");
        }
    }
}

/* ---- one connection ----------------------------------------------------------------- */

static void conn_close(struct ev_conn *c)
{
    struct ev_loop *loop = c->loop;

    if (loop->h->on_close != NULL && !c->refused) /* the handlers never saw a refused one */
        loop->h->on_close(c);
    timer_remove(c);
    close(c->watch.fd); /* also takes it out of epoll: the descriptor was never duplicated */
    outbuf_free(&c->out);
    list_remove(c->lingering ? &loop->lingering : &loop->active, c);
    loop->nconns--;
    if (c->lingering)
        loop->nlingering--;
    if (!loop->opt.quiet && !c->refused) { /* a refused client's one line was "refused" */
        if (c->error != 0)
            fprintf(stderr, "closed %s: %s\n", c->peer, strerror(c->error));
        else
            fprintf(stderr, "closed %s\n", c->peer);
    }
    free(c);
    resume_accepting(loop); /* a descriptor is free again */
}

/* The server ended c and its last reply is sent: half-close (a FIN follows the reply)
 * and keep reading, dropping what comes, until the client closes too or NET_LINGER_MS
 * pass. Closing at once with unread input would make the kernel send a reset, and a reset
 * destroys the replies the client has not received yet ("Bye." included). */
static int start_lingering(struct ev_conn *c)
{
    struct ev_loop *loop = c->loop;

    if (shutdown(c->watch.fd, SHUT_WR) < 0)
        return -1;
    timer_remove(c); /* the conversation is over: nothing is due any more */
    list_remove(&loop->active, c);
    c->lingering = true;
    loop->nlingering++;
    c->linger_until = loop->now + NET_LINGER_MS;
    list_append(&loop->lingering, c);
    return 0;
}

/* How many bytes the handler can take now (input_room), or no limit of its own. */
static size_t input_room(struct ev_conn *c)
{
    return c->loop->h->input_room != NULL ? c->loop->h->input_room(c) : SIZE_MAX;
}

/* What epoll should watch on c now. */
static uint32_t wanted_events(struct ev_conn *c, size_t pending)
{
    uint32_t want = 0;

    if (c->lingering)
        return EPOLLIN; /* only for the client's close (or its last bytes, to drop) */
    if (outbuf_room(&c->out) < c->loop->h->out_per_in)
        c->read_paused = true; /* backpressure: the client must read before it may send */
    else if (pending == 0)
        c->read_paused = false; /* drained: read again */
    if (!c->read_done && !c->read_paused && input_room(c) > 0)
        want |= EPOLLIN;
    if (pending > 0 || c->want_writable)
        want |= EPOLLOUT; /* only while output waits: a writable socket is the usual case */
    return want;
}

/* After every event: close c if it is finished, else tell epoll what c waits for now.
 * This is the one place that decides; the handlers only queue output. */
static void conn_update(struct ev_conn *c)
{
    struct ev_loop *loop = c->loop;
    size_t pending = outbuf_pending(&c->out);
    bool all_sent = pending == 0 && !c->want_writable; /* nothing queued, nothing to come */
    uint32_t want;

    if (c->broken || (c->read_done && all_sent && !c->server_ends)) {
        conn_close(c);
        return;
    }
    if (c->server_ends && all_sent && !c->lingering && start_lingering(c) < 0) {
        conn_close(c);
        return;
    }
    want = wanted_events(c, pending);
    if (want != c->events) {
        struct epoll_event ev = {.events = want, .data.ptr = &c->watch};
        if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, c->watch.fd, &ev) < 0) {
            diag_warn("epoll_ctl %s:", c->peer);
            conn_close(c);
            return;
        }
        c->events = want;
    }
}

/* One read: as many bytes as the answers can fit in the output buffer. */
static void conn_read(struct ev_conn *c)
{
    struct ev_loop *loop = c->loop;
    const struct ev_handlers *h = loop->h;
    size_t max = outbuf_room(&c->out) / h->out_per_in;
    ssize_t n;

    if (max > sizeof loop->inbuf)
        max = sizeof loop->inbuf;
    if (max > input_room(c))
        max = input_room(c);
    if (max == 0)
        return;
    n = read(c->watch.fd, loop->inbuf, max);
    if (n > 0) {
        touch(c);
        if (h->on_data != NULL && h->on_data(c, loop->inbuf, (size_t)n) < 0)
            c->broken = true;
    } else if (n == 0) {
        c->read_done = true; /* the client shut down its side: finish sending, then close */
        if (h->on_eof != NULL && h->on_eof(c) < 0)
            c->broken = true;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        c->broken = true; /* ECONNRESET: the client vanished */
        c->error = errno;
    }
}

/* Send what is queued, as much as the socket takes. */
static void conn_write(struct ev_conn *c)
{
    ssize_t n = outbuf_flush(&c->out, c->watch.fd);

    if (n < 0) {
        c->broken = true; /* EPIPE, ECONNRESET: the client vanished */
        c->error = errno;
    } else if (n > 0) {
        touch(c);
    }
}

/* Lingering: read and drop; the client's EOF (or a reset) ends it. */
static void drop_input(struct ev_conn *c)
{
    ssize_t n = read(c->watch.fd, c->loop->inbuf, sizeof c->loop->inbuf);

    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        c->broken = true; /* done: close, with nothing to report */
}

/* epoll reported c. EPOLLERR and EPOLLHUP are always reported: the next read or write
 * returns the error, which closes the connection. */
static void conn_event(struct ev_conn *c, uint32_t events)
{
    if (c->lingering) {
        drop_input(c);
        conn_update(c);
        return;
    }
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && outbuf_pending(&c->out) > 0)
        conn_write(c);
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && c->want_writable && !c->broken &&
        outbuf_pending(&c->out) == 0 && c->loop->h->on_writable != NULL &&
        c->loop->h->on_writable(c) < 0)
        c->broken = true;
    /* Watching nothing (input paused, nothing to send), epoll still reports an error or a
     * hang-up, level-triggered: close rather than be woken for it again and again. */
    if ((events & (EPOLLERR | EPOLLHUP)) && (c->events & (EPOLLIN | EPOLLOUT)) == 0)
        c->broken = true;
    if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && (c->events & EPOLLIN) && !c->broken &&
        !c->read_done)
        conn_read(c);
    conn_update(c);
}

/* A new connection on fd, watched for EPOLLIN and counted; NULL (fd closed) on failure. */
static struct ev_conn *conn_new(struct ev_loop *loop, int fd, const struct sockaddr_storage *peer)
{
    struct ev_conn *c = calloc(1, sizeof *c + loop->h->state_size);
    struct epoll_event ev = {.events = EPOLLIN};

    if (c == NULL) {
        diag_warn("out of memory: closing a new connection");
        close(fd);
        return NULL;
    }
    c->watch = (struct watch){.kind = WATCH_CONN, .fd = fd};
    c->loop = loop;
    net_format_addr((const struct sockaddr *)peer, c->peer, sizeof c->peer);
    ev.data.ptr = &c->watch;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        diag_warn("epoll_ctl %s:", c->peer);
        close(fd);
        free(c);
        return NULL;
    }
    c->events = EPOLLIN;
    c->last_active = loop->now;
    list_append(&loop->active, c);
    loop->nconns++;
    return c;
}

/* A client to serve: a new connection, handed to the handlers. */
static void conn_open(struct ev_loop *loop, int fd, const struct sockaddr_storage *peer)
{
    struct ev_conn *c = conn_new(loop, fd, peer);

    if (c == NULL)
        return;
    if (!loop->opt.quiet)
        fprintf(stderr, "connection from %s\n", c->peer);
    if (loop->h->on_open != NULL && loop->h->on_open(c) < 0)
        c->broken = true;
    conn_update(c);
}

/* ---- what the handlers may call -------------------------------------------------- */

void *ev_state(struct ev_conn *conn)
{
    return conn->state;
}

const char *ev_peer(const struct ev_conn *conn)
{
    return conn->peer;
}

int ev_send(struct ev_conn *conn, const void *data, size_t len)
{
    const char *p = data;

    if (conn->broken) {
        errno = EPIPE;
        return -1;
    }
    /* Nothing queued: offer the bytes to the socket first, which usually takes them all
     * and saves a copy. With bytes queued, new ones must wait behind them. */
    if (len > 0 && outbuf_pending(&conn->out) == 0) {
        ssize_t n = send(conn->watch.fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            conn->broken = true;
            conn->error = errno;
            return -1;
        }
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            touch(conn);
        }
    }
    if (outbuf_append(&conn->out, p, len) < 0) {
        if (errno == ENOBUFS)
            diag_warn("%s: output buffer overflow (a handler sent more than out_per_in)",
                      conn->peer);
        conn->broken = true;
        return -1;
    }
    return 0;
}

size_t ev_output_room(const struct ev_conn *conn)
{
    return outbuf_room(&conn->out);
}

void ev_want_writable(struct ev_conn *conn, bool on)
{
    conn->want_writable = on;
}

ssize_t ev_sendfile(struct ev_conn *conn, int fd, off_t *offset, size_t count)
{
    ssize_t n;

    if (conn->broken) {
        errno = EPIPE;
        return -1;
    }
    if (outbuf_pending(&conn->out) > 0) { /* the bytes queued before must leave first */
        errno = EAGAIN;
        return -1;
    }
    do /* a vanished peer gives EPIPE: sig_setup_stop() ignores SIGPIPE */
        n = sendfile(conn->watch.fd, fd, offset, count);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        touch(conn);
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        conn->broken = true;
        conn->error = errno;
    }
    return n;
}

void ev_set_timer(struct ev_conn *conn, unsigned ms)
{
    timer_remove(conn);
    if (ms == 0 || conn->lingering)
        return;
    conn->timer_at = conn->loop->now + ms;
    timer_insert(conn);
}

void ev_close_when_flushed(struct ev_conn *conn)
{
    conn->read_done = true;
    conn->server_ends = true;
}

/* ---- the loop ------------------------------------------------------------------------ */

/* SIGINT or SIGTERM arrived (they are blocked, so they wait in the signalfd). */
static void read_signals(struct ev_loop *loop)
{
    struct signalfd_siginfo info;

    while (read(loop->signals.fd, &info, sizeof info) == (ssize_t)sizeof info)
        loop->stop = true;
}

/* Close the clients silent for --idle-timeout seconds: the oldest are at the list head. */
static void close_idle(struct ev_loop *loop)
{
    long long limit = (long long)loop->opt.idle_timeout * 1000;
    struct ev_conn *c = loop->active.oldest;

    while (loop->opt.idle_timeout > 0 && c != NULL && loop->now - c->last_active >= limit) {
        struct ev_conn *newer = c->newer; /* read before c is freed */
        if (!loop->opt.quiet)
            fprintf(stderr, "idle for %u s: %s\n", loop->opt.idle_timeout, c->peer);
        conn_close(c);
        c = newer;
    }
}

/* Close the lingering connections whose client has not closed in NET_LINGER_MS. */
static void close_lingering(struct ev_loop *loop)
{
    struct ev_conn *c = loop->lingering.oldest;

    while (c != NULL && loop->now >= c->linger_until) {
        struct ev_conn *newer = c->newer; /* read before c is freed */
        conn_close(c);
        c = newer;
    }
}

/* Call on_timer for every timer that is due, earliest first. */
static void run_timers(struct ev_loop *loop)
{
    struct ev_conn *c;

    while ((c = loop->timer_first) != NULL && loop->now >= c->timer_at) {
        timer_remove(c);
        if (loop->h->on_timer != NULL && loop->h->on_timer(c) < 0)
            c->broken = true;
        conn_update(c); /* may close and free c: the list head is read again */
    }
}

/* How long epoll_wait may sleep: until the oldest client's idle deadline, the first end of
 * lingering, the first timer, or the next accept() retry, whichever comes first; or
 * forever (-1). */
static int wait_ms(const struct ev_loop *loop)
{
    long long deadline = -1, left;

    if (loop->opt.idle_timeout > 0 && loop->active.oldest != NULL)
        deadline = loop->active.oldest->last_active + (long long)loop->opt.idle_timeout * 1000;
    if (loop->lingering.oldest != NULL &&
        (deadline < 0 || loop->lingering.oldest->linger_until < deadline))
        deadline = loop->lingering.oldest->linger_until;
    if (loop->accept_retry_at > 0 && (deadline < 0 || loop->accept_retry_at < deadline))
        deadline = loop->accept_retry_at;
    if (loop->timer_first != NULL && (deadline < 0 || loop->timer_first->timer_at < deadline))
        deadline = loop->timer_first->timer_at;
    if (deadline < 0)
        return -1;
    left = deadline - clock_now_ms() + 1; /* +1: wake after the deadline, not just before */
    if (left < 0)
        return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}

static void dispatch(struct ev_loop *loop, const struct epoll_event *ev)
{
    struct watch *w = ev->data.ptr;

    switch (w->kind) {
    case WATCH_LISTENER:
        accept_clients(loop);
        break;
    case WATCH_SIGNALS:
        read_signals(loop);
        break;
    case WATCH_CONN:
        /* Only this connection's own event can free it, and epoll reports it once per
         * batch, so the other events of the batch never point at freed memory. */
        conn_event((struct ev_conn *)(void *)w, ev->events);
        break;
    }
}

int ev_loop_run(struct ev_loop *loop, char *err, size_t errlen)
{
    struct epoll_event events[EV_BATCH];

    while (!loop->stop) {
        int n = epoll_wait(loop->epfd, events, EV_BATCH, wait_ms(loop));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
            return -1;
        }
        loop->now = clock_now_ms();
        for (int i = 0; i < n; i++)
            dispatch(loop, &events[i]);
        run_timers(loop);
        close_idle(loop);
        close_lingering(loop);
        if (loop->accept_retry_at > 0 && loop->now >= loop->accept_retry_at)
            resume_accepting(loop);
        if (loop->opt.once && loop->served_one && loop->nconns == 0)
            break;
    }
    return 0;
}

/* ---- making and unmaking ------------------------------------------------------------ */

/* Fill err with "what: strerror(errno)", free the loop, return NULL. */
static struct ev_loop *fail(struct ev_loop *loop, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s", what, strerror(errno));
    ev_loop_free(loop);
    return NULL;
}

struct ev_loop *ev_loop_new(int listen_fd, const struct ev_handlers *handlers,
                            const struct ev_options *opt, char *err, size_t errlen)
{
    struct ev_loop *loop = calloc(1, sizeof *loop);
    struct epoll_event ev = {.events = EPOLLIN};
    sigset_t stop_set;
    int flags;

    if (loop == NULL) {
        snprintf(err, errlen, "out of memory");
        close(listen_fd);
        return NULL;
    }
    loop->epfd = -1;
    loop->listener = (struct watch){.kind = WATCH_LISTENER, .fd = listen_fd};
    loop->signals = (struct watch){.kind = WATCH_SIGNALS, .fd = -1};
    loop->h = handlers;
    loop->opt = *opt;
    loop->now = clock_now_ms();
    if (handlers->out_per_in == 0 || handlers->out_per_in > OUTBUF_CAP) {
        errno = EINVAL;
        return fail(loop, "handlers: out_per_in", err, errlen);
    }
    /* Non-blocking listener: accept() says EAGAIN when the backlog is empty. */
    flags = fcntl(listen_fd, F_GETFL);
    if (flags < 0 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return fail(loop, "fcntl", err, errlen);
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0)
        return fail(loop, "epoll_create1", err, errlen);
    /* sig_setup_stop() keeps SIGINT/SIGTERM blocked: they stay pending, and a signalfd
     * turns them into something epoll can wait for, like any socket. */
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    loop->signals.fd = signalfd(-1, &stop_set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (loop->signals.fd < 0)
        return fail(loop, "signalfd", err, errlen);
    ev.data.ptr = &loop->signals;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->signals.fd, &ev) < 0 ||
        watch_listener(loop, true) < 0)
        return fail(loop, "epoll_ctl", err, errlen);
    return loop;
}

static void close_all(struct conn_list *list)
{
    for (struct ev_conn *c = list->oldest, *newer; c != NULL; c = newer) {
        newer = c->newer; /* read before c is freed */
        conn_close(c);
    }
}

void ev_loop_free(struct ev_loop *loop)
{
    if (loop == NULL)
        return;
    loop->accept_retry_at = 0; /* closing is no reason to accept again */
    close_all(&loop->active);
    close_all(&loop->lingering);
    close(loop->listener.fd);
    if (loop->signals.fd >= 0)
        close(loop->signals.fd);
    if (loop->epfd >= 0)
        close(loop->epfd);
    free(loop);
}
