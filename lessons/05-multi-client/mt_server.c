/* mt_server.c - the accept loop, one thread per client, and a clean stop.
 *
 * main thread:  listen -> loop { reap ended threads; accept; register; start a thread }
 *               -> SIGTERM -> close the listener -> shut down live sockets -> join all
 * client thread: serve(fd) -> leave the registry -> close(fd) -> "done": ready to join
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "args.h"
#include "diag.h"
#include "io.h"
#include "mt_server.h"
#include "net.h"
#include "registry.h"
#include "sig.h"

static const char usage[] = "[-b ADDR] [--max-clients N] [-q] PORT";

enum { DEFAULT_MAX_CLIENTS = 1024, LARGEST_MAX_CLIENTS = 1000000 };

/* Each thread's stack. glibc reserves RLIMIT_STACK (often 8 MiB) of address space per
 * thread by default; a conversation needs a few KiB (echo: its 16 KiB buffer), so 256 KiB
 * leaves a wide margin. Only the pages a thread touches cost memory either way. */
enum { THREAD_STACK_SIZE = 256 * 1024 };

static const char busy_line[] = "Server busy, try again later.\n";

struct options {
    const char *addr; /* -b: where to listen (default 127.0.0.1) */
    const char *port;
    size_t max_clients; /* --max-clients: more are told "Server busy" */
    bool quiet;         /* -q: no connection events */
};

/* Everything the threads see: read-only after start, except the registry (locked). */
struct server {
    struct options opt;
    const struct mt_service *service;
    struct registry reg;
    pthread_attr_t attr;
};

/* ---- the command line ------------------------------------------------------------- */

