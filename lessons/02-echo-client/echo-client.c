/* echo-client.c - the tutorial's EchoClient in C: each line of stdin goes to an echo server,
 * and each reply line comes back on stdout as "echo: <reply>".
 *
 * Java's EchoClient sends one line and waits for its reply: fine for a person typing, slow
 * for a pipe of 100,000 lines (one network round trip per line). This client keeps sending
 * while input is ready, but never has more than WINDOW bytes sent and not yet echoed back:
 * a sliding window, like TCP's own. The window is smaller than the socket buffers, so the
 * server can always write its echo without blocking and never stops reading what we send.
 * (A client that writes everything before reading would deadlock once the buffers fill.)
 * When no input is ready, the client waits for the replies: typing feels as in Java.
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

/* Bytes sent and not yet echoed back, at most. A TCP socket's default receive buffer on
 * Linux is larger (tcp_rmem: 128 KiB on current kernels, 85 KiB on old ones), so the server
 * can always write the echo of a whole window into ours: it never blocks, so it never stops
 * reading what we send, so our writes never block for long. */
enum { WINDOW = 64 * 1024 };

/* The longest stdin line accepted, and room for lines read and not yet sent: up to a window
 * of them plus one longest line. */
enum { MAX_LINE = WINDOW - 1, PENDING_CAP = WINDOW + MAX_LINE + 1 };

enum { MAX_TIMEOUT_SECS = 86400 };

struct client {
    const char *host, *port;  /* as given: every message names them */
    int timeout_secs;         /* --timeout, or 0: wait for replies forever */
    int fd;                   /* the connection */
    struct io_reader in;      /* lines from stdin */
    struct io_reader replies; /* lines from the server */
    bool input_done;          /* stdin has ended */
    char *pending;            /* lines read from stdin, each with its '\n', not yet sent */
    size_t pending_len;
    size_t unanswered_bytes; /* sent and not yet echoed back: at most WINDOW */
    size_t unanswered_lines; /* whole lines sent whose reply has not come yet */
    char err[NET_ERR_LEN];   /* why the session failed */
};

/* ---- options ------------------------------------------------------------------------ */

