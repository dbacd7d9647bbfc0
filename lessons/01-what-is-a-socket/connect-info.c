/* connect-info - connect to HOST PORT, say which two endpoints the connection joins, close.
 *
 *     $ ./connect-info 127.0.0.1 5000
 *     connected from 127.0.0.1:41830 to 127.0.0.1:5000
 *
 * The smallest complete TCP client, every call written out: getaddrinfo() turns HOST
 * and PORT into a list of addresses, socket() and connect() try them in turn until one
 * answers, getsockname() and getpeername() name the two ends of the connection. The
 * remote endpoint is the one we asked for; the local one the system picked: our address
 * toward that host and a free (ephemeral) port.
 *
 * No signal handler is installed, so no call here returns EINTR: a signal either ends
 * the program or is ignored.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "args.h"
#include "diag.h"

/* Room for "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535", and for one error line. */
enum { ENDPOINT_LEN = 64, ERR_LEN = 256 };

static const char usage[] = "HOST PORT";

/* HOST and PORT from the command line; a PORT that is not 1..65535 exits 2. */
static void parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;

    opterr = 0; /* our own message and the usage line, not getopt's message too */
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c != 'h')
            die_bad_option(usage, c, argv, longopts);
        diag_print_usage(usage);
        exit(0);
    }
    args_need(argc, argv, "HOST PORT", usage);
    /* Port 0 means "any port" to a server; a client cannot connect to it. */
    args_port(argv[optind + 1], false, usage);
}

/* ---- connecting -------------------------------------------------------------------------- */

/* A TCP socket connected to host:port. Tries every address getaddrinfo() returns, in its
 * order, and keeps the first that connects. Returns the descriptor, or -1 with err set
 * ("cannot resolve HOST port PORT: reason" or "cannot connect to HOST port PORT: reason"). */
static int connect_to(const char *host, const char *port, char *err, size_t errlen)
{
    struct addrinfo hints = {0}, *list, *ai;
    int rc, fd = -1, saved_errno = 0;

    hints.ai_family = AF_UNSPEC;     /* IPv6 and IPv4: the name decides */
    hints.ai_socktype = SOCK_STREAM; /* TCP: otherwise each address comes once per protocol */
    rc = getaddrinfo(host, port, &hints, &list);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s port %s: %s", host, port,
                 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return -1;
    }
    /* Not only the first: localhost may be ::1 first and 127.0.0.1 second, and a server
     * listening on 127.0.0.1 alone refuses ::1. The error kept is the last address's. */
    for (ai = list; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            saved_errno = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        saved_errno = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(list);
    if (fd < 0)
        snprintf(err, errlen, "cannot connect to %s port %s: %s", host, port,
                 strerror(saved_errno));
    return fd;
}

/* ---- the two endpoints ------------------------------------------------------------------- */

/* Write the address ss holds as "127.0.0.1:5000" or "[::1]:5000" into out. The port is
 * stored in network byte order (big-endian); ntohs() makes it a number to print. */
static void format_endpoint(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
    char host[INET6_ADDRSTRLEN];

    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(out, outlen, "%s:%u", host, (unsigned)ntohs(in->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(out, outlen, "[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
    } else {
        snprintf(out, outlen, "?");
    }
}

/* The local end of fd (getsockname) into local, and its remote end (getpeername) into
 * remote, each ENDPOINT_LEN long. Returns 0, or -1 with err set. */
static int name_endpoints(int fd, char *local, char *remote, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        snprintf(err, errlen, "getsockname: %s", strerror(errno));
        return -1;
    }
    format_endpoint(&ss, local, ENDPOINT_LEN);
    len = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) {
        snprintf(err, errlen, "getpeername: %s", strerror(errno));
        return -1;
    }
    format_endpoint(&ss, remote, ENDPOINT_LEN);
    return 0;
}

/* ---- the program ------------------------------------------------------------------------- */

/* Connect to host:port, print "connected from LOCAL to REMOTE", close. Returns 0, or -1
 * with err set. */
static int connect_and_tell(const char *host, const char *port, char *err, size_t errlen)
{
    char local[ENDPOINT_LEN], remote[ENDPOINT_LEN];
    int fd, rc;

    fd = connect_to(host, port, err, errlen);
    if (fd < 0)
        return -1;
    rc = name_endpoints(fd, local, remote, err, errlen);
    if (rc == 0)
        printf("connected from %s to %s\n", local, remote);
    close(fd);
    return rc;
}

int main(int argc, char **argv)
{
    char err[ERR_LEN];

    diag_set_progname(argv[0]);
    parse_args(argc, argv);
    if (connect_and_tell(argv[optind], argv[optind + 1], err, sizeof err) < 0)
        die("%s", err);
    return fflush(stdout) == 0 ? 0 : EXIT_RUNTIME;
}