static void parse_args(int argc, char **argv, struct options *opt)
{
    static const struct option longopts[] = {
        {"bind", required_argument, NULL, 'b'},
        {"max-clients", required_argument, NULL, 'm'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    *opt = (struct options){.addr = "127.0.0.1", .max_clients = DEFAULT_MAX_CLIENTS};
    opterr = 0; /* our own message and the usage line, not getopt's message */
    while ((c = getopt_long(argc, argv, ":b:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            opt->addr = optarg;
            break;
        case 'm':
            opt->max_clients =
                (size_t)args_count("--max-clients", optarg, 1, LARGEST_MAX_CLIENTS, usage);
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

/* ---- the connection log -------------------------------------------------------------- */

/* One connection event on stderr, unless -q: "EVENT PEER" and an optional note ("refused
 * 127.0.0.1:54321: too many clients"). One stdio call writes the line while holding the
 * stream's lock, so the lines of two threads never mix. */
static void log_event(const struct server *srv, const char *event, const char *peer,
                      const char *note)
{
    if (!srv->opt.quiet)
        fprintf(stderr, "%s %s%s\n", event, peer, note);
}

/* ---- one client, one thread ----------------------------------------------------------- */

static void *client_thread(void *arg)
{
    struct conn *c = arg;
    struct server *srv = c->server;

    if (srv->service->serve(c->fd) == 0) {
        registry_free_slot(&srv->reg, c); /* over: room for the next client already */
        net_linger(c->fd, NET_LINGER_MS); /* but the last reply must arrive before we close */
    } else {
        srv->service->report(c->peer, errno);
    }
    registry_leave(&srv->reg, c); /* from now on nobody else touches c->fd */
    close(c->fd);
    log_event(srv, "closed", c->peer, "");
    registry_done(&srv->reg, c); /* the last touch: the main thread may join and free c */
    return NULL;
}

/* Turn a client away with one line. It has sent nothing yet, so closing sends a FIN
 * after the line, not a reset that could destroy it. */
static void refuse(int fd)
{
    if (io_write_all(fd, busy_line, sizeof busy_line - 1) < 0) {
        /* It left already: nothing to tell. */
    }
    close(fd);
}

/* Register the accepted fd and start its thread, or turn it away. */
static void start_client(struct server *srv, int fd, const struct sockaddr_storage *peer)
{
    struct conn *c = calloc(1, sizeof *c);
    int rc;

    if (c == NULL) {
        diag_warn("out of memory for a new client");
        refuse(fd);
        return;
    }
    c->fd = fd;
    c->server = srv;
    net_format_addr((const struct sockaddr *)peer, c->peer, sizeof c->peer);
    if (registry_add(&srv->reg, c) < 0) {
        log_event(srv, "refused", c->peer, ": too many clients");
        refuse(fd);
        free(c);
        return;
    }
    log_event(srv, "connection from", c->peer, ""); /* before the thread can log "closed" */
    rc = pthread_create(&c->thread, &srv->attr, client_thread, c);
    if (rc != 0) {
        errno = rc;
        diag_warn("%s: cannot start a thread:", c->peer);
        registry_abandon(&srv->reg, c);
        refuse(fd);
        log_event(srv, "closed", c->peer, "");
        free(c);
    }
}

/* ---- the accept loop ------------------------------------------------------------------ */

/* Accept until a stop is requested; the loop never waits for a client, only for the next
 * connection. Ended threads are joined before each wait, so they do not pile up. */
static void accept_loop(struct server *srv, int listen_fd)
{
    char err[NET_ERR_LEN];
    bool shortage_told = false; /* said once: a log line per pause would flood stderr */

    for (;;) {
        struct sockaddr_storage peer;
        int fd;

        registry_reap(&srv->reg);
        fd = net_accept(listen_fd, &peer, err, sizeof err);
        if (fd >= 0) {
            start_client(srv, fd, &peer);
        } else if (errno == EINTR) {
            return; /* SIGINT or SIGTERM */
        } else if (net_accept_can_retry(errno)) {
            if (!shortage_told)
                diag_warn("%s: trying again every %d ms", err, NET_ACCEPT_RETRY_MS);
            shortage_told = true;
            /* a stop-aware pause: ppoll ignores fd -1 */
            (void)sig_wait_fd(-1, 0, NET_ACCEPT_RETRY_MS);
        } else {
            die("%s", err);
        }
    }
}

/* ---- start and stop ---------------------------------------------------------------------- */

/* One descriptor per client: the soft limit (often 1024) would turn clients away long
 * before memory runs out. The hard limit is as far as an unprivileged process may go. */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        diag_warn("getrlimit:");
        return;
    }
    if (rl.rlim_cur == rl.rlim_max)
        return;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        diag_warn("cannot raise the open-file limit:");
}

/* The registry and the attributes every client thread starts with. Returns 0, or -1. */
static int server_init(struct server *srv)
{
    int rc;

    if (registry_init(&srv->reg, srv->opt.max_clients) < 0)
        return -1;
    rc = pthread_attr_init(&srv->attr);
    if (rc == 0)
        rc = pthread_attr_setstacksize(&srv->attr, THREAD_STACK_SIZE);
    if (rc != 0) {
        registry_destroy(&srv->reg);
        errno = rc;
        return -1;
    }
    return 0;
}

int mt_server_main(int argc, char **argv, const struct mt_service *service)
{
    struct server srv = {.service = service};
    char err[NET_ERR_LEN], endpoint[NET_ENDPOINT_LEN];
    int listen_fd;

    diag_set_progname(argv[0]);
    parse_args(argc, argv, &srv.opt);
    if (sig_setup_stop() < 0) /* before any thread: they inherit the blocked signals */
        die("signals:");
    raise_fd_limit();
    if (server_init(&srv) < 0)
        die("threads:");
    listen_fd = net_listen(srv.opt.addr, srv.opt.port, SOMAXCONN, err, sizeof err);
    if (listen_fd < 0)
        die("%s", err);
    if (net_local_endpoint(listen_fd, endpoint, sizeof endpoint, err, sizeof err) < 0)
        die("%s", err);
    printf("listening on %s\n", endpoint);
    fflush(stdout);
    accept_loop(&srv, listen_fd);
    close(listen_fd);        /* stop accepting: new connections are refused by the kernel */
    registry_stop(&srv.reg); /* wake every client thread and join them all */
    pthread_attr_destroy(&srv.attr);
    registry_destroy(&srv.reg);
    return EXIT_SUCCESS;
}
