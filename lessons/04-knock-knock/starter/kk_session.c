/* kk_session.c - one Knock Knock conversation over a connected, blocking socket.
 *
 * YOUR TURN: this is the starter. send_line() is here; the conversation is yours to write,
 * TODO(6) and TODO(7). kk-server.c accepts each client, calls kk_session_run() and closes
 * the socket after it (lingering after "Bye."): kk_session.h says what it expects back.
 * The README's "Your turn" lists the TODOs.
 */
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
    /* TODO(7): until kk_reply() sets done: the next line from io_read_line(reader, ...),
     * and its answer with send_line(fd, kk_reply(kk, line, len, &done)). io_read_line()
     * returning 0 (the client closed its side) ends the conversation too: return 0; -1
     * (a line too long, a reset, a stop): return -1, errno as it left it. Return as soon as
     * "Bye." is sent: the server closes the connection, the client must not wait for more.
     * README: "Your turn". Checked by: stage 4, stage 5, stage 6, stage 7, stage 8. */
    (void)fd;
    (void)kk;
    (void)reader;
    return 0;
}

int kk_session_run(int fd)
{
    /* TODO(6): a fresh conversation (kk_init()); the greeting first, before reading
     * anything: send_line(fd, kk_greeting(&kk)); then a reader of lines of at most
     * KK_MAX_LINE bytes on fd (io_reader_init()), converse(), and io_reader_free() on the
     * way out whatever converse() returned (keep its errno: free() may change it).
     * README: "Your turn". Checked by: stage 4. */
    (void)fd;
    (void)converse;
    (void)send_line;
    errno = ENOSYS; /* kk-server logs "Function not implemented" */
    return -1;
}

void kk_session_report(const char *peer, int err)
{
    if (err == EMSGSIZE)
        diag_warn("%s: line longer than %d bytes, connection closed", peer, KK_MAX_LINE);
    else if (err != ECONNRESET && err != EPIPE && err != EINTR)
        diag_warn("%s: %s", peer, strerror(err));
}
