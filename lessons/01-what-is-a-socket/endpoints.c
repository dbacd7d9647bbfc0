/* endpoints - both ends of N TCP connections in one process, and who is who.
 *
 * The tutorial's first page in one program: a server socket listens on a
 * port; each client connection gets a port the system picks; accept()
 * returns a NEW socket whose local end is the server's port and whose remote
 * end is the client. The table shows it, one row per socket:
 *
 *     role         k   fd  local                  remote
 *     listening    -    3  127.0.0.1:40111        -
 *     client       1    4  127.0.0.1:52110        127.0.0.1:40111
 *     accepted     1    5  127.0.0.1:40111        127.0.0.1:52110
 *
 * Five columns separated by spaces: role (listening, client, accepted),
 * connection number k ("-" for the listener), descriptor, local endpoint,
 * remote endpoint ("-": a listening socket has no peer). Then one line goes
 * each way over connection 1, printed as it arrives.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "diag.h"
#include "io.h"
#include "net.h"

enum { DEFAULT_CONNECTIONS = 2, MAX_CONNECTIONS = 100, MAX_LINE = 256 };

static const char usage[] = "[N]";

/* Every socket the program holds: the first count entries of each array are set (an
 * accepted_fd of -1 means that accept failed); listen_fd is -1 until it is open. */
struct sockets {
    int listen_fd;
    char port[8]; /* the port the system gave the listener, as text for net_connect */
    int count;    /* connections made so far */
    int client_fd[MAX_CONNECTIONS];
    int accepted_fd[MAX_CONNECTIONS];
};

/* ---- arguments ------------------------------------------------------------------------- */

/* N from the command line (digits only, 1..MAX_CONNECTIONS), or exit 2. */
static int parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;

    opterr = 0; /* our own message and the usage line, not getopt's message too */
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c != 'h')
            die_bad_option(usage, c, argv, longopts);
        diag_print_usage(usage);
        printf("Connects N clients (1..%d, default %d) to a listener in this process and\n"
               "prints every socket's endpoints.\n",
               MAX_CONNECTIONS, DEFAULT_CONNECTIONS);
        exit(0);
    }
    if (argc - optind > 1)
        die_bad_usage(usage, "unexpected argument: %s", argv[optind + 1]);
    if (argc - optind == 0)
        return DEFAULT_CONNECTIONS;
    return (int)args_count("N", argv[optind], 1, MAX_CONNECTIONS, usage);
}

/* ---- opening and closing ------------------------------------------------------------- */

/* Listen on 127.0.0.1, port 0: the system picks a free port, getsockname() tells which. */
static int open_listener(struct sockets *s, int n, char *err, size_t errlen)
{
    s->listen_fd = net_listen("127.0.0.1", "0", n, err, errlen);
    if (s->listen_fd < 0)
        return -1;
    snprintf(s->port, sizeof s->port, "%u", (unsigned)net_local_port(s->listen_fd));
    return 0;
}

/* Connection k: connect a client to our own port, then accept it on the server side.
 * connect() completes as soon as the kernel queues the connection, before accept(). */
static int open_connection(struct sockets *s, int k, char *err, size_t errlen)
{
    s->client_fd[k] = net_connect("127.0.0.1", s->port, err, errlen);
    if (s->client_fd[k] < 0)
        return -1;
    s->count = k + 1;
    s->accepted_fd[k] = net_accept(s->listen_fd, NULL, err, errlen);
    return s->accepted_fd[k] < 0 ? -1 : 0;
}

static void close_all(struct sockets *s)
{
    for (int k = 0; k < s->count; k++) {
        close(s->client_fd[k]);
        if (s->accepted_fd[k] >= 0)
            close(s->accepted_fd[k]);
    }
    if (s->listen_fd >= 0)
        close(s->listen_fd);
}

/* ---- the table ------------------------------------------------------------------------- */

