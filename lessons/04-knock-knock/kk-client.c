/* kk-client - the tutorial's KnockKnockClient: relays the server's lines and yours.
 *
 * For every line the server sends it prints "Server: LINE"; unless that line is "Bye."
 * it reads one line from stdin, prints "Client: LINE" and sends it. Unlike the Java
 * client it never hangs:
 * - when your input ends before "Bye.", even before the greeting, it half-closes (the
 *   server sees EOF and hangs up), prints what the server still sends, and fails;
 * - before the greeting it watches stdin too, to notice that end (a line typed early is
 *   kept for after the greeting);
 * - while it waits for your line it watches the server too: a server that hangs up
 *   meanwhile is reported at once;
 * - --timeout SECS bounds every wait for a server that stays silent.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "args.h"
#include "diag.h"
#include "io.h"
#include "knock_protocol.h"
#include "net.h"

static const char usage[] = "[--timeout SECS] HOST PORT";

/* Longest line accepted from the server or from stdin; the longest --timeout. */
enum { CLIENT_MAX_LINE = KK_MAX_LINE, MAX_TIMEOUT_SECS = 86400 };

struct client {
    const char *host, *port; /* as given: the messages name them */
    int timeout_secs;        /* --timeout, or 0: wait for the server as long as it takes */
    int fd;
    struct io_reader server; /* lines from the socket */
    struct io_reader input;  /* lines from stdin */
    bool heard;              /* the server has said something */
    bool has_early;          /* a line typed before the greeting waits in early */
    char *early;             /* (valid until the next read from input) */
    size_t early_len;
};

/* ---- the command line ------------------------------------------------------- */

static void parse_args(int argc, char **argv, struct client *c)
{
    static const struct option longopts[] = {
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    opterr = 0; /* our own message and the usage line, not getopt's message */
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (opt) {
        case 't':
            c->timeout_secs = (int)args_count("--timeout", optarg, 1, MAX_TIMEOUT_SECS, usage);
            break;
        case 'h':
            diag_print_usage(usage);
            exit(EXIT_SUCCESS);
        default:
            die_bad_option(usage, opt, argv, longopts);
        }
    }
    args_need(argc, argv, "HOST PORT", usage);
    args_port(argv[optind + 1], false, usage); /* a client needs a real port, not 0 */
    c->host = argv[optind];
    c->port = argv[optind + 1];
}

/* ---- lines in and out ---------------------------------------------------------- */

/* Print "Server: LINE" or "Client: LINE" (the line may hold NULs), flushed at once so the
 * transcript keeps its order next to stderr. */
static void print_line(const char *who, const char *line, size_t len)
{
    printf("%s: ", who);
    fwrite(line, 1, len, stdout);
    putchar('\n');
    fflush(stdout);
}

/* Send one line and its "\n" with a single write: two small writes could leave as two
 * segments, the second held back by Nagle's algorithm until the first is acknowledged.
 * Returns 0, or -1 after reporting the error. */
static int send_line(const struct client *c, const char *line, size_t len)
{
    char buf[CLIENT_MAX_LINE + 1];

    memcpy(buf, line, len); /* len <= CLIENT_MAX_LINE: the reader refuses longer lines */
    buf[len] = '\n';
    if (io_write_all(c->fd, buf, len + 1) < 0) {
        diag_warn("cannot write to %s port %s: %s", c->host, c->port, strerror(errno));
        return -1;
    }
    return 0;
}

/* The server's next line. Returns 1 with a line, 0 when the server has closed, or -1
 * after reporting the error. */
static int server_line(struct client *c, char **line, size_t *len)
{
    int rc = io_read_line(&c->server, line, len);

    if (rc > 0)
        c->heard = true;
    if (rc >= 0)
        return rc;
    if (errno == EMSGSIZE)
        diag_warn("cannot read from %s port %s: line longer than %d bytes", c->host, c->port,
                  CLIENT_MAX_LINE);
    else if (errno == ETIMEDOUT)
        diag_warn("cannot read from %s port %s: no %s within %d s", c->host, c->port,
                  c->heard ? "reply" : "greeting", c->timeout_secs);
    else
        diag_warn("cannot read from %s port %s: %s", c->host, c->port, strerror(errno));
    return -1;
}

/* Your next line: the one typed before the greeting if any, else the next from stdin.
 * Returns 1 with a line, 0 at the end of stdin, or -1 after reporting the error. */
static int input_line(struct client *c, char **line, size_t *len)
{
    int rc;

    if (c->has_early) {
        c->has_early = false;
        *line = c->early;
        *len = c->early_len;
        return 1;
    }
    rc = io_read_line(&c->input, line, len);
    if (rc < 0 && errno == EMSGSIZE)
        diag_warn("input: line longer than %d bytes", CLIENT_MAX_LINE);
    else if (rc < 0)
        diag_warn("input: %s", strerror(errno));
    return rc;
}

static bool is_bye(const char *line, size_t len)
{
    return len == 4 && memcmp(line, "Bye.", 4) == 0;
}

static void server_closed(const struct client *c)
{
    diag_warn("cannot read from %s port %s: server closed the connection", c->host, c->port);
}

/* ---- waiting for two things at once -------------------------------------------------- */

/* poll() until one of fds is ready or timeout_ms (-1: no limit) passes, retrying when a
 * signal interrupts it (the wait then starts again). Returns poll's result. */
static int poll_two(struct pollfd fds[2], int timeout_ms)
{
    int n;

    while ((n = poll(fds, 2, timeout_ms)) < 0 && errno == EINTR)
        ;
    return n;
}

