/* kk-event-server - the Knock Knock server of lessons 04 and 05, on the event loop.
 *
 * The protocol module of lesson 04 (knock_protocol.c) is linked unchanged. What a thread
 * kept on its stack in lesson 05 (the protocol state, the line reader) is now a small
 * per-connection block, struct kk_conn, that the loop hands back with every event. The
 * reader is common's io_lines: a pure line splitter, fed here with whatever bytes the
 * loop read; every complete line in them is answered, in order.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "diag.h"
#include "event_loop.h"
#include "event_server.h"
#include "io.h"
#include "knock_protocol.h"

/* Room for the longest server line (72 bytes) and its "\n", with some to spare. The loop
 * reads at most room / KK_OUT_MAX bytes at a time: even a packet of empty lines, each
 * one answered, fits in the output buffer. */
enum { KK_OUT_MAX = 128 };

/* What the thread of lesson 05 kept in local variables. */
struct kk_conn {
    struct kk_protocol kk;
    struct io_lines lines; /* its buffer exists only while a line is incomplete */
    bool done;             /* "Bye." sent: further lines are ignored */
};

/* Send text and its "\n" with one call, so each server line leaves as one piece. */
static int send_line(struct ev_conn *conn, const char *text)
{
    char buf[KK_OUT_MAX];
    size_t len = strlen(text);

    if (len >= sizeof buf) {
        errno = EMSGSIZE;
        return -1;
    }
    memcpy(buf, text, len + 1); /* with its NUL, which the "\n" then replaces */
    buf[len] = '\n';
    return ev_send(conn, buf, len + 1);
}

/* Answer one line; after "Bye." the connection closes once the answer is sent. */
static int answer(struct ev_conn *conn, struct kk_conn *st, const char *line, size_t len)
{
    if (send_line(conn, kk_reply(&st->kk, line, len, &st->done)) < 0)
        return -1;
    if (st->done)
        ev_close_when_flushed(conn);
    return 0;
}

/* Answer every complete line the splitter holds. Returns 0, or -1 (line too long). */
static int answer_lines(struct ev_conn *conn, struct kk_conn *st)
{
    char *line;
    size_t len;
    int rc;

    while (!st->done && (rc = io_lines_next(&st->lines, &line, &len)) != 0) {
        if (rc < 0) {
            diag_warn("%s: line longer than %d bytes, connection closed", ev_peer(conn),
                      KK_MAX_LINE);
            return -1;
        }
        if (answer(conn, st, line, len) < 0)
            return -1;
    }
    return 0;
}

/* ---- the handlers ---------------------------------------------------------------- */

static int kk_on_open(struct ev_conn *conn)
{
    struct kk_conn *st = ev_state(conn);

    kk_init(&st->kk);
    io_lines_init(&st->lines, KK_MAX_LINE);
    return send_line(conn, kk_greeting(&st->kk)); /* the server speaks first */
}

/* Feed the bytes to the splitter (it holds one line at most) and answer each line. */
static int kk_on_data(struct ev_conn *conn, const char *data, size_t len)
{
    struct kk_conn *st = ev_state(conn);

    while (len > 0 && !st->done) {
        size_t avail, n;
        char *space = io_lines_space(&st->lines, &avail);
        if (space == NULL || avail == 0)
            return -1; /* out of memory (avail 0 cannot be: a too-long line failed first) */
        n = len < avail ? len : avail;
        memcpy(space, data, n);
        io_lines_commit(&st->lines, n);
        data += n;
        len -= n;
        if (answer_lines(conn, st) < 0)
            return -1;
    }
    io_lines_release_if_idle(&st->lines); /* an idle client keeps no line buffer */
    return 0;
}

/* The client sent its last bytes: a last line without "\n" is answered too. */
static int kk_on_eof(struct ev_conn *conn)
{
    struct kk_conn *st = ev_state(conn);
    char *line;
    size_t len;

    if (!st->done && io_lines_rest(&st->lines, &line, &len) == 1)
        return answer(conn, st, line, len);
    return 0;
}

static void kk_on_close(struct ev_conn *conn)
{
    struct kk_conn *st = ev_state(conn);

    io_lines_free(&st->lines);
}

static const struct ev_handlers kk_handlers = {
    .state_size = sizeof(struct kk_conn),
    .out_per_in = KK_OUT_MAX,
    .busy_text = "Server busy, try again later.\n", /* as kk-multi-server says it */
    .on_open = kk_on_open,
    .on_data = kk_on_data,
    .on_eof = kk_on_eof,
    .on_close = kk_on_close,
};

int main(int argc, char **argv)
{
    return event_server_main(argc, argv, &kk_handlers);
}
