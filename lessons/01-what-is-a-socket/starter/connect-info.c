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
 * YOUR TURN: this is the starter. The frame is here (options, messages, main); the
 * socket calls are yours to write, TODO(1) to TODO(5), in that order. After each,
 * `make test-yours` shows which stage passes now. The README's "Your turn" lists them.
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
    /* TODO(1): ask getaddrinfo(host, port, &hints, &list) for the addresses of host and
     * port, with hints.ai_family = AF_UNSPEC (IPv6 and IPv4: the name decides) and
     * hints.ai_socktype = SOCK_STREAM (TCP). When it fails (rc != 0), set
     *     snprintf(err, errlen, "cannot resolve %s port %s: %s", host, port,
     *              rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
     * and return -1.
     * README: "`lookup HOST [SERVICE]`: what a name means to a client".
     * Checked by: stage 6, stage 9. */

    /* TODO(2): connect to the first address of the list: fd = socket(ai_family, ai_socktype,
     * ai_protocol), then connect(fd, ai_addr, ai_addrlen). If either fails, keep errno,
     * close the socket (if socket() gave one) and set
     *     snprintf(err, errlen, "cannot connect to %s port %s: %s", host, port,
     *              strerror(saved_errno));
     * Either way, freeaddrinfo(list) once you are done with it. Return fd, or -1.
     * README: "`connect-info HOST PORT`: the two endpoints of one real connection".
     * Checked by: stage 6, stage 9. */

    /* TODO(5): not only the first address: try each in turn (ai = ai->ai_next) until one
     * connects, closing the socket of each that fails; report the last error only when
     * none connects. localhost may be ::1 first and 127.0.0.1 second, and a server on
     * 127.0.0.1 alone refuses ::1.
     * README: "`lookup HOST [SERVICE]`: what a name means to a client".
     * Checked by: stage 8. */

    snprintf(err, errlen, "cannot connect to %s port %s: not written yet (TODO 1 and 2)", host,
             port);
    return -1;
}

/* ---- the two endpoints ------------------------------------------------------------------- */

/* Write the address ss holds as "127.0.0.1:5000" or "[::1]:5000" into out. The port is
 * stored in network byte order (big-endian); ntohs() makes it a number to print. */
static void format_endpoint(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
    /* TODO(4): by ss->ss_family: for AF_INET, view ss as a const struct sockaddr_in *,
     * write its sin_addr as text with inet_ntop(AF_INET, ...) and print "ADDRESS:PORT"; for
     * AF_INET6, a const struct sockaddr_in6 *, inet_ntop(AF_INET6, ...) on sin6_addr, and
     * "[ADDRESS]:PORT" (brackets: an IPv6 address has colons of its own); anything else "?".
     * The port is stored in network byte order: print ntohs(sin_port), not sin_port.
     * README: "Your turn".
     * Checked by: stage 6, stage 7. */
    (void)ss;
    snprintf(out, outlen, "?");
}

/* The local end of fd (getsockname) into local, and its remote end (getpeername) into
 * remote, each ENDPOINT_LEN long. Returns 0, or -1 with err set. */
static int name_endpoints(int fd, char *local, char *remote, char *err, size_t errlen)
{
    struct sockaddr_storage ss = {0}; /* no address family yet: it prints as "?" */

    /* TODO(3): getsockname(fd, ...) fills ss with our own end of the connection: format
     * it into local with format_endpoint(). getpeername(fd, ...) fills it with the far
     * end: format that into remote. Each takes a socklen_t set to sizeof ss first. When
     * one fails, set snprintf(err, errlen, "getsockname: %s", strerror(errno)) (or
     * "getpeername: ...") and return -1.
     * README: "`connect-info HOST PORT`: the two endpoints of one real connection".
     * Checked by: stage 6. */
    (void)fd;
    (void)err;
    (void)errlen;
    format_endpoint(&ss, local, ENDPOINT_LEN);
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
