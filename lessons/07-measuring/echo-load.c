/* echo-load.c - a load generator for echo servers: many connections, every byte checked.
 *
 * It opens CONNS connections, keeps WINDOW requests of BYTES bytes in flight on each, checks
 * every byte that comes back, and times every request from the moment it was sent to the
 * moment its echo ended. Then it prints one summary: requests/s, MB/s, latency percentiles
 * and errors. A wrong byte or a failed connection is named on stderr and makes it exit 1:
 * a benchmark that hides its errors measures nothing.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "args.h"
#include "diag.h"
#include "load.h"
#include "net.h"
#include "sig.h"
#include "stream.h"
#include "udp_load.h"

#define USAGE                                                                                      \
    "[-c CONNS] [-n LINES | -d SECS] [-s BYTES] [-w WINDOW] [--timeout SECS] [--udp] [--csv] "     \
    "HOST PORT"

enum { MAX_CONNS = 50000, MAX_WINDOW = 1024 };
static const double DEFAULT_SECONDS = 5.0, DEFAULT_TIMEOUT = 10.0, MAX_SECONDS = 86400.0;

struct options {
    struct load_config cfg;
    bool csv; /* --csv: a header and one row instead of the summary */
};

/* ---- options ------------------------------------------------------------------------ */

static void print_help(void)
{
    diag_print_usage(USAGE);
    printf("Load an echo server and check every byte it sends back.\n"
           "  -c, --connections CONNS  connections to open (default 1)\n"
           "  -n, --lines LINES        send LINES requests in all, then stop\n"
           "  -d, --duration SECS      run for SECS seconds after connecting (default 5)\n"
           "  -s, --size BYTES         bytes per request, its '\\n' included (default 64)\n"
           "  -w, --window WINDOW      requests in flight per connection (default 1:\n"
           "                           request/reply)\n"
           "      --timeout SECS       give up on a connection that has not connected, or\n"
           "                           has had no echo while requests wait, for SECS\n"
           "                           (default 10; TCP only)\n"
           "      --udp                requests as datagrams on UDP sockets; a reply must\n"
           "                           start with its request's bytes before the '\\n'\n"
           "      --csv                print a CSV header and one row\n"
           "Exit status: 0, or 1 when any byte came back wrong or any connection failed.\n");
}

static struct options parse_options(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"connections", required_argument, NULL, 'c'},
        {"lines", required_argument, NULL, 'n'},
        {"duration", required_argument, NULL, 'd'},
        {"size", required_argument, NULL, 's'},
        {"window", required_argument, NULL, 'w'},
        {"timeout", required_argument, NULL, 'T'},
        {"csv", no_argument, NULL, 'C'},
        {"udp", no_argument, NULL, 'U'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct options opt = {.cfg = {.conns = 1, .size = 64, .window = 1, .timeout = DEFAULT_TIMEOUT}};
    bool timed = false;
    int c;

    opterr = 0; /* our own message and the usage line, not getopt's message */
    while ((c = getopt_long(argc, argv, ":c:n:d:s:w:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            opt.cfg.conns = (unsigned)args_count("-c", optarg, 1, MAX_CONNS, USAGE);
            break;
        case 'n':
            opt.cfg.requests = args_count("-n", optarg, 1, UINT64_MAX, USAGE);
            break;
        case 'd':
            opt.cfg.seconds = args_seconds("-d", optarg, MAX_SECONDS, USAGE);
            timed = true;
            break;
        case 's':
            opt.cfg.size = (unsigned)args_count("-s", optarg, 1, STREAM_MAX_SIZE, USAGE);
            break;
        case 'w':
            opt.cfg.window = (unsigned)args_count("-w", optarg, 1, MAX_WINDOW, USAGE);
            break;
        case 'T':
            opt.cfg.timeout = args_seconds("--timeout", optarg, MAX_SECONDS, USAGE);
            break;
        case 'C':
            opt.csv = true;
            break;
        case 'U':
            opt.cfg.udp = true;
            break;
        case 'h':
            print_help();
            exit(0);
        default:
            die_bad_option(USAGE, c, argv, longopts);
        }
    }
    if (timed && opt.cfg.requests != 0)
        die_bad_usage(USAGE, "-n and -d exclude each other: give one, or neither");
    if (opt.cfg.udp && opt.cfg.size > UDP_MAX_SIZE)
        die_bad_usage(USAGE, "-s must be at most %d with --udp (one datagram): %zu", UDP_MAX_SIZE,
                      opt.cfg.size);
    args_need(argc, argv, "HOST PORT", USAGE);
    args_port(argv[optind + 1], false, USAGE); /* a client needs a real port, not 0 */
    if (!timed)
        opt.cfg.seconds = DEFAULT_SECONDS;
    opt.cfg.host = argv[optind];
    opt.cfg.port = argv[optind + 1];
    return opt;
}

/* ---- descriptors ---------------------------------------------------------------------- */

/* One descriptor per connection: raise the soft limit (often 1024) toward the hard one. */
static void raise_fd_limit(unsigned conns)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)conns + 16; /* stdio, epoll, and some room */

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        die("getrlimit:");
    if (rl.rlim_cur >= need)
        return;
    rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        die("setrlimit:");
    if (rl.rlim_cur < need)
        die("%u connections need %ju descriptors, but the hard limit is %ju (ulimit -Hn)", conns,
            (uintmax_t)need, (uintmax_t)rl.rlim_max);
}

