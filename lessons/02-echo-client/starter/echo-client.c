/* echo-client.c - the tutorial's EchoClient in C: each line of stdin goes to an echo server,
 * and its reply comes back on stdout as "echo: <reply>".
 *
 * Lock-step, as the Java client is: one line out, one line back, then the next line. Only
 * one line is ever on its way, so the client can never deadlock with the server; the price
 * is one network round trip per line. At the end of stdin the client half-closes, "no more
 * from me", and prints what the server still sends until it closes the connection.
 *
 * YOUR TURN: this is the starter. The frame is here: the options, the messages, reading
 * stdin, the lock-step loop (echo_lines) and main. What talks to the server is yours to
 * write, TODO(1) to TODO(5), in that order; after each, `make test-yours` shows which
 * stage passes now. The README's "Your turn" lists them.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "args.h"
#include "diag.h"
#include "io.h"
#include "net.h"

#define USAGE "[--timeout SECS] HOST PORT"

enum { MAX_LINE = 65535, MAX_TIMEOUT_SECS = 86400 };

struct client {
    const char *host, *port; /* as given: every message names them */
    int timeout_secs;        /* --timeout, or 0: wait for the server forever */
    int fd;                  /* the connection */
    struct io_reader in;     /* lines from stdin */
    char out[MAX_LINE + 1];  /* the line being sent, and its '\n' */
    char err[NET_ERR_LEN];   /* why the session failed */
    /* TODO(3) adds here what the reply reader keeps from one call to the next. */
};

/* ---- options ------------------------------------------------------------------------ */

static void print_help(void)
{
    diag_print_usage(USAGE);
    printf("Send each line of stdin to the echo server at HOST PORT and print its reply as\n"
           "\"echo: <reply>\". At the end of stdin, half-close and print what still comes.\n"
           "  --timeout SECS  fail when the server is silent for SECS (1..%d) seconds\n",
           MAX_TIMEOUT_SECS);
}

static void parse_options(int argc, char **argv, struct client *c)
{
    static const struct option longopts[] = {
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    opterr = 0; /* our own message and the usage line, not getopt's message as well */
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (opt) {
        case 't':
            c->timeout_secs = (int)args_count("--timeout", optarg, 1, MAX_TIMEOUT_SECS, USAGE);
            break;
        case 'h':
            print_help();
            exit(0);
        default:
            die_bad_option(USAGE, opt, argv, longopts);
        }
    }
    args_need(argc, argv, "HOST PORT", USAGE);
    args_port(argv[optind + 1], false, USAGE); /* port 0 means "any port" only to a server */
    c->host = argv[optind];
    c->port = argv[optind + 1];
}

/* ---- talking to the server ------------------------------------------------------------ */

