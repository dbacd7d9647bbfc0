/* io.c - whole writes, stop-aware reads, and the line splitter. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"
#include "sig.h"

/* MSG_NOSIGNAL (POSIX 2008: Linux, the BSDs, recent macOS) keeps send() from raising
 * SIGPIPE. Where a system lacks it, net.c has set SO_NOSIGPIPE on every socket instead, and
 * sig_setup_stop() ignores SIGPIPE anyway. */
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

/* ---- whole writes and stop-aware reads ----------------------------------- */

/* One write attempt: send() never raises SIGPIPE and never blocks; a descriptor that is no
 * socket (a pipe, a terminal) falls back to write(). MSG_DONTWAIT is no POSIX 2008 name,
 * though every system has it: macOS and the BSDs show it beside _POSIX_C_SOURCE only with a
 * macro of their own, which common/flags.mk adds. */
static ssize_t write_once(int fd, const char *p, size_t len, int *is_socket)
{
    if (*is_socket) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0 || errno != ENOTSOCK)
            return n;
        *is_socket = 0;
    }
    return write(fd, p, len);
}

int io_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    int is_socket = 1;

    while (len > 0) {
        ssize_t n = write_once(fd, p, len, &is_socket);
        if (n >= 0) { /* a partial write is normal: send the rest */
            p += n;
            len -= (size_t)n;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (sig_wait_fd(fd, POLLOUT, -1) < 0) /* the peer's window is full: wait */
                return -1;
        } else if (errno != EINTR || sig_stop_requested()) {
            return -1;
        }
    }
    return 0;
}

ssize_t io_read_some(int fd, void *buf, size_t len)
{
    for (;;) {
        ssize_t n;

        if (sig_wait_fd(fd, POLLIN, -1) < 0)
            return -1;
        n = read(fd, buf, len);
        if (n >= 0 || errno != EINTR)
            return n;
    }
}

/* ---- the line splitter ----------------------------------------------------- */

void io_lines_init(struct io_lines *lines, size_t max_line)
{
    memset(lines, 0, sizeof *lines);
    lines->max_line = max_line;
}

void io_lines_free(struct io_lines *lines)
{
    free(lines->buf);
    io_lines_init(lines, lines->max_line);
}

/* Data capacity: a longest line plus its first ending byte; one more byte holds the NUL
 * that io_lines_rest() adds after an unterminated line. */
static size_t data_cap(const struct io_lines *lines)
{
    return lines->max_line + 1;
}

char *io_lines_space(struct io_lines *lines, size_t *avail)
{
    if (lines->buf == NULL) {
        lines->buf = malloc(data_cap(lines) + 1);
        if (lines->buf == NULL) {
            errno = ENOMEM;
            return NULL;
        }
    }
    if (lines->start > 0) { /* slide the partial line to the front */
        memmove(lines->buf, lines->buf + lines->start, lines->end - lines->start);
        lines->end -= lines->start;
        lines->start = 0;
    }
    *avail = data_cap(lines) - lines->end;
    return lines->buf + lines->end;
}

void io_lines_commit(struct io_lines *lines, size_t n)
{
    lines->end += n;
}

size_t io_lines_pending(const struct io_lines *lines)
{
    return lines->end - lines->start;
}

void io_lines_release_if_idle(struct io_lines *lines)
{
    if (io_lines_pending(lines) == 0 && !lines->skip_lf)
        io_lines_free(lines);
}

/* Index of the first CR or LF in buf[from, to), or to when there is none. */
static size_t find_line_end(const char *buf, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (buf[i] == '\n' || buf[i] == '\r')
            return i;
    return to;
}

int io_lines_next(struct io_lines *lines, char **line, size_t *len)
{
    size_t from, at;

    if (lines->skip_lf && lines->start < lines->end) { /* the LF of a CRLF split across reads */
        if (lines->buf[lines->start] == '\n')
            lines->start++;
        lines->skip_lf = false;
    }
    from = lines->start + lines->scanned;
    at = find_line_end(lines->buf, from, lines->end);
    if (at == lines->end) {
        lines->scanned = lines->end - lines->start;
        if (lines->scanned > lines->max_line) {
            errno = EMSGSIZE;
            return -1;
        }
        return 0;
    }
    *line = lines->buf + lines->start;
    *len = at - lines->start;
    if (lines->buf[at] == '\r') {
        if (at + 1 == lines->end)
            lines->skip_lf = true; /* can't see yet whether an LF follows: skip it later */
        else if (lines->buf[at + 1] == '\n')
            lines->start = at + 1; /* CRLF: the LF goes with this line */
    }
    lines->buf[at] = '\0';
    lines->start = (lines->start > at ? lines->start : at) + 1;
    lines->scanned = 0;
    return 1;
}

int io_lines_rest(struct io_lines *lines, char **line, size_t *len)
{
    if (lines->start == lines->end)
        return 0;
    *line = lines->buf + lines->start;
    *len = lines->end - lines->start;
    lines->buf[lines->end] = '\0';
    lines->start = lines->end;
    lines->scanned = 0;
    return 1;
}

/* ---- the reader ------------------------------------------------------------ */

void io_reader_init(struct io_reader *reader, int fd, size_t max_line)
{
    reader->fd = fd;
    reader->timeout_ms = -1;
    reader->eof = false;
    io_lines_init(&reader->lines, max_line);
}

void io_reader_free(struct io_reader *reader)
{
    io_lines_free(&reader->lines);
}

/* Read once more into the splitter. Returns 0, or -1 with errno set. */
static int fill(struct io_reader *reader)
{
    size_t avail;
    char *space = io_lines_space(&reader->lines, &avail);
    ssize_t n;

    if (space == NULL)
        return -1;
    for (;;) {
        int ready = sig_wait_fd(reader->fd, POLLIN, reader->timeout_ms);
        if (ready < 0)
            return -1;
        if (ready == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        n = read(reader->fd, space, avail);
        if (n >= 0)
            break;
        if (errno != EINTR)
            return -1;
    }
    if (n == 0)
        reader->eof = true;
    io_lines_commit(&reader->lines, (size_t)n);
    return 0;
}

int io_read_line(struct io_reader *reader, char **line, size_t *len)
{
    for (;;) {
        int rc = io_lines_next(&reader->lines, line, len);
        if (rc != 0)
            return rc;
        if (reader->eof)
            return io_lines_rest(&reader->lines, line, len);
        if (fill(reader) < 0)
            return -1;
    }
}
