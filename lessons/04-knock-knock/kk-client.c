/* kk-client - the tutorial's KnockKnockClient: relays the server's lines and yours.
 *
 * For every line the server sends it prints "Server: LINE"; unless that line is "Bye."
 * it reads one line from stdin, prints "Client: LINE" and sends it. Unlike the Java
 * client it never hangs: when stdin ends first it half-closes the connection (so the
 * server sees EOF and hangs up), prints what the server still sends, and fails; when the
 * server hangs up while it waits for your line, it says so at once and fails.
 */
#define _GNU_SOURCE /* POLLRDHUP: the peer has closed its side (Linux) */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
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

static const char usage[] = "HOST PORT";

/* Longest line accepted from the server or from stdin. */
enum { CLIENT_MAX_LINE = KK_MAX_LINE };

struct client {
    int fd;
    struct io_reader server; /* lines from the socket */
    struct io_reader input;  /* lines from stdin */
};

/* ---- the command line ------------------------------------------------------- */

static void parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;

    opterr = 0; /* our own message and the usage line, not getopt's message */
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c != 'h')
            die_bad_option(usage, c, argv, longopts);
        diag_print_usage(usage);
        exit(EXIT_SUCCESS);
    }
    args_need(argc, argv, "HOST PORT", usage);
    args_port(argv[optind + 1], false, usage); /* a client needs a real port, not 0 */
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
static int send_line(int fd, const char *line, size_t len)
{
    char buf[CLIENT_MAX_LINE + 1];

    memcpy(buf, line, len); /* len <= CLIENT_MAX_LINE: the reader refuses longer lines */
    buf[len] = '\n';
    if (io_write_all(fd, buf, len + 1) < 0) {
        diag_warn("send:");
        return -1;
    }
    return 0;
}

/* The next line from reader. Returns 1 with a line, 0 at EOF, or -1 after reporting the
 * error under the name what ("receive", "input"). */
static int next_line(struct io_reader *reader, const char *what, char **line, size_t *len)
{
    int rc = io_read_line(reader, line, len);

    if (rc < 0 && errno == EMSGSIZE)
        diag_warn("%s: line longer than %d bytes", what, CLIENT_MAX_LINE);
    else if (rc < 0)
        diag_warn("%s:", what);
    return rc;
}

static bool is_bye(const char *line, size_t len)
{
    return len == 4 && memcmp(line, "Bye.", 4) == 0;
}

/* ---- the conversation ------------------------------------------------------------ */

/* stdin ended before "Bye.": half-close so the server sees EOF and hangs up, and show
 * what it still says. Returns the exit status. */
static int input_ended(struct client *c)
{
    char *line;
    size_t len;
    int rc;

    if (shutdown(c->fd, SHUT_WR) < 0) {
        diag_warn("shutdown:");
        return EXIT_RUNTIME;
    }
    while ((rc = next_line(&c->server, "receive", &line, &len)) > 0) {
        print_line("Server", line, len);
        if (is_bye(line, len))
            return EXIT_SUCCESS;
    }
    if (rc == 0)
        diag_warn("input ended before the server said Bye.");
    return EXIT_RUNTIME;
}

/* Wait for your next line, watching the server meanwhile. Returns 1 when stdin has
 * something to read (a line, EOF or an error: the reader will say), 0 when the server
 * hung up first, -1 with errno set. Only the hang-up is watched on the socket, not
 * POLLIN: a server that spoke out of turn would otherwise wake us again and again. */
static int wait_for_input(struct client *c)
{
    struct pollfd fds[2] = {
        {.fd = STDIN_FILENO, .events = POLLIN},
        {.fd = c->fd, .events = POLLRDHUP},
    };

    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (fds[0].revents != 0)
            return 1;
        if (fds[1].revents & (POLLRDHUP | POLLHUP | POLLERR))
            return 0;
    }
}

/* The server hung up while we waited for your line: print what it still sent, then fail. */
static int server_left(struct client *c)
{
    char *line;
    size_t len;
    int rc;

    while ((rc = next_line(&c->server, "receive", &line, &len)) > 0)
        print_line("Server", line, len);
    if (rc == 0)
        diag_warn("server closed the connection");
    return EXIT_RUNTIME;
}

/* Relay lines until "Bye." or until either side ends early. Returns the exit status. */
static int converse(struct client *c)
{
    char *line;
    size_t len;
    int rc;

    while ((rc = next_line(&c->server, "receive", &line, &len)) > 0) {
        print_line("Server", line, len);
        if (is_bye(line, len))
            return EXIT_SUCCESS;
        /* Nothing typed ahead: wait for it, and notice a server that leaves meanwhile. */
        if (io_lines_pending(&c->input.lines) == 0 && !c->input.eof) {
            rc = wait_for_input(c);
            if (rc < 0) {
                diag_warn("poll:");
                return EXIT_RUNTIME;
            }
            if (rc == 0)
                return server_left(c);
        }
        rc = next_line(&c->input, "input", &line, &len);
        if (rc < 0)
            return EXIT_RUNTIME;
        if (rc == 0)
            return input_ended(c);
        print_line("Client", line, len);
        if (send_line(c->fd, line, len) < 0)
            return EXIT_RUNTIME;
    }
    if (rc == 0)
        diag_warn("server closed the connection");
    return EXIT_RUNTIME;
}

int main(int argc, char **argv)
{
    struct client c;
    char err[NET_ERR_LEN];
    int status;

    diag_set_progname(argv[0]);
    parse_args(argc, argv);
    c.fd = net_connect(argv[optind], argv[optind + 1], err, sizeof err);
    if (c.fd < 0)
        die("%s", err);
    io_reader_init(&c.server, c.fd, CLIENT_MAX_LINE);
    io_reader_init(&c.input, STDIN_FILENO, CLIENT_MAX_LINE);
    status = converse(&c);
    io_reader_free(&c.server);
    io_reader_free(&c.input);
    close(c.fd);
    return status;
}
