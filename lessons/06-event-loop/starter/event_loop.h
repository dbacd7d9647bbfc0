/* event_loop.h - one thread, many connections: epoll, non-blocking sockets, backpressure.
 *
 * The loop owns every socket and makes every system call: it accepts clients, reads what
 * they send, writes what is queued for them, notices SIGINT/SIGTERM and idle clients, and
 * closes connections. A server only supplies handlers (struct ev_handlers): what to do
 * with a new connection, with bytes that arrived, with the end of the client's input.
 * Where lesson 05 kept a conversation's state on a thread's stack, here it lives in a
 * small per-connection block (state_size bytes) that the handlers get back each time.
 *
 * Backpressure: a handler's output goes through ev_send() into a bounded buffer
 * (outbuf.h, 64 KiB). The loop reads from a client only as much as the handlers can
 * answer without overflowing it, and stops reading altogether while it is full, so a
 * client that sends without reading costs at most that bound.
 */
#ifndef EL_EVENT_LOOP_H
#define EL_EVENT_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ev_loop; /* the loop: epoll, the listening socket, the signals, the connections */
struct ev_conn; /* one client connection, owned by the loop */

/* What a server does; any callback may be NULL. Handlers may call ev_send() and
 * ev_close_when_flushed(); a handler returning -1 has the connection closed at once. */
struct ev_handlers {
    size_t state_size; /* bytes of per-connection state, zeroed, see ev_state() */
    /* The most output one input byte can cause (echo: 1). The loop reads at most
     * room / out_per_in bytes at a time, so the answers always fit in the buffer;
     * on_open and on_eof may send out_per_in bytes. Must be at least 1. */
    size_t out_per_in;
    const char *busy_text; /* sent to a client refused by --max-clients (NULL: none) */
    int (*on_open)(struct ev_conn *conn);                               /* accepted */
    int (*on_data)(struct ev_conn *conn, const char *data, size_t len); /* bytes came */
    int (*on_eof)(struct ev_conn *conn);    /* the client will send no more */
    void (*on_close)(struct ev_conn *conn); /* about to be freed: release the state */
    /* For servers whose answer to a few bytes may be long (lesson 08 sends whole files),
     * and that need a clock per connection. All optional. */
    /* How many bytes the handler can take now; 0 stops reading from this client until it
     * can take some again (asked after every event). NULL: out_per_in alone decides. */
    size_t (*input_room)(struct ev_conn *conn);
    /* Everything queued is sent and the socket can take more: send the next piece.
     * Called only while the handler asks for it with ev_want_writable(). */
    int (*on_writable)(struct ev_conn *conn);
    int (*on_timer)(struct ev_conn *conn); /* the time set with ev_set_timer() is up */
};

struct ev_options {
    unsigned idle_timeout; /* seconds without traffic before a client is closed; 0: never */
    size_t max_clients;    /* clients served at once; more get busy_text, then EOF; 0: any */
    bool once;             /* serve one client, then exit when it leaves */
    bool quiet;            /* no "connection from" / "closed" lines on stderr */
};

/* ev_loop_new - a loop serving listen_fd (which it takes over, made non-blocking) with
 * handlers. Call after sig_setup_stop(): SIGINT/SIGTERM are read from a signalfd. Returns
 * the loop, or NULL with err set (listen_fd is then closed). */
struct ev_loop *ev_loop_new(int listen_fd, const struct ev_handlers *handlers,
                            const struct ev_options *opt, char *err, size_t errlen);

/* ev_loop_run - serve until SIGINT or SIGTERM (or, with once, the first client leaves).
 * Returns 0, or -1 with err set when epoll itself fails. */
int ev_loop_run(struct ev_loop *loop, char *err, size_t errlen);

/* ev_loop_free - close every connection and descriptor of the loop and free it all. */
void ev_loop_free(struct ev_loop *loop);

/* ev_state - the connection's state block (state_size bytes, zeroed at accept). */
void *ev_state(struct ev_conn *conn);

/* ev_peer - the client's address, "127.0.0.1:54321", for messages. */
const char *ev_peer(const struct ev_conn *conn);

/* ev_send - send len bytes to the client: at once if the socket takes them, the rest
 * queued. Returns 0, or -1 with errno set (the peer is gone, or the output buffer would
 * overflow: the handler sent more than out_per_in allows); the connection then closes. */
int ev_send(struct ev_conn *conn, const void *data, size_t len);

/* ev_output_room - how many bytes ev_send() can take now without overflowing. */
size_t ev_output_room(const struct ev_conn *conn);

/* ev_want_writable - while on, call on_writable each time everything queued is sent and the
 * socket can take more; meanwhile the connection is not "finished" for want of output. */
void ev_want_writable(struct ev_conn *conn, bool on);

/* ev_sendfile - send up to count bytes of file fd from *offset (advanced) to the client,
 * without copying them through the program (Linux sendfile), once nothing is queued.
 * Returns the bytes sent, 0 at the end of the file, or -1 with errno EAGAIN (the socket is
 * full, or bytes are queued: wait for on_writable) or another errno (the connection then
 * closes). */
ssize_t ev_sendfile(struct ev_conn *conn, int fd, off_t *offset, size_t count);

/* ev_set_timer - call on_timer once, ms milliseconds from now, replacing the timer set
 * before, if any; 0 cancels it. */
void ev_set_timer(struct ev_conn *conn, unsigned ms);

/* ev_close_when_flushed - read nothing more from the client; once everything queued for
 * it has been sent, half-close the connection and close it when the client closes too
 * (its input dropped meanwhile), or after NET_LINGER_MS: see start_lingering. */
void ev_close_when_flushed(struct ev_conn *conn);

#endif
