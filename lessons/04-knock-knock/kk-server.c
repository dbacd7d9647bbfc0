/* kk-server - the tutorial's KnockKnockServer: Knock Knock jokes, one client at a time.
 *
 * The server listens, accepts one client, holds the whole conversation with it
 * (kk_session.c, which asks knock_protocol.c what to say) and only then accepts the
 * next: a second client waits in the backlog until the first says "n". Lesson 05 removes
 * that wait with a thread per client.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "args.h"
#include "diag.h"
#include "kk_session.h"
#include "net.h"
#include "sig.h"

static const char usage[] = "[-b ADDR] [--once] [-q] PORT";

/* Clients that connect while one is served wait in the kernel's queue until accept() takes
 * them: a one-at-a-time server, like lesson 03's echo-server, so the same 128, for the same
 * reason (a burst of clients waits instead of being dropped, and a longer queue would only
 * mean a longer wait). Lessons 05 and 06 serve clients at once and ask for SOMAXCONN. */
enum { BACKLOG = 128 };

struct options {
    const char *addr; /* -b: where to listen (default 127.0.0.1, loopback only) */
    const char *port;
    bool once;  /* --once: exit after the first client, as the tutorial's server does */
    bool quiet; /* -q: no connection events on stderr */
};

/* ---- the command line ------------------------------------------------------- */

static void parse_args(int argc, char **argv, struct options *opt)
{
    static const struct option longopts[] = {
        {"bind", required_argument, NULL, 'b'},
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
        case 'o':
            opt->once = true;
            break;
        case 'q':
            opt->quiet = true;
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

/* One client, start to finish; fd is closed on return. */
static void serve_client(int fd, const struct sockaddr_storage *peer, bool quiet)
{
    char name[NET_ENDPOINT_LEN];

    net_format_addr((const struct sockaddr *)peer, name, sizeof name);
    if (!quiet)
        fprintf(stderr, "connection from %s\n", name);
    if (kk_session_run(fd) == 0)
        net_linger(fd, NET_LINGER_MS); /* after "Bye.": let it arrive before we close */
    else
        kk_session_report(name, errno);
    close(fd);
    if (!quiet)
        fprintf(stderr, "closed %s\n", name);
}

/* Accept and serve clients one by one until a stop is requested (or one client with
 * --once). An error that concerns only the client being accepted: say so and take the
 * next. Out of descriptors or memory: say so, pause, try again. */
static void accept_loop(int listen_fd, const struct options *opt)
{
    char err[NET_ERR_LEN];
    bool shortage_told = false; /* said once: a log line per pause would flood stderr */

    for (;;) {
        struct sockaddr_storage peer;
        int fd = net_accept(listen_fd, &peer, err, sizeof err);
        if (fd < 0) {
            if (errno == EINTR)
                return; /* SIGINT or SIGTERM */
            if (net_accept_failed_one(errno)) {
                diag_warn("%s: skipping that connection", err); /* not the server: one client */
                continue;
            }
            if (!net_accept_can_retry(errno))
                die("%s", err);
            if (!shortage_told)
                diag_warn("%s: trying again every %d ms", err, NET_ACCEPT_RETRY_MS);
            shortage_told = true;
            /* a stop-aware pause: poll() ignores fd -1, and a stop ends it */
            (void)sig_wait_fd(-1, 0, NET_ACCEPT_RETRY_MS);
            continue;
        }
        serve_client(fd, &peer, opt->quiet);
        if (opt->once)
            return;
    }
}

int main(int argc, char **argv)
{
    struct options opt;
    char err[NET_ERR_LEN], endpoint[NET_ENDPOINT_LEN];
    int listen_fd;

    diag_set_progname(argv[0]);
    parse_args(argc, argv, &opt);
    if (sig_setup_stop() < 0)
        die("signals:");
    listen_fd = net_listen(opt.addr, opt.port, BACKLOG, err, sizeof err);
    if (listen_fd < 0)
        die("%s", err);
    if (net_local_endpoint(listen_fd, endpoint, sizeof endpoint, err, sizeof err) < 0)
        die("%s", err);
    printf("listening on %s\n", endpoint);
    fflush(stdout);
    accept_loop(listen_fd, &opt);
    close(listen_fd);
    return EXIT_SUCCESS;
}
