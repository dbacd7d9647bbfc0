/* echo-server.c - the tutorial's EchoServer in C: one client at a time, every byte echoed.
 *
 * Java's EchoServer reads a line and prints it back. This one is an RFC 862 echo server:
 * it sends back every byte as soon as it arrives, line or not, and it goes on to the next
 * client when one leaves (--once: exits, as the tutorial's server does). Clients that
 * connect meanwhile wait in the listen backlog.
 */
#include <errno.h>
#include <getopt.h>
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
#include "sig.h"

#define USAGE "[-b ADDR] [--once] [-q] PORT"

/* Clients that connect while one is served queue in the kernel, handshake completed, until
 * accept() takes them. 128 lets a burst of clients (a load generator, 100 scripted clients)
 * wait instead of having their SYNs dropped, and is small enough to be honest: a queue that
 * long already means minutes of waiting for an iterative server. Java's default is 50;
 * Linux silently caps the value at net.core.somaxconn. */
enum { BACKLOG = 128 };

/* One read's worth: 64 KiB matches what loopback delivers at once, so big transfers take
 * few system calls; anything from 16 KiB up works as well. */
enum { ECHO_BUF_SIZE = 64 * 1024 };

struct options {
    const char *addr; /* -b: address to bind */
    const char *port;
    bool once;  /* --once: serve one client, then exit */
    bool quiet; /* -q: no connection events on stderr */
};

/* ---- options ------------------------------------------------------------------------ */

static void print_help(void)
{
    diag_print_usage(USAGE);
    printf("Echo every byte each client sends, one client at a time (RFC 862).\n"
           "  -b, --bind ADDR  address to listen on (default 127.0.0.1; :: for IPv4 and IPv6)\n"
           "      --once       exit after the first client leaves\n"
           "  -q, --quiet      do not log connections on stderr\n"
           "  PORT             0 picks a free port; the \"listening on\" line tells which\n");
}

static struct options parse_options(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"bind", required_argument, NULL, 'b'},
        {"once", no_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct options opt = {.addr = "127.0.0.1"};
    int c;

    opterr = 0; /* our own message and the usage line, not getopt's message as well */
    while ((c = getopt_long(argc, argv, ":b:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            opt.addr = optarg;
            break;
        case 'o':
            opt.once = true;
            break;
        case 'q':
            opt.quiet = true;
            break;
        case 'h':
            print_help();
            exit(0);
        default:
            die_bad_option(USAGE, c, argv, longopts);
        }
    }
    args_need(argc, argv, "PORT", USAGE);
    opt.port = args_port(argv[optind], true, USAGE);
    return opt;
}

/* ---- the connection log --------------------------------------------------------------- */

/* One connection event on stderr, "connection from 127.0.0.1:54321" or "closed ADDR[: reason]",
 * unless -q. One fprintf: the line leaves in one write and never mixes with other output. */
static void log_event(const struct options *opt, const char *what, const char *who,
                      const char *reason)
{
    if (opt->quiet)
        return;
    fprintf(stderr, "%s %s%s%s\n", what, who, reason ? ": " : "", reason ? reason : "");
}

/* ---- serving ---------------------------------------------------------------------------- */

/* Send back everything fd sends, until EOF. A write finishes before the next read, so at
 * EOF (the client half-closed) nothing is pending. Returns 0 at EOF, or -1 with errno set
 * (ECONNRESET, EPIPE: the client vanished; EINTR: a stop was requested). */
static int echo_stream(int fd)
{
    char buf[ECHO_BUF_SIZE];

    for (;;) {
        ssize_t n = io_read_some(fd, buf, sizeof buf);
        if (n <= 0)
            return (int)n;
        if (io_write_all(fd, buf, (size_t)n) < 0)
            return -1;
    }
}

/* Serve one accepted client and close it. Returns -1 when a stop was requested. */
static int serve_client(int fd, const struct sockaddr_storage *peer, const struct options *opt)
{
    char who[NET_ENDPOINT_LEN];
    int rc, saved_errno;

    net_format_addr((const struct sockaddr *)peer, who, sizeof who);
    log_event(opt, "connection from", who, NULL);
    rc = echo_stream(fd);
    saved_errno = errno;
    close(fd);
    /* At EOF or a stop, a plain "closed"; a reset or a vanished client says why. */
    log_event(opt, "closed", who, rc == 0 || saved_errno == EINTR ? NULL : strerror(saved_errno));
    return rc < 0 && saved_errno == EINTR ? -1 : 0;
}

/* Accept and serve clients one after the other until a stop is requested (or, with --once,
 * the first client left). A connection that failed before accept() took it (EPROTO ...):
 * log it and take the next. Out of descriptors or memory: say so once, pause, try again.
 * Returns 0, or -1 with err set when accept fails for good. */
static int serve_clients(int listen_fd, const struct options *opt, char *err, size_t errlen)
{
    bool shortage_told = false; /* said once: a log line per pause would flood stderr */

    for (;;) {
        struct sockaddr_storage peer;
        int fd = net_accept(listen_fd, &peer, err, errlen);

        if (fd < 0 && errno == EINTR)
            return 0; /* SIGINT or SIGTERM */
        if (fd < 0 && net_accept_failed_one(errno)) {
            diag_warn("%s: skipping that connection", err); /* that client failed, not us */
            continue;
        }
        if (fd < 0 && net_accept_can_retry(errno)) {
            if (!shortage_told)
                diag_warn("%s: trying again every %d ms", err, NET_ACCEPT_RETRY_MS);
            shortage_told = true;
            (void)sig_wait_fd(-1, 0, NET_ACCEPT_RETRY_MS); /* a stop-aware pause */
            continue;
        }
        if (fd < 0)
            return -1;
        if (serve_client(fd, &peer, opt) < 0 || opt->once)
            return 0;
    }
}

/* Print "listening on ADDR:PORT" and flush it: tests and scripts wait for this line. */
static int announce(int listen_fd, char *err, size_t errlen)
{
    char where[NET_ENDPOINT_LEN];

    if (net_local_endpoint(listen_fd, where, sizeof where, err, errlen) < 0)
        return -1;
    if (printf("listening on %s\n", where) < 0 || fflush(stdout) == EOF) {
        snprintf(err, errlen, "stdout: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    char err[NET_ERR_LEN];
    struct options opt;
    int listen_fd, rc;

    diag_set_progname(argv[0]);
    opt = parse_options(argc, argv);
    if (sig_setup_stop() < 0)
        die("signals:");
    listen_fd = net_listen(opt.addr, opt.port, BACKLOG, err, sizeof err);
    if (listen_fd < 0)
        die("%s", err);
    rc = announce(listen_fd, err, sizeof err);
    if (rc == 0)
        rc = serve_clients(listen_fd, &opt, err, sizeof err);
    close(listen_fd);
    if (rc < 0)
        die("%s", err);
    return 0;
}
