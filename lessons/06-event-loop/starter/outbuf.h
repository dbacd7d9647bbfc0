/* outbuf.h - a bounded output buffer that exists only while it holds bytes.
 *
 * An event-loop server cannot block in write(): when a client's socket does not take
 * the whole reply, the rest waits here until epoll says the socket is writable again.
 * The buffer is bounded (OUTBUF_CAP): a client that never reads can cost the server that
 * much and no more. It is allocated when the first byte must wait and freed as soon as
 * the last one leaves, so the thousands of idle connections of a busy server cost none.
 */
#ifndef EL_OUTBUF_H
#define EL_OUTBUF_H

#include <stddef.h>
#include <sys/types.h>

enum { OUTBUF_CAP = 64 * 1024 };

struct outbuf {
    char *data;   /* OUTBUF_CAP bytes while something is pending, else NULL */
    size_t start; /* first byte not yet sent */
    size_t end;   /* one past the last byte queued */
};

/* outbuf_pending - bytes queued and not yet sent. */
size_t outbuf_pending(const struct outbuf *ob);

/* outbuf_room - bytes that can still be queued (OUTBUF_CAP - pending). */
size_t outbuf_room(const struct outbuf *ob);

/* outbuf_append - queue len bytes, allocating the buffer on first use. Returns 0, or -1
 * with errno ENOBUFS (len > room) or ENOMEM. */
int outbuf_append(struct outbuf *ob, const void *data, size_t len);

/* outbuf_flush - send what the socket fd takes now, without blocking; frees the buffer
 * once it is empty. Returns the bytes sent (0 when the socket is full), or -1 with errno
 * set (EPIPE, ECONNRESET: the peer is gone). */
ssize_t outbuf_flush(struct outbuf *ob, int fd);

/* outbuf_free - drop whatever is pending and release the buffer. */
void outbuf_free(struct outbuf *ob);

#endif
