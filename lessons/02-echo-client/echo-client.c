/* echo-client.c - the tutorial's EchoClient in C: each line of stdin goes to an echo server,
 * and its reply comes back on stdout as "echo: <reply>".
 *
 * Lock-step, as the Java client is: one line out, one line back, then the next line. Only
 * one line is ever on its way, so the client can never deadlock with the server; the price
 * is one network round trip per line (the README measures it, and lesson 07's echo-load
 * keeps many requests in flight instead). At the end of stdin the client half-closes, "no
 * more from me", and prints what the server still sends until it closes the connection.
 */
#include <errno.h>
#include <getopt.h>
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
    const char *host, *port;  /* as given: every message names them */
    int timeout_secs;         /* --timeout, or 0: wait for the server forever */
    int fd;                   /* the connection */
    struct io_reader in;      /* lines from stdin */
    struct io_reader replies; /* lines from the server */
    char out[MAX_LINE + 1];   /* the line being sent, and its '\n' */
    char err[NET_ERR_LEN];    /* why the session failed */
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

/* Connect to the server: every address the name has, in order, until one answers (the
 * README's "net_connect, call by call"). Returns 0, or -1 with c->err set. */
static int connect_to_server(struct client *c)
{
    c->fd = net_connect(c->host, c->port, c->err, sizeof c->err);
    return c->fd < 0 ? -1 : 0;
}

/* Send a line and the '\n' the server expects with one write: two small writes could leave
 * as two packets, the second held back until the first is acknowledged (Nagle's rule).
 * io_write_all() sends until every byte has left: send() may take only part of them. */
static int send_line(struct client *c, const char *line, size_t len)
{
    memcpy(c->out, line, len); /* len <= MAX_LINE: the reader refuses longer lines */
    c->out[len] = '\n';
    if (io_write_all(c->fd, c->out, len + 1) < 0)
        return write_failed(c);
    return 0;
}

/* The next line from the server, its ending (LF, CRLF or a lone CR) stripped. Returns 1
 * with a line, 0 when the server has closed the connection, -1 with c->err set. With
 * --timeout, a wait longer than that fails. */
static int read_reply(struct client *c, bool input_ended, char **line, size_t *len)
{
    int rc = io_read_line(&c->replies, line, len);

    return rc >= 0 ? rc : read_failed(c, input_ended);
}

/* Print a reply as the tutorial does: "echo: ", the line (it may hold NULs), '\n'; flushed,
 * since whoever reads our stdout may be waiting for it before typing the next line. */
static int print_reply(struct client *c, const char *line, size_t len)
{
    if (fputs("echo: ", stdout) == EOF || fwrite(line, 1, len, stdout) != len ||
        putchar('\n') == EOF || fflush(stdout) == EOF)
        return fail(c, "stdout: %s", strerror(errno));
    return 0;
}

/* One line out, one line back, for every line of stdin. Returns 0 at the end of stdin,
 * or -1 with c->err set. */
static int echo_lines(struct client *c)
{
    char *line, *reply;
    size_t len, reply_len;
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
    char *line;
    size_t len;
    int rc;

    if (shutdown(c->fd, SHUT_WR) < 0)
        return fail(c, "cannot shut down the connection to %s port %s: %s", c->host, c->port,
                    strerror(errno));
    while ((rc = read_reply(c, true, &line, &len)) == 1)
        if (print_reply(c, line, len) < 0)
            return -1;
    return rc;
}

int main(int argc, char **argv)
{
    static struct client c; /* static: its 64 KiB line buffer stays off the stack */
    int rc;

    diag_set_progname(argv[0]);
    parse_options(argc, argv, &c);
    if (connect_to_server(&c) < 0)
        die("%s", c.err);
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
    if (rc < 0)
        die("%s", c.err);
    return 0;
}
