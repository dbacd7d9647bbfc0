/* lookup - every address a name resolves to, as a TCP client would try them.
 *
 *     $ ./lookup localhost 7
 *     IPv6 ::1 port 7
 *     IPv4 127.0.0.1 port 7
 *
 * One line per address getaddrinfo() returns for a stream (TCP) socket, in
 * the order it returns them, which is the order a client tries them:
 * family (IPv4 or IPv6), numeric address, port. SERVICE is a port number or
 * a name from /etc/services ("http"); without it the port is 0.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "diag.h"
#include "net.h"

/* Room for the longest numeric IPv6 address with a %scope ("fe80::1%eth0"), and a port. */
enum { HOST_LEN = 64, PORT_LEN = 8 };

static const char usage[] = "HOST [SERVICE]";

static void parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;

    opterr = 0; /* one usage line from die_usage, not getopt's own message too */
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c != 'h')
            die_usage(usage);
        diag_print_usage(usage);
        exit(0);
    }
    if (argc - optind < 1 || argc - optind > 2)
        die_usage(usage);
}

static const char *family_name(int family)
{
    return family == AF_INET6 ? "IPv6" : family == AF_INET ? "IPv4" : "other";
}

/* Print one address as "IPv4 127.0.0.1 port 7". Returns 0, or -1 with err set. */
static int print_address(const struct addrinfo *ai, char *err, size_t errlen)
{
    char host[HOST_LEN], port[PORT_LEN];
    int rc;

    /* NUMERIC: show the address itself; a reverse lookup would print a name again. */
    rc = getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, port, sizeof port,
                     NI_NUMERICHOST | NI_NUMERICSERV);
    if (rc != 0) {
        snprintf(err, errlen, "getnameinfo: %s", gai_strerror(rc));
        return -1;
    }
    printf("%s %s port %s\n", family_name(ai->ai_family), host, port);
    return 0;
}

int main(int argc, char **argv)
{
    struct addrinfo hints = {0}, *list, *ai;
    const char *host, *service;
    char err[NET_ERR_LEN];
    int rc;

    diag_set_progname(argv[0]);
    parse_args(argc, argv);
    host = argv[optind];
    service = argc - optind == 2 ? argv[optind + 1] : NULL;

    hints.ai_family = AF_UNSPEC;     /* both families: the name decides */
    hints.ai_socktype = SOCK_STREAM; /* TCP only: otherwise each address comes three times */
    rc = getaddrinfo(host, service, &hints, &list);
    if (rc != 0)
        die("cannot resolve %s: %s", host, rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
    for (ai = list, rc = 0; ai != NULL && rc == 0; ai = ai->ai_next)
        rc = print_address(ai, err, sizeof err);
    freeaddrinfo(list);
    if (rc < 0)
        die("%s", err);
    return fflush(stdout) == 0 ? 0 : EXIT_RUNTIME;
}