/* ---- the report ------------------------------------------------------------------------- */

struct figures {
    double requests_per_s, mb_per_s;
    double p50, p90, p99, max; /* microseconds */
};

static struct figures figures_of(const struct load_result *res)
{
    struct figures f = {0};
    const struct hist *h = &res->latency;

    if (res->seconds > 0) {
        f.requests_per_s = (double)res->requests / res->seconds;
        f.mb_per_s = (double)res->bytes / res->seconds / 1e6;
    }
    f.p50 = (double)hist_percentile(h, 50) / 1e3;
    f.p90 = (double)hist_percentile(h, 90) / 1e3;
    f.p99 = (double)hist_percentile(h, 99) / 1e3;
    f.max = (double)h->max / 1e3;
    return f;
}

static void print_summary(const struct options *opt, const struct load_result *res)
{
    struct figures f = figures_of(res);

    printf("connections  %u\n", opt->cfg.conns);
    printf("requests     %" PRIu64 " in %.2f s%s\n", res->requests, res->seconds,
           res->interrupted ? " (interrupted)" : "");
    printf("requests/s   %.0f\n", f.requests_per_s);
    printf("MB/s         %.2f\n", f.mb_per_s);
    printf("latency µs   p50 %.0f  p90 %.0f  p99 %.0f  max %.0f\n", f.p50, f.p90, f.p99, f.max);
    if (res->mismatches > 0)
        printf("errors       %u (%u echoed wrong bytes)\n", res->failed, res->mismatches);
    else
        printf("errors       %u\n", res->failed);
    if (opt->cfg.udp)
        printf("lost         %" PRIu64 " (no reply within %d ms)\n", res->lost, UDP_LOST_MS);
}

static void print_csv(const struct options *opt, const struct load_result *res)
{
    struct figures f = figures_of(res);

    /* --udp adds a 13th column, lost, at the end: the first twelve keep their places. */
    printf("connections,bytes,window,seconds,requests,requests_per_s,mb_per_s,"
           "p50_us,p90_us,p99_us,max_us,errors%s\n",
           opt->cfg.udp ? ",lost" : "");
    printf("%u,%zu,%u,%.3f,%" PRIu64 ",%.0f,%.2f,%.0f,%.0f,%.0f,%.0f,%u", opt->cfg.conns,
           opt->cfg.size, opt->cfg.window, res->seconds, res->requests, f.requests_per_s,
           f.mb_per_s, f.p50, f.p90, f.p99, f.max, res->failed);
    if (opt->cfg.udp)
        printf(",%" PRIu64, res->lost);
    putchar('\n');
}

/* ---- main -------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    static struct load_result res; /* static: its histogram is 30 KB */
    char err[NET_ERR_LEN];
    struct options opt;

    diag_set_progname(argv[0]);
    opt = parse_options(argc, argv);
    raise_fd_limit(opt.cfg.conns);
    if (sig_setup_stop() < 0) /* SIGPIPE ignored; SIGINT ends the run with a summary */
        die("sigaction:");
    opt.cfg.progress = isatty(STDERR_FILENO) == 1;

    if ((opt.cfg.udp ? udp_load_run : load_run)(&opt.cfg, &res, err, sizeof err) < 0)
        die("%s", err);
    if (opt.csv)
        print_csv(&opt, &res);
    else
        print_summary(&opt, &res);
    if (fflush(stdout) == EOF)
        die("stdout:");
    return res.failed > 0 ? EXIT_RUNTIME : 0;
}
