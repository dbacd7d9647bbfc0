/* quote-multicast-client.c - the tutorial's MulticastClient in C: join a group, print N
 * quotes, leave.
 *
 * It binds the group's address and port (SO_REUSEADDR: every client on this host binds the
 * same pair, and each gets its own copy of every datagram), joins the group on an interface,
 * and prints what arrives. Binding the group address, not the wildcard, keeps out datagrams
 * sent to the same port for other groups or for this host's own addresses.
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
#include "multicast.h"
#include "sig.h"
#include "udp.h"

#define USAGE "[-g GROUP] [-i IFACE] [--count N] [--timeout MS] [-q] PORT"

enum { DEFAULT_COUNT = 5, MAX_TIMEOUT_MS = 3600000 };

struct options {
    const char *group, *iface, *port;
    unsigned long long count; /* quotes to print before leaving */
    int timeout_ms;           /* give up after this long without a quote; -1: never */
    bool quiet;
};

/* ---- options ------------------------------------------------------------------------ */

static void print_help(void)
{
    diag_print_usage(USAGE);
    printf("Join a multicast group, print the quotes sent to it, leave.\n"
           "  -g, --group GROUP  the group's address (default " GROUP_DEFAULT "; ff..:: for IPv6)\n"
           "  -i, --iface IFACE  join on this interface (default: the routing table's choice)\n"
           "      --count N      quotes to print before leaving (default %d)\n"
           "      --timeout MS   exit 1 when no quote comes for MS (default: wait for ever)\n"
           "  -q, --quiet        do not say on stderr when the group is joined and left\n"
           "  PORT               the port the server sends to\n",
           DEFAULT_COUNT);
}

static struct options parse_options(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"group", required_argument, NULL, 'g'},
        {"iface", required_argument, NULL, 'i'},
        {"count", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, 't'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct options opt = {.group = GROUP_DEFAULT, .count = DEFAULT_COUNT, .timeout_ms = -1};
    int c;

    opterr = 0; /* our own message and the usage line, not getopt's message */
    while ((c = getopt_long(argc, argv, ":g:i:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'g':
            opt.group = optarg;
            break;
        case 'i':
            opt.iface = optarg;
            break;
        case 'c':
            opt.count = args_count("--count", optarg, 1, 1000000000, USAGE);
            break;
        case 't':
            opt.timeout_ms = (int)args_count("--timeout", optarg, 1, MAX_TIMEOUT_MS, USAGE);
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
    opt.port = args_port(argv[optind], false, USAGE);
    return opt;
}

/* ---- receiving ----------------------------------------------------------------------- */

/* Print quotes from fd until opt->count have come or a stop is requested. Returns 0, or -1
 * with err set (no quote within the timeout, or a receive error). */
static int print_quotes(int fd, const struct group *g, const struct options *opt, char *err,
                        size_t errlen)
{
    static char quote[65536]; /* more than any UDP payload */

    for (unsigned long long got = 0; got < opt->count;) {
        int ready = sig_wait_fd(fd, POLLIN, opt->timeout_ms);
        bool truncated;
        ssize_t n;

        if (ready < 0 && errno == EINTR)
            return 0; /* SIGINT or SIGTERM: leave quietly */
        if (ready == 0) {
            snprintf(err, errlen, "no quote from %s in %d ms", g->text, opt->timeout_ms);
            return -1;
        }
        n = ready < 0 ? -1 : udp_recv(fd, quote, sizeof quote, NULL, NULL, &truncated);
        if (n < 0) {
            snprintf(err, errlen, "receiving from %s: %s", g->text, strerror(errno));
            return -1;
        }
        printf("Quote of the Moment: %.*s\n", (int)n, quote);
        if (fflush(stdout) == EOF) {
            snprintf(err, errlen, "stdout: %s", strerror(errno));
            return -1;
        }
        got++;
    }
    return 0;
}

/* One line on stderr ("joined 239.255.0.1:4446 on lo"), unless -q. */
static void log_event(const struct options *opt, const char *what, const struct group *g)
{
    if (!opt->quiet)
        fprintf(stderr, "%s %s%s%s\n", what, g->text, g->iface ? " on " : "",
                g->iface ? g->iface : "");
}

int main(int argc, char **argv)
{
    char err[NET_ERR_LEN];
    struct options opt;
    struct group g;
    int fd, rc;

    diag_set_progname(argv[0]);
    opt = parse_options(argc, argv);
    if (group_parse(&g, opt.group, opt.port, opt.iface, err, sizeof err) < 0) {
        if (opt.iface != NULL && g.addrlen > 0)
            die("%s", err); /* the group is fine; the interface does not exist here */
        die_bad_usage(USAGE, "%s", err);
    }
    if (sig_setup_stop() < 0)
        die("signals:");
    fd = udp_bind_addr((const struct sockaddr *)&g.addr, g.addrlen, true, err, sizeof err);
    if (fd < 0)
        die("%s", err);
    rc = group_join(fd, &g, err, sizeof err);
    if (rc == 0) {
        char leave_err[NET_ERR_LEN];

        log_event(&opt, "joined", &g);
        rc = print_quotes(fd, &g, &opt, err, sizeof err);
        /* Leaving tells the network at once that this host wants the group no more (if no
         * other socket here is still a member); close() would leave too, silently. */
        if (group_leave(fd, &g, leave_err, sizeof leave_err) == 0)
            log_event(&opt, "left", &g);
        else if (rc == 0) { /* the first error is the one to tell */
            snprintf(err, sizeof err, "%s", leave_err);
            rc = -1;
        }
    }
    close(fd);
    if (rc < 0)
        die("%s", err);
    return 0;
}
