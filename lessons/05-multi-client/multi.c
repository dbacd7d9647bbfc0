/* multi.c - the command line, the listener, the accept loop's errors and the busy line. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "args.h"
#include "diag.h"
#include "io.h"
#include "multi.h"
#include "net.h"
#include "sig.h"

static const char usage[] = "[-b ADDR] [--max-clients N] [-q] PORT";

static const char busy_line[] = "Server busy, try again later.\n";

/* ---- the command line and the listener ---------------------------------------------- */

void multi_parse_args(int argc, char **argv, struct multi_options *opt)
{
    static const struct option longopts[] = {
        {"bind", required_argument, NULL, 'b'},
        {"max-clients", required_argument, NULL, 'm'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    *opt = (struct multi_options){.addr = "127.0.0.1", .max_clients = MULTI_DEFAULT_MAX_CLIENTS};
    opterr = 0; /* our own message and the usage line, not getopt's message */
    while ((c = getopt_long(argc, argv, ":b:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            opt->addr = optarg;
            break;
        case 'm':
            opt->max_clients =
                (size_t)args_count("--max-clients", optarg, 1, MULTI_LARGEST_MAX_CLIENTS, usage);
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

int multi_listen(const struct multi_options *opt)
{
    char err[NET_ERR_LEN], endpoint[NET_ENDPOINT_LEN];
    int fd;

    fd = net_listen(opt->addr, opt->port, SOMAXCONN, err, sizeof err);
    if (fd < 0)
        die("%s", err);
    if (net_local_endpoint(fd, endpoint, sizeof endpoint, err, sizeof err) < 0)
        die("%s", err);
    printf("listening on %s\n", endpoint);
    fflush(stdout); /* now: a script waits for this line, and a forked child must not copy it */
    return fd;
}

void multi_log(const struct multi_options *opt, const char *event, const char *peer,
               const char *note)
{
    if (!opt->quiet)
        fprintf(stderr, "%s %s%s\n", event, peer, note);
}

/* ---- the accept loop's errors ---------------------------------------------------------- */

int multi_accept(int listen_fd, struct sockaddr_storage *peer)
{
    static bool shortage_told; /* said once: a log line per pause would flood stderr */
    char err[NET_ERR_LEN];

    for (;;) {
        int fd;

        fd = net_accept(listen_fd, peer, err, sizeof err);
        if (fd >= 0)
            return fd;
        if (errno == EINTR)
            return -1; /* SIGINT or SIGTERM */
        if (net_accept_failed_one(errno)) {
            diag_warn("%s: skipping that connection", err); /* that client failed, not us */
        } else if (net_accept_can_retry(errno)) {
            if (!shortage_told)
                diag_warn("%s: trying again every %d ms", err, NET_ACCEPT_RETRY_MS);
            shortage_told = true;
            /* a stop-aware pause: a wait on no descriptor (-1) is only a timer */
            (void)sig_wait_fd(-1, 0, NET_ACCEPT_RETRY_MS);
        } else {
            die("%s", err);
        }
    }
}

/* ---- turning a client away -------------------------------------------------------------- */

/* The client may have sent bytes already (a request before it reads, say). Closing with them
 * unread would send a reset instead of a FIN, and a reset can destroy the line before the
 * client reads it. So half-close (the FIN follows the line), then read and drop what the
 * client sends until it closes, as net_linger does; but only briefly, since the accept loop
 * waits meanwhile: a client that neither reads nor closes costs it MULTI_REFUSE_LINGER_MS. */
void multi_refuse(int fd)
{
    if (io_write_all(fd, busy_line, sizeof busy_line - 1) == 0)
        net_linger(fd, MULTI_REFUSE_LINGER_MS);
    close(fd); /* if the write failed, the client has left: nothing to tell */
}
