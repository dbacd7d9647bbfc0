/* lookup - every address a name resolves to, as a TCP client would try them.
 *
 *     $ ./lookup localhost 7
 *     IPv6 ::1 port 7
 *     IPv4 127.0.0.1 port 7
 *
 * One line per address getaddrinfo() returns for a stream (TCP) socket, in
 * the order it returns them, which is the order a client tries them:
 * family (IPv4 or IPv6), numeric address, port. SERVICE is a port number or
 * a name from /etc/services ("http"); without it the port is 0. -4 or -6 asks
 * for one family only, as a client that sets hints.ai_family would.
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

static const char usage[] = "[-4 | -6] HOST [SERVICE]";

/* The options; returns the address family asked for (AF_UNSPEC: both). */
static int parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c, family = AF_UNSPEC;

    opterr = 0; /* our own message and the usage line, not getopt's message too */
    while ((c = getopt_long(argc, argv, ":46h", longopts, NULL)) != -1) {
        switch (c) {
        case '4':
        case '6':
            if (family != AF_UNSPEC && family != (c == '4' ? AF_INET : AF_INET6))
                die_bad_usage(usage, "-4 and -6 exclude each other: give one, or neither");
            family = c == '4' ? AF_INET : AF_INET6;
            break;
        case 'h':
            diag_print_usage(usage);
            printf("Print every address HOST resolves to for TCP, in the order a client tries\n"
                   "them.\n"
                   "  -4, -6   IPv4 addresses only, or IPv6 addresses only\n");
            exit(0);
        default:
            die_bad_option(usage, c, argv, longopts);
        }
    }
    if (argc - optind < 1)
        die_bad_usage(usage, "missing HOST");
    if (argc - optind > 2)
        die_bad_usage(usage, "unexpected argument: %s", argv[optind + 2]);
    return family;
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
    hints.ai_family = parse_args(argc, argv); /* AF_UNSPEC: both families, the name decides */
    host = argv[optind];
    service = argc - optind == 2 ? argv[optind + 1] : NULL;

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