/* Before the greeting: wait for the server to speak, watching stdin too. A line you type
 * early is read and kept for after the greeting; then only the server is watched. Returns
 * 1 when the server has something to read (or has closed: the read will say), 0 when
 * stdin ended with nothing typed, -1 after reporting the error. */
static int wait_for_greeting(struct client *c)
{
    struct pollfd fds[2] = {
        {.fd = c->fd, .events = POLLIN},
        {.fd = STDIN_FILENO, .events = POLLIN},
    };

    for (;;) {
        int rc = poll_two(fds, c->timeout_secs > 0 ? c->timeout_secs * 1000 : -1);
        if (rc < 0) {
            diag_warn("poll: %s", strerror(errno));
            return -1;
        }
        if (rc == 0) {
            diag_warn("cannot read from %s port %s: no greeting within %d s", c->host, c->port,
                      c->timeout_secs);
            return -1;
        }
        if (fds[0].revents != 0)
            return 1;
        rc = input_line(c, &c->early, &c->early_len);
        if (rc <= 0)
            return rc;
        c->has_early = true;
        fds[1].fd = -1; /* poll() ignores a negative fd: from now on, only the server */
    }
}

/* Did the server hang up? recv() with MSG_PEEK looks at the socket without taking
 * anything from it: 0 is the end of the stream, -1 a reset; a byte means the server spoke
 * out of turn (its words wait in the socket and are read after your next line). */
static bool server_hung_up(const struct client *c)
{
    char byte;
    ssize_t n;

    while ((n = recv(c->fd, &byte, 1, MSG_PEEK)) < 0 && errno == EINTR)
        ;
    return n <= 0;
}

/* Wait for your next line, watching the server meanwhile. Returns 1 when stdin has
 * something to read (a line, EOF or an error: the reader will say), 0 when the server
 * hung up first, -1 with errno set. */
static int wait_for_input(const struct client *c)
{
    struct pollfd fds[2] = {
        {.fd = STDIN_FILENO, .events = POLLIN},
        {.fd = c->fd, .events = POLLIN},
    };

    for (;;) {
        if (poll_two(fds, -1) < 0)
            return -1;
        if (fds[0].revents != 0)
            return 1;
        if (server_hung_up(c))
            return 0;
        /* It spoke out of turn: its bytes stay readable, and watching for them again would
         * wake us at once, again and again. Wait for stdin alone. */
        fds[1].fd = -1;
    }
}

/* ---- the conversation ------------------------------------------------------------ */

/* stdin ended before "Bye.", perhaps before the greeting: half-close so the server sees
 * EOF and hangs up, and show what it still says. Returns the exit status. */
static int input_ended(struct client *c)
{
    char *line;
    size_t len;
    int rc;

    if (shutdown(c->fd, SHUT_WR) < 0) {
        diag_warn("cannot shut down the connection to %s port %s: %s", c->host, c->port,
                  strerror(errno));
        return EXIT_RUNTIME;
    }
    while ((rc = server_line(c, &line, &len)) > 0) {
        print_line("Server", line, len);
        if (is_bye(line, len))
            return EXIT_SUCCESS;
    }
    if (rc == 0)
        diag_warn("input ended before %s port %s said %s", c->host, c->port,
                  c->heard ? "Bye." : "anything");
    return EXIT_RUNTIME;
}

/* The server hung up while we waited for your line: print what it still sent, then fail. */
static int server_left(struct client *c)
{
    char *line;
    size_t len;
    int rc;

    while ((rc = server_line(c, &line, &len)) > 0)
        print_line("Server", line, len);
    if (rc == 0)
        server_closed(c);
    return EXIT_RUNTIME;
}

/* Relay lines until "Bye." or until either side ends early. Returns the exit status. */
static int converse(struct client *c)
{
    char *line;
    size_t len;
    int rc = wait_for_greeting(c);

    if (rc < 0)
        return EXIT_RUNTIME;
    if (rc == 0) /* your input ended first: whatever the server says now, it cannot go on */
        return input_ended(c);
    while ((rc = server_line(c, &line, &len)) > 0) {
        print_line("Server", line, len);
        if (is_bye(line, len))
            return EXIT_SUCCESS;
        /* Nothing typed ahead: wait for it, and notice a server that leaves meanwhile. */
        if (!c->has_early && io_lines_pending(&c->input.lines) == 0 && !c->input.eof) {
            rc = wait_for_input(c);
            if (rc < 0) {
                diag_warn("poll: %s", strerror(errno));
                return EXIT_RUNTIME;
            }
            if (rc == 0)
                return server_left(c);
        }
        rc = input_line(c, &line, &len);
        if (rc < 0)
            return EXIT_RUNTIME;
        if (rc == 0)
            return input_ended(c);
        print_line("Client", line, len);
        if (send_line(c, line, len) < 0)
            return EXIT_RUNTIME;
    }
    if (rc == 0)
        server_closed(c);
    return EXIT_RUNTIME;
}

int main(int argc, char **argv)
{
    struct client c = {.fd = -1};
    char err[NET_ERR_LEN];
    int status;

    diag_set_progname(argv[0]);
    parse_args(argc, argv, &c);
    c.fd = net_connect(c.host, c.port, err, sizeof err);
    if (c.fd < 0)
        die("%s", err);
    io_reader_init(&c.server, c.fd, CLIENT_MAX_LINE);
    c.server.timeout_ms = c.timeout_secs > 0 ? c.timeout_secs * 1000 : -1;
    io_reader_init(&c.input, STDIN_FILENO, CLIENT_MAX_LINE);
    status = converse(&c);
    io_reader_free(&c.server);
    io_reader_free(&c.input);
    close(c.fd);
    return status;
}
