/* quote-multicast-server.c - the tutorial's MulticastServer in C: a quote to a group, again
 * and again.
 *
 * Nobody asks: every interval it sends the next quote to the group's address and port, and
 * every host that joined the group receives it, however many there are. The sender needs no
 * join and binds nothing; three socket options decide where its datagrams go (multicast.h).
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
#include "multicast.h"
#include "quotes.h"
#include "sig.h"

#define USAGE "[-g GROUP] [-i IFACE] [-f FILE] [--interval MS] [--count N] [-q] PORT"

enum { DEFAULT_INTERVAL_MS = 1000, MAX_INTERVAL_MS = 3600000 };

struct options {
    const char *group, *iface, *file, *port;
    unsigned interval_ms;
    unsigned long long count; /* quotes to send, then exit; 0: until SIGINT or SIGTERM */
    bool quiet;
};

/* ---- options ------------------------------------------------------------------------ */

static void print_help(void)
{
    diag_print_usage(USAGE);
    printf("Send a quote to a multicast group every interval.\n"
           "  -g, --group GROUP   the group's address (default " GROUP_DEFAULT
           "; ff..:: for IPv6)\n"
           "  -i, --iface IFACE   send on this interface (default: the routing table's choice)\n"
           "  -f, --file FILE     quotes, one per line (default: a built-in list)\n"
           "      --interval MS   time between two quotes (default %d)\n"
           "      --count N       send N quotes, then exit (default: until SIGINT or SIGTERM)\n"
           "  -q, --quiet         do not log each quote sent on stderr\n"
           "  PORT                the port the clients listen on\n",
           DEFAULT_INTERVAL_MS);
}

static struct options parse_options(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"group", required_argument, NULL, 'g'}, {"iface", required_argument, NULL, 'i'},
        {"file", required_argument, NULL, 'f'},  {"interval", required_argument, NULL, 'I'},
        {"count", required_argument, NULL, 'c'}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    struct options opt = {.group = GROUP_DEFAULT, .interval_ms = DEFAULT_INTERVAL_MS};
    int c;

    opterr = 0; /* our own message and the usage line, not getopt's message */
    while ((c = getopt_long(argc, argv, ":g:i:f:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'g':
            opt.group = optarg;
            break;
        case 'i':
            opt.iface = optarg;
            break;
        case 'f':
            opt.file = optarg;
            break;
        case 'I':
            opt.interval_ms = (unsigned)args_count("--interval", optarg, 1, MAX_INTERVAL_MS, USAGE);
            break;
        case 'c':
            opt.count = args_count("--count", optarg, 1, 1000000000, USAGE);
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
    opt.port = args_port(argv[optind], false, USAGE); /* a destination needs a real port */
    return opt;
}

/* ---- sending ---------------------------------------------------------------------------- */

/* Send quotes to g until opt->count are sent or a stop is requested. Returns 0, or -1 with
 * err set when a send fails. */
static int send_quotes(int fd, const struct group *g, struct quotes *quotes,
                       const struct options *opt, char *err, size_t errlen)
{
    for (unsigned long long sent = 0;;) {
        size_t number;
        const struct quote *q = quotes_next(quotes, &number);

        if (sendto(fd, q->text, q->len, 0, (const struct sockaddr *)&g->addr, g->addrlen) < 0) {
            snprintf(err, errlen, "cannot send to %s%s%s: %s", g->text, g->iface ? " on " : "",
                     g->iface ? g->iface : "", strerror(errno));
            return -1;
        }
        if (!opt->quiet)
            fprintf(stderr, "sent quote %zu (%zu bytes)\n", number, q->len);
        if (++sent == opt->count)
            return 0;
        /* A pause that SIGINT or SIGTERM ends at once (no descriptor: a plain wait). */
        if (sig_wait_fd(-1, 0, (int)opt->interval_ms) < 0)
            return 0;
    }
}

/* Say where the quotes go, on stdout (flushed): scripts wait for this line. */
static int announce(const struct group *g, const struct options *opt, char *err, size_t errlen)
{
    if (printf("sending to %s%s%s every %u ms\n", g->text, g->iface ? " on " : "",
               g->iface ? g->iface : "", opt->interval_ms) < 0 ||
        fflush(stdout) == EOF) {
        snprintf(err, errlen, "stdout: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    char err[NET_ERR_LEN];
    struct quotes quotes;
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
    if (opt.file != NULL ? quotes_load(&quotes, opt.file, err, sizeof err) < 0
                         : quotes_builtin(&quotes) < 0)
        die("%s", opt.file != NULL ? err : "out of memory");
    fd = socket(g.addr.ss_family, SOCK_DGRAM, 0);
    rc = fd < 0 ? -1 : group_sender(fd, &g, err, sizeof err);
    if (fd < 0)
        snprintf(err, sizeof err, "socket: %s", strerror(errno));
    if (rc == 0)
        rc = announce(&g, &opt, err, sizeof err);
    if (rc == 0)
        rc = send_quotes(fd, &g, &quotes, &opt, err, sizeof err);
    if (fd >= 0)
        close(fd);
    quotes_free(&quotes);
    if (rc < 0)
        die("%s", err);
    return 0;
}