/* Record why the session failed, in c->err. Returns -1, for "return fail(...)". */
static int fail(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct client *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* The message for a failed write to the server (errno says why). Returns -1. */
static int write_failed(struct client *c)
{
    return fail(c, "cannot write to %s port %s: %s", c->host, c->port, strerror(errno));
}

/* The message for a failed read from the server (errno says why): a silence longer than
 * --timeout is a late reply before the end of stdin, and after it a server that does not
 * close. Returns -1. */
static int read_failed(struct client *c, bool input_ended)
{
    if (errno == ETIMEDOUT && !input_ended)
        return fail(c, "cannot read from %s port %s: no reply within %d s", c->host, c->port,
                    c->timeout_secs);
    if (errno == ETIMEDOUT)
        return fail(c, "cannot read from %s port %s: server did not close within %d s", c->host,
                    c->port, c->timeout_secs);
    if (errno == EMSGSIZE)
        return fail(c, "cannot read from %s port %s: reply longer than %d bytes", c->host, c->port,
                    MAX_LINE);
    return fail(c, "cannot read from %s port %s: %s", c->host, c->port, strerror(errno));
}

/* Connect to the server: every address the name has, in order, until one answers. Sets
 * c->fd. Returns 0, or -1 with c->err set. */
static int connect_to_server(struct client *c)
{
    /* TODO(1): connect to c->host port c->port and keep the socket in c->fd. One call does
     * it: c->fd = net_connect(c->host, c->port, c->err, sizeof c->err) (common/net.h), the
     * loop you wrote in lesson 01 (getaddrinfo, then socket and connect on each address
     * until one answers), which fills c->err when none does. Or write that loop here again;
     * its messages are "cannot resolve %s port %s: %s" (gai_strerror) and "cannot connect
     * to %s port %s: %s" (strerror of the last address's failure).
     * README: "net_connect, call by call".
     * Checked by: stage 2. */
    c->fd = -1;
    errno = ENOSYS; /* "Function not implemented": not written yet */
    return fail(c, "cannot connect to %s port %s: %s", c->host, c->port, strerror(errno));
}

/* Send a line and the '\n' the server expects, every byte of them. Returns 0, or -1 with
 * c->err set. */
static int send_line(struct client *c, const char *line, size_t len)
{
    memcpy(c->out, line, len); /* len <= MAX_LINE: the stdin reader refuses longer lines */
    c->out[len] = '\n';
    /* TODO(2): send the len + 1 bytes of c->out (the line and its '\n': one buffer, not two
     * writes, for a second small write would wait, by Nagle's rule, until the first is
     * acknowledged). send() returns how many bytes it took, and that may be fewer than you
     * gave it (the socket's buffer is full, or a signal ended its wait): call it again for
     * the rest, in a loop, until every byte has left.
     * A server that resets the connection makes the next write raise SIGPIPE, whose
     * default action kills the program without a word: send with MSG_NOSIGNAL (or call
     * signal(SIGPIPE, SIG_IGN) once in main), and the write fails with EPIPE instead.
     * On a failure (EINTR: try again) return write_failed(c).
     * io_write_all() (common/io.h) is this loop; calling it passes the stages too, but
     * writing it once is the lesson.
     * README: "One line out, one line back", and "What can go wrong" (partial writes,
     * SIGPIPE).
     * Checked by: stage 3, stage 6, stage 8. */
    errno = ENOSYS; /* "Function not implemented": not written yet */
    return write_failed(c);
}

/* The next line from the server, its ending (LF, CRLF or a lone CR) stripped. Returns 1
 * with a line, 0 when the server has closed the connection, -1 with c->err set. With
 * --timeout, a wait longer than that fails. */
static int read_reply(struct client *c, bool input_ended, char **line, size_t *len)
{
    /* TODO(3): return the next line the server sends, without its ending, in *line (end it
     * with a '\0' after the *len bytes; the line itself may hold NULs). TCP delivers bytes,
     * not lines: one read() may bring part of a line, or several lines. So:
     * - keep what you read in a buffer of struct client (add it there, with the count of
     *   bytes it holds: char reply[MAX_LINE + 2] has room for the longest line, its first
     *   ending byte and a '\0'), and look there for a line end first: '\n', "\r\n" or a
     *   lone '\r', as Java's readLine() does; return the line before it, and keep the
     *   bytes after it for the next call;
     * - a '\r' that is the last byte you have may be the first half of a "\r\n" split
     *   across two reads: if the next byte to come is '\n', it belongs to that line;
     * - no line end yet: read() more onto the end of c->reply. With --timeout
     *   (c->timeout_secs > 0), wait first with poll() for at most that many seconds; when
     *   nothing comes, set errno = ETIMEDOUT and return read_failed(c, input_ended);
     * - more than MAX_LINE bytes with no line end: set errno = EMSGSIZE and return
     *   read_failed(c, input_ended); a buffer that grows to fit would let any server fill
     *   the client's memory;
     * - read() returning 0: the server has closed. Return what is left as a last line
     *   (a last line may come without an ending), then 0 on the next call;
     * - read() or poll() failing (EINTR: try again): return read_failed(c, input_ended).
     * io_read_line() on an io_reader (common/io.h, as stdin is read here) does all this;
     * calling it passes the stages too, but writing it once is the lesson.
     * README: "One line out, one line back", and "Your turn".
     * Checked by: stage 3, stage 5, stage 8. */
    *line = NULL;
    *len = 0;
    errno = ENOSYS; /* "Function not implemented": not written yet */
    return read_failed(c, input_ended);
}

/* Print a reply as the tutorial does: "echo: ", the line, '\n'. Returns 0, or -1 with c->err
 * set. */
static int print_reply(struct client *c, const char *line, size_t len)
{
    /* TODO(4): print "echo: ", the len bytes of line and '\n' on stdout. The line may hold
     * NUL bytes: write it with fwrite(line, 1, len, stdout), not fputs() or printf("%s"),
     * which stop at the first NUL. Then fflush(stdout): to a pipe or a file, stdout keeps
     * what you print until its buffer is full, and whoever reads it (a person, a script)
     * may be waiting for this reply before it sends the next line. When any of these
     * fails, return fail(c, "stdout: %s", strerror(errno)).
     * README: "One line out, one line back".
     * Checked by: stage 3, stage 8. */
    (void)c;
    (void)line;
    (void)len;
    return 0;
}

/* One line out, one line back, for every line of stdin. Returns 0 at the end of stdin,
 * or -1 with c->err set. */
static int echo_lines(struct client *c)
{
    char *line, *reply = NULL;
    size_t len, reply_len = 0; /* reply and reply_len: set by read_reply() when it returns 1 */
    int rc;

    while ((rc = io_read_line(&c->in, &line, &len)) == 1) {
        if (send_line(c, line, len) < 0)
            return -1;
        rc = read_reply(c, false, &reply, &reply_len);
        if (rc < 0)
            return -1;
        if (rc == 0) /* Java's readLine() returns null here: the tutorial prints "echo: null" */
            return fail(c, "cannot read from %s port %s: server closed the connection", c->host,
                        c->port);
        if (print_reply(c, reply, reply_len) < 0)
            return -1;
    }
    if (rc < 0 && errno == EMSGSIZE)
        return fail(c, "stdin: line longer than %d bytes", MAX_LINE);
    if (rc < 0)
        return fail(c, "stdin: %s", strerror(errno));
    return 0;
}

/* At the end of stdin, tell the server no more is coming (half-close: our FIN), then print
 * what it still sends until it closes too. Returns 0, or -1 with c->err set. */
static int finish(struct client *c)
{
    /* TODO(5): half-close: shutdown(c->fd, SHUT_WR) sends a FIN after the last line, and
     * the server's next read returns 0, "end of input", while the connection stays open
     * the other way. When it fails, return fail(c, "cannot shut down the connection to %s
     * port %s: %s", c->host, c->port, strerror(errno)).
     * Then read the server's lines with read_reply(c, true, ...) and print each one with
     * print_reply(), until read_reply returns 0 (the server has closed: return 0) or -1
     * (return -1). Some servers speak only once the input has ended, and one that never
     * learns that it has waits forever, and so does the client.
     * README: "The end of input: half-close".
     * Checked by: stage 4, stage 8. */
    (void)c;
    return 0;
}

int main(int argc, char **argv)
{
    static struct client c; /* static: its 64 KiB line buffers stay off the stack */
    int rc;

    diag_set_progname(argv[0]);
    parse_options(argc, argv, &c);
    if (connect_to_server(&c) < 0)
        die("%s", c.err);
    io_reader_init(&c.in, STDIN_FILENO, MAX_LINE);

    rc = echo_lines(&c);
    if (rc == 0)
        rc = finish(&c);

    /* Let go in the reverse order of taking, on failure too (Java: try-with-resources). */
    io_reader_free(&c.in);
    close(c.fd);
    if (rc < 0)
        die("%s", c.err);
    return 0;
}
