/* io.h - moving bytes correctly: whole writes, and lines out of a byte stream.
 *
 * TCP delivers a stream of bytes, not messages: one write may arrive in many
 * reads and many writes in one read. io_write_all() finishes partial writes;
 * the line splitter (struct io_lines, no I/O at all) cuts a stream into lines
 * the way Java's BufferedReader.readLine() does: a line ends at LF, CRLF or a
 * lone CR, even when the CR and the LF arrive in different reads. struct
 * io_reader feeds a splitter from a descriptor for blocking programs; event
 * loops feed one themselves.
 */
#ifndef KIT_IO_H
#define KIT_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* io_write_all - write all len bytes to fd, finishing partial writes and retrying EINTR;
 * never raises SIGPIPE on a socket. Returns 0, or -1 with errno set (EPIPE, ECONNRESET,
 * EINTR when a stop was requested, see sig.h). */
int io_write_all(int fd, const void *buf, size_t len);

/* io_read_some - wait (stop-aware) and read up to len bytes. Returns the count, 0 at EOF,
 * or -1 with errno set (EINTR when a stop was requested). */
ssize_t io_read_some(int fd, void *buf, size_t len);

/* ---- the line splitter: bytes in, lines out, no I/O ---------------------- */

struct io_lines {
    char *buf;       /* max_line + 2 bytes, allocated on first use */
    size_t max_line; /* longest line accepted, ending excluded */
    size_t start;    /* first byte not yet returned */
    size_t end;      /* one past the last byte received */
    size_t scanned;  /* bytes from start already known to hold no line end */
    bool skip_lf;    /* the last line ended in CR: a following LF belongs to it */
};

/* io_lines_init - an empty splitter for lines of at most max_line bytes (no allocation). */
void io_lines_init(struct io_lines *lines, size_t max_line);

/* io_lines_free - release the buffer; the splitter may be used again (it reallocates). */
void io_lines_free(struct io_lines *lines);

/* io_lines_space - where to put the next bytes received; sets *avail (> 0 unless a line is
 * already too long). Returns NULL with errno ENOMEM when allocation fails. */
char *io_lines_space(struct io_lines *lines, size_t *avail);

/* io_lines_commit - count n bytes just written at io_lines_space(). */
void io_lines_commit(struct io_lines *lines, size_t n);

/* io_lines_next - the next complete line, without its ending, NUL-terminated (it may hold
 * NULs: use *len). Valid until the next call. Returns 1 with a line, 0 when more bytes are
 * needed, -1 with errno EMSGSIZE when a line exceeds max_line. */
int io_lines_next(struct io_lines *lines, char **line, size_t *len);

/* io_lines_rest - at EOF, the unterminated last line if any. Returns 1 with a line, else 0. */
int io_lines_rest(struct io_lines *lines, char **line, size_t *len);

/* io_lines_pending - bytes received and not yet returned as lines. */
size_t io_lines_pending(const struct io_lines *lines);

/* io_lines_release_if_idle - free the buffer when nothing is pending (idle connections in an
 * event loop then cost no buffer). */
void io_lines_release_if_idle(struct io_lines *lines);

/* ---- the reader: a splitter fed from a descriptor ------------------------ */

struct io_reader {
    int fd;
    int timeout_ms; /* -1: wait forever; else a read waiting longer fails with ETIMEDOUT */
    bool eof;
    struct io_lines lines;
};

/* io_reader_init - a reader of lines of at most max_line bytes from fd (no allocation). */
void io_reader_init(struct io_reader *reader, int fd, size_t max_line);

/* io_reader_free - release the reader's buffer (the fd stays open: the caller owns it). */
void io_reader_free(struct io_reader *reader);

/* io_read_line - the next line from fd, ending stripped, NUL-terminated, valid until the next
 * call; an unterminated last line is returned at EOF. Returns 1 with a line, 0 at EOF, -1
 * with errno set (EMSGSIZE line too long, ETIMEDOUT, EINTR stop requested, or read's). */
int io_read_line(struct io_reader *reader, char **line, size_t *len);

#endif