/* One row: role, k, fd, local endpoint, remote endpoint (k 0: "-", no peer). */
static int print_row(const char *role, int k, int fd, char *err, size_t errlen)
{
    char local[NET_ENDPOINT_LEN], remote[NET_ENDPOINT_LEN] = "-", num[12] = "-";

    if (net_local_endpoint(fd, local, sizeof local, err, errlen) < 0)
        return -1;
    if (k > 0) {
        snprintf(num, sizeof num, "%d", k);
        if (net_peer_endpoint(fd, remote, sizeof remote, err, errlen) < 0)
            return -1;
    }
    printf("%-10s %3s %4d  %-21s  %s\n", role, num, fd, local, remote);
    return 0;
}

static int print_table(const struct sockets *s, char *err, size_t errlen)
{
    printf("%-10s %3s %4s  %-21s  %s\n", "role", "k", "fd", "local", "remote");
    if (print_row("listening", 0, s->listen_fd, err, errlen) < 0)
        return -1;
    for (int k = 0; k < s->count; k++)
        if (print_row("client", k + 1, s->client_fd[k], err, errlen) < 0 ||
            print_row("accepted", k + 1, s->accepted_fd[k], err, errlen) < 0)
            return -1;
    return 0;
}

/* ---- one line each way -------------------------------------------------------------------- */

/* Send text plus "\n" on from_fd, read one line on to_fd and print it with the direction. */
static int pass_line(int from_fd, int to_fd, const char *direction, const char *text, char *err,
                     size_t errlen)
{
    char buf[MAX_LINE], *line;
    struct io_reader reader;
    size_t len;
    int rc;

    snprintf(buf, sizeof buf, "%s\n", text);
    if (io_write_all(from_fd, buf, strlen(buf)) < 0) {
        snprintf(err, errlen, "send: %s", strerror(errno));
        return -1;
    }
    io_reader_init(&reader, to_fd, MAX_LINE);
    rc = io_read_line(&reader, &line, &len);
    if (rc == 1)
        printf("%s: %s\n", direction, line);
    else if (rc == 0)
        snprintf(err, errlen, "receive: connection closed");
    else
        snprintf(err, errlen, "receive: %s", strerror(errno));
    io_reader_free(&reader);
    return rc == 1 ? 0 : -1;
}

/* The client greets the server; the server answers with both endpoints of the connection. */
static int exchange(const struct sockets *s, char *err, size_t errlen)
{
    char client[NET_ENDPOINT_LEN], server[NET_ENDPOINT_LEN], text[MAX_LINE];

    if (net_local_endpoint(s->client_fd[0], client, sizeof client, err, errlen) < 0 ||
        net_local_endpoint(s->accepted_fd[0], server, sizeof server, err, errlen) < 0)
        return -1;
    snprintf(text, sizeof text, "hello from %s", client);
    if (pass_line(s->client_fd[0], s->accepted_fd[0], "client 1 -> accepted 1", text, err, errlen) <
        0)
        return -1;
    snprintf(text, sizeof text, "hello %s, this is %s", client, server);
    return pass_line(s->accepted_fd[0], s->client_fd[0], "accepted 1 -> client 1", text, err,
                     errlen);
}

int main(int argc, char **argv)
{
    struct sockets s = {.listen_fd = -1, .count = 0};
    char err[NET_ERR_LEN];
    int n, k, rc;

    diag_set_progname(argv[0]);
    n = parse_args(argc, argv);

    rc = open_listener(&s, n, err, sizeof err);
    for (k = 0; rc == 0 && k < n; k++)
        rc = open_connection(&s, k, err, sizeof err);
    if (rc == 0)
        rc = print_table(&s, err, sizeof err);
    if (rc == 0) {
        putchar('\n');
        rc = exchange(&s, err, sizeof err);
    }
    close_all(&s);
    if (rc < 0)
        die("%s", err);
    return fflush(stdout) == 0 ? 0 : EXIT_RUNTIME;
}
