/* event_server.c - the main() both event-loop servers share: options, listen, run. */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "args.h"
#include "diag.h"
#include "event_loop.h"
#include "event_server.h"
#include "net.h"
#include "sig.h"

static const char usage[] = "[-b ADDR] [--idle-timeout SECS] [--max-clients N] [--once] [-q] PORT";

enum { MAX_IDLE_TIMEOUT = 86400, MAX_CLIENTS_LIMIT = 10000000 };

struct options {
    const char *addr; /* -b: where to listen (default 127.0.0.1, loopback only) */
    const char *port;
    struct ev_options loop;
};

/* ---- the command line ------------------------------------------------------- */

static void parse_args(int argc, char **argv, struct options *opt)
{
    static const struct option longopts[] = {
        {"bind", required_argument, NULL, 'b'},
        {"idle-timeout", required_argument, NULL, 'i'},
        {"max-clients", required_argument, NULL, 'm'},
        {"once", no_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    *opt = (struct options){.addr = "127.0.0.1"};
    opterr = 0; /* our own message and the usage line, not getopt's message */
    while ((c = getopt_long(argc, argv, ":b:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            opt->addr = optarg;
            break;
        case 'i': /* 0 turns the timeout off, as if not given */
            opt->loop.idle_timeout =
                (unsigned)args_count("--idle-timeout", optarg, 0, MAX_IDLE_TIMEOUT, usage);
            break;
        case 'm':
            opt->loop.max_clients =
                args_count("--max-clients", optarg, 1, MAX_CLIENTS_LIMIT, usage);
            break;
        case 'o':
            opt->loop.once = true;
            break;
        case 'q':
            opt->loop.quiet = true;
            break;
        case 'h':
            diag_print_usage(usage);
            exit(EXIT_SUCCESS);
        default:
            die_bad_option(usage, c, argv, longopts);
        }
    }
    args_need(argc, argv, "PORT", usage);
    opt->port = args_port(argv[optind], true, usage);
}

/* ---- serving ------------------------------------------------------------------ */

/* One descriptor per client: take all the system allows (the soft limit is often 1024,
 * the hard limit far more). Not fatal when refused (valgrind, for one, refuses): the
 * server then serves as many as the soft limit allows and says so when accept fails. */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int event_server_main(int argc, char **argv, const struct ev_handlers *handlers)
{
    struct options opt;

    diag_set_progname(argv[0]);
    parse_args(argc, argv, &opt);
    return event_server_run(opt.addr, opt.port, handlers, &opt.loop);
}

int event_server_run(const char *addr, const char *port, const struct ev_handlers *handlers,
                     const struct ev_options *loop_opt)
{
    struct ev_loop *loop;
    char err[NET_ERR_LEN], endpoint[NET_ENDPOINT_LEN];
    int listen_fd, rc;

    if (sig_setup_stop() < 0)
        die("signals:");
    raise_fd_limit();
    listen_fd = net_listen(addr, port, SOMAXCONN, err, sizeof err);
    if (listen_fd < 0)
        die("%s", err);
    if (net_local_endpoint(listen_fd, endpoint, sizeof endpoint, err, sizeof err) < 0)
        die("%s", err);
    loop = ev_loop_new(listen_fd, handlers, loop_opt, err, sizeof err);
    if (loop == NULL)
        die("%s", err);
    printf("listening on %s\n", endpoint);
    if (fflush(stdout) == EOF)
        die("stdout:");
    rc = ev_loop_run(loop, err, sizeof err);
    ev_loop_free(loop);
    if (rc < 0)
        die("%s", err);
    return EXIT_SUCCESS;
}
