/* quote-server.c - the tutorial's QuoteServer in C: one datagram in, one quote out.
 *
 * It binds one UDP socket and answers every datagram that arrives on it with one datagram:
 * the request's tag and the next quote (quote_wire.h). There is no connection, no accept()
 * and no per-client state: one socket serves every client, each request stands alone.
 * Unlike Java's QuoteServer, which stops when its file runs out, it cycles through the
 * quotes until SIGINT or SIGTERM. --batch answers with recvmmsg/sendmmsg (Linux only).
 */
#define _GNU_SOURCE /* IP_PKTINFO and struct in6_pktinfo, for quote_serve.h */
#include <errno.h>
#include <fcntl.h>
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
#include "net.h"
#include "quote_batch.h"
#include "quote_serve.h"
#include "quotes.h"
#include "sig.h"
#include "udp.h"

#define USAGE "[-b ADDR] [-f FILE] [--batch] [-q] PORT"

struct options {
    const char *addr; /* -b: address to bind */
    const char *file; /* -f: one quote per line; NULL: the built-in list */
    const char *port;
    bool batch; /* --batch: recvmmsg/sendmmsg */
    bool quiet; /* -q: no line per request */
};

/* ---- options ------------------------------------------------------------------------ */

static void print_help(void)
{
    diag_print_usage(USAGE);
    printf("Answer every datagram with one quote, the request's tag first.\n"
           "  -b, --bind ADDR  address to bind (default 127.0.0.1; :: for IPv4 and IPv6)\n"
           "  -f, --file FILE  quotes, one per line (default: a built-in list)\n"
           "      --batch      receive and send many datagrams per system call (Linux)\n"
           "  -q, --quiet      do not log each request on stderr\n"
           "  PORT             0 picks a free port; the \"listening on\" line tells which\n");
}

static struct options parse_options(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"bind", required_argument, NULL, 'b'}, {"file", required_argument, NULL, 'f'},
        {"batch", no_argument, NULL, 'B'},      {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    struct options opt = {.addr = "127.0.0.1"};
    int c;

    opterr = 0; /* our own message and the usage line, not getopt's message as well */
    while ((c = getopt_long(argc, argv, ":b:f:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            opt.addr = optarg;
            break;
        case 'f':
            opt.file = optarg;
            break;
        case 'B':
            opt.batch = true;
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

/* ---- serving, one datagram per system call ------------------------------------------- */

/* Answer requests until a stop is requested: wait until the socket holds a datagram, then
 * take and answer what is there (up to SERVE_BATCH), one recvmsg and one sendmsg each. The
 * socket is non-blocking: an empty socket says EAGAIN instead of sleeping, and a reply that
 * finds no room in the send buffer is dropped (and logged) rather than stall every other
 * client. Returns 0, or -1 with err set when waiting fails. */
static int serve_plain(struct server *srv, char *err, size_t errlen)
{
    static struct slot s;

    for (;;) {
        if (sig_wait_fd(srv->fd, POLLIN, -1) < 0) {
            if (errno == EINTR)
                return 0; /* SIGINT or SIGTERM */
            snprintf(err, errlen, "poll: %s", strerror(errno));
            return -1;
        }
        for (int i = 0; i < SERVE_BATCH; i++) {
            ssize_t n;
            bool truncated;

            slot_prepare(&s);
            n = recvmsg(srv->fd, &s.in, 0);
            if (n < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK)
                    diag_warn("recvmsg:");
                break; /* the socket is empty: wait again */
            }
            truncated = (s.in.msg_flags & MSG_TRUNC) != 0;
            if (!serve_request(srv, &s, (size_t)n, truncated)) {
                serve_log(srv, &s, (size_t)n, truncated, 0);
                continue;
            }
            serve_log(srv, &s, (size_t)n, false, sendmsg(srv->fd, &s.out, 0) < 0 ? errno : 0);
        }
    }
}

/* ---- starting ---------------------------------------------------------------------------- */

/* The bound socket, non-blocking, with pktinfo on. Returns the fd, or -1 with err set. */
static int open_socket(const struct options *opt, char *err, size_t errlen)
{
    int fd = udp_bind(opt->addr, opt->port, false, err, errlen);
    int flags;

    if (fd < 0)
        return -1;
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "fcntl: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (serve_enable_pktinfo(fd, err, errlen) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Print "listening on ADDR:PORT" and flush it: tests and scripts wait for this line. */
static int announce(int fd, char *err, size_t errlen)
{
    char where[NET_ENDPOINT_LEN];

    if (net_local_endpoint(fd, where, sizeof where, err, errlen) < 0)
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
    struct quotes quotes;
    struct server srv = {.quotes = &quotes};
    struct options opt;
    int rc;

    diag_set_progname(argv[0]);
    opt = parse_options(argc, argv);
    srv.quiet = opt.quiet;
    if (sig_setup_stop() < 0)
        die("signals:");
    if (opt.file != NULL ? quotes_load(&quotes, opt.file, err, sizeof err) < 0
                         : quotes_builtin(&quotes) < 0)
        die("%s", opt.file != NULL ? err : "out of memory");
    srv.fd = open_socket(&opt, err, sizeof err);
    if (srv.fd < 0) {
        quotes_free(&quotes);
        die("%s", err);
    }
    rc = announce(srv.fd, err, sizeof err);
    if (rc == 0)
        rc = opt.batch ? serve_batch(&srv, err, sizeof err) : serve_plain(&srv, err, sizeof err);
    close(srv.fd);
    quotes_free(&quotes);
    if (rc < 0)
        die("%s", err);
    return 0;
}
