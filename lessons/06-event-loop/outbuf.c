/* outbuf.c - a bounded output buffer that exists only while it holds bytes. */
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
    if (len > outbuf_room(ob)) {
        errno = ENOBUFS;
        return -1;
    }
    if (len == 0)
        return 0;
    if (ob->data == NULL) {
        ob->data = malloc(OUTBUF_CAP);
        if (ob->data == NULL) {
            errno = ENOMEM;
            return -1;
        }
    }
    if (OUTBUF_CAP - ob->end < len) { /* room is there, but at the front: slide down */
        memmove(ob->data, ob->data + ob->start, outbuf_pending(ob));
        ob->end -= ob->start;
        ob->start = 0;
    }
    memcpy(ob->data + ob->end, data, len);
    ob->end += len;
    return 0;
}

ssize_t outbuf_flush(struct outbuf *ob, int fd)
{
    size_t sent = 0;

    while (outbuf_pending(ob) > 0) {
        /* MSG_NOSIGNAL: a vanished peer gives EPIPE here, not a SIGPIPE death. */
        ssize_t n = send(fd, ob->data + ob->start, outbuf_pending(ob), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break; /* the socket is full: epoll will say when it drains */
            return -1;
        }
        ob->start += (size_t)n;
        sent += (size_t)n;
    }
    if (outbuf_pending(ob) == 0)
        outbuf_free(ob); /* nothing waits: an idle connection holds no buffer */
    return (ssize_t)sent;
}

void outbuf_free(struct outbuf *ob)
{
    free(ob->data);
    ob->data = NULL;
    ob->start = 0;
    ob->end = 0;
}
