/* outbuf.c - a bounded output buffer that exists only while it holds bytes.
 *
 * YOUR TURN: this is the starter: outbuf_append() is TODO(3), outbuf_flush() TODO(5), as
 * echo-poll-server.c numbers them. outbuf.h says what each must do. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "outbuf.h"

size_t outbuf_pending(const struct outbuf *ob)
{
    return ob->end - ob->start;
}

size_t outbuf_room(const struct outbuf *ob)
{
    return OUTBUF_CAP - outbuf_pending(ob);
}

int outbuf_append(struct outbuf *ob, const void *data, size_t len)
{
    /* TODO(3): refuse (errno ENOBUFS, -1) what would not fit in the room left; allocate the
     * OUTBUF_CAP bytes on first use (ENOMEM, -1, when malloc fails); when the room is at
     * the front (bytes before start were sent), slide what is pending down to 0 first;
     * copy the bytes after the pending ones. Returns 0.
     * README: "Backpressure, with the 1 GiB client". Checked by: stage 3. */
    (void)ob;
    (void)data;
    (void)len;
    errno = ENOBUFS;
    return -1;
}

ssize_t outbuf_flush(struct outbuf *ob, int fd)
{
    /* TODO(5): send() what is pending, with MSG_NOSIGNAL, until none is left or the socket
     * is full: send() takes part of it (go on from there), or says EAGAIN/EWOULDBLOCK (stop:
     * POLLOUT will say when it drains), EINTR (try again), or another error (return -1).
     * Free the buffer once it is empty (outbuf_free). Returns the bytes sent.
     * README: "What can go wrong" (Forgetting EPOLLOUT). Checked by: stage 3. */
    (void)ob;
    (void)fd;
    return 0;
}

void outbuf_free(struct outbuf *ob)
{
    free(ob->data);
    ob->data = NULL;
    ob->start = 0;
    ob->end = 0;
}
