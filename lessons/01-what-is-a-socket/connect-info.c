/* connect-info - connect to HOST PORT, say which two endpoints the connection joins, close.
 *
 *     $ ./connect-info 127.0.0.1 5000
 *     connected from 127.0.0.1:41830 to 127.0.0.1:5000
 *
 * The remote endpoint is the one we asked for; the local one the system
 * picked: our address toward that host and a free (ephemeral) port.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "args.h"
#include "diag.h"
#include "net.h"

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

int main(int argc, char **argv)
{
    char err[NET_ERR_LEN], local[NET_ENDPOINT_LEN], remote[NET_ENDPOINT_LEN];
    int fd;
    bool connected;

    diag_set_progname(argv[0]);
    parse_args(argc, argv);

    fd = net_connect(argv[optind], argv[optind + 1], err, sizeof err);
    if (fd < 0)
        die("%s", err);
    connected = net_local_endpoint(fd, local, sizeof local, err, sizeof err) == 0 &&
                net_peer_endpoint(fd, remote, sizeof remote, err, sizeof err) == 0;
    if (connected)
        printf("connected from %s to %s\n", local, remote);
    close(fd);
    if (!connected)
        die("%s", err);
    return fflush(stdout) == 0 ? 0 : EXIT_RUNTIME;
}