static void print_help(void)
{
    diag_print_usage(USAGE);
    printf("Send each line of stdin to the echo server at HOST PORT; print each reply as\n"
           "\"echo: <reply>\". At the end of stdin, close the connection.\n"
           "  --timeout SECS  fail when a reply takes longer than SECS (1..%d) seconds\n",
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
    /* A client needs a real port: 0 means "any port" only to a server. */
    args_port(argv[optind + 1], false, USAGE);
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

/* Nothing sent is unanswered and nothing read is unsent: only the user can make progress. */
static bool idle(const struct client *c)
{
    return c->pending_len == 0 && c->unanswered_lines == 0;
}

/* May we read a stdin line now? Yes when one is ready without waiting, or when we are idle
 * (then waiting for the user is all there is to do); never while pending holds a window. */
static bool input_ready(const struct client *c)
{
    struct pollfd pfd = {.fd = c->in.fd, .events = POLLIN};

    if (c->input_done || c->pending_len >= WINDOW)
        return false;
    return idle(c) || io_lines_pending(&c->in.lines) > 0 || poll(&pfd, 1, 0) > 0;
}

/* Read one stdin line into pending, adding the '\n' the server expects (an unterminated last
 * line gets one too); at the end of stdin, note it. Returns 0, or -1 with c->err set. */
static int take_line(struct client *c)
{
    char *line;
    size_t len;
    int rc = io_read_line(&c->in, &line, &len);

    if (rc < 0 && errno == EMSGSIZE)
        return fail(c, "stdin: line longer than %d bytes", MAX_LINE);
    if (rc < 0)
        return fail(c, "stdin: %s", strerror(errno));
    if (rc == 0) {
        c->input_done = true;
        return 0;
    }
    memcpy(c->pending + c->pending_len, line, len);
    c->pending[c->pending_len + len] = '\n';
    c->pending_len += len + 1;
    return 0;
}

/* Send as much of pending as the window allows (perhaps part of a line: TCP carries bytes,
 * not lines). Returns 0, or -1 with c->err set. */
static int send_pending(struct client *c)
{
    size_t n = WINDOW - c->unanswered_bytes;
    const char *p = c->pending;

    if (n > c->pending_len)
        n = c->pending_len;
    if (n == 0)
        return 0;
    if (io_write_all(c->fd, c->pending, n) < 0)
        return fail(c, "cannot write to %s port %s: %s", c->host, c->port, strerror(errno));
    c->unanswered_bytes += n;
    while ((p = memchr(p, '\n', n - (size_t)(p - c->pending))) != NULL) {
        c->unanswered_lines++;
        p++;
    }
    memmove(c->pending, c->pending + n, c->pending_len - n);
    c->pending_len -= n;
    return 0;
}

/* Print one reply as the tutorial does ("echo: " and the line, which may hold NULs) and
 * slide the window by the bytes it answered. Returns 0, or -1 with c->err set. */
static int take_reply(struct client *c, const char *line, size_t len)
{
    c->unanswered_lines--;
    if (c->unanswered_lines == 0 || len + 1 > c->unanswered_bytes)
        c->unanswered_bytes = 0; /* all answered: restart the count (a server may reply
                                    with other endings than ours) */
    else
        c->unanswered_bytes -= len + 1;
    if (fputs("echo: ", stdout) == EOF || fwrite(line, 1, len, stdout) != len ||
        putchar('\n') == EOF)
        return fail(c, "stdout: %s", strerror(errno));
    return 0;
}

/* Print the replies already received, without any system call. Returns 0, or -1. */
static int take_received_replies(struct client *c)
{
    char *line;
    size_t len;
    int rc = 1;

    while (c->unanswered_lines > 0 && (rc = io_lines_next(&c->replies.lines, &line, &len)) == 1)
        if (take_reply(c, line, len) < 0)
            return -1;
    if (rc < 0)
        return fail(c, "cannot read from %s port %s: reply longer than %d bytes", c->host, c->port,
                    MAX_LINE);
    return 0;
}

/* Wait for the next reply and take it; every failure names the server. Returns 0, or -1. */
static int wait_reply(struct client *c)
{
    char *line;
    size_t len;
    int rc = io_read_line(&c->replies, &line, &len);

    if (rc == 1)
        return take_reply(c, line, len);
    if (rc == 0) /* Java's readLine() returns null here, and the tutorial prints "echo: null" */
        return fail(c, "cannot read from %s port %s: server closed the connection", c->host,
                    c->port);
    if (errno == ETIMEDOUT)
        return fail(c, "cannot read from %s port %s: no reply within %d s", c->host, c->port,
                    c->timeout_secs);
    if (errno == EMSGSIZE)
        return fail(c, "cannot read from %s port %s: reply longer than %d bytes", c->host, c->port,
                    MAX_LINE);
    return fail(c, "cannot read from %s port %s: %s", c->host, c->port, strerror(errno));
}

/* Flush stdout before any wait: a person (or a program) may be waiting for those lines. */
static int flush_output(struct client *c)
{
    if (fflush(stdout) == EOF)
        return fail(c, "stdout: %s", strerror(errno));
    return 0;
}

/* Echo every line of stdin, until its end and the last reply. Returns 0, or -1 with c->err
 * set. Each turn: take in the stdin lines that are ready, print the replies that are here,
 * then, before waiting for the server, send what the window allows. Sending just before
 * waiting also acknowledges at once what the server sent: a server whose small writes wait
 * for our acknowledgement (Nagle's rule) is not held up by our delayed ACK (40 ms). */
static int echo_lines(struct client *c)
{
    for (;;) {
        if (idle(c) && flush_output(c) < 0)
            return -1;
        while (input_ready(c))
            if (take_line(c) < 0)
                return -1;
        if (c->input_done && idle(c))
            return flush_output(c);
        if (take_received_replies(c) < 0 || send_pending(c) < 0)
            return -1;
        if (c->unanswered_lines == 0)
            continue;
        if (flush_output(c) < 0 || wait_reply(c) < 0)
            return -1;
    }
}

/* At the end of stdin, tell the server no more is coming (half-close). */
static int finish(struct client *c)
{
    if (shutdown(c->fd, SHUT_WR) < 0)
        return fail(c, "cannot shut down the connection to %s port %s: %s", c->host, c->port,
                    strerror(errno));
    return 0;
}

int main(int argc, char **argv)
{
    struct client c = {.fd = -1};
    int rc;

    diag_set_progname(argv[0]);
    parse_options(argc, argv, &c);
    c.pending = malloc(PENDING_CAP);
    if (c.pending == NULL)
        die("malloc:");
    c.fd = net_connect(c.host, c.port, c.err, sizeof c.err);
    if (c.fd < 0) {
        free(c.pending);
        die("%s", c.err);
    }
    io_reader_init(&c.in, STDIN_FILENO, MAX_LINE);
    io_reader_init(&c.replies, c.fd, MAX_LINE);
    c.replies.timeout_ms = c.timeout_secs > 0 ? c.timeout_secs * 1000 : -1;

    rc = echo_lines(&c);
    if (rc == 0)
        rc = finish(&c);

    /* Let go in the reverse order of taking, on failure too (Java: try-with-resources). */
    io_reader_free(&c.replies);
    io_reader_free(&c.in);
    close(c.fd);
    free(c.pending);
    if (rc < 0)
        die("%s", c.err);
    return 0;
}
