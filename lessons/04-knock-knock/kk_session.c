/* kk_session.c - one Knock Knock conversation over a connected, blocking socket. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "io.h"
#include "knock_protocol.h"
#include "kk_session.h"

/* The longest server line ("You're supposed to say "Little Old Lady who?"! ...") is 72
 * bytes; this leaves room to spare. */
enum { LINE_MAX_OUT = 128 };

/* Send text and its "\n" with one write, so each server line leaves as one segment. */
static int send_line(int fd, const char *text)
{
    char buf[LINE_MAX_OUT];
    int len = snprintf(buf, sizeof buf, "%s\n", text);

    if (len < 0 || (size_t)len >= sizeof buf) { /* cannot happen with the protocol's texts */
        errno = EMSGSIZE;
        return -1;
    }
    return io_write_all(fd, buf, (size_t)len);
}

/* Answer lines until "Bye." (returns 0), the client's EOF (0), or an error (-1, errno). */
static int converse(int fd, struct kk_protocol *kk, struct io_reader *reader)
{
    bool done = false;
    char *line;
    size_t len;

    while (!done) {
        int rc = io_read_line(reader, &line, &len);
        if (rc <= 0)
            return rc; /* 0: the client closed its side; -1: errno says why */
        if (send_line(fd, kk_reply(kk, line, len, &done)) < 0)
            return -1;
    }
    return 0;
}

int kk_session_run(int fd)
{
    struct kk_protocol kk;
    struct io_reader reader;
    int rc, saved_errno;

    kk_init(&kk);
    if (send_line(fd, kk_greeting(&kk)) < 0)
        return -1;
    io_reader_init(&reader, fd, KK_MAX_LINE);
    rc = converse(fd, &kk, &reader);
    saved_errno = errno;
    io_reader_free(&reader);
    errno = saved_errno;
    return rc;
}

void kk_session_report(const char *peer, int err)
{
    if (err == EMSGSIZE)
        diag_warn("%s: line longer than %d bytes, connection closed", peer, KK_MAX_LINE);
    else if (err != ECONNRESET && err != EPIPE && err != EINTR)
        diag_warn("%s: %s", peer, strerror(err));
}
