/* port-parse - print the port net_parse_port() makes of ARG, or fail.
 *
 * Exit 0 and print the port ("80") when ARG is a port; exit 1 with
 * "port-parse: not a port: 'ARG'" when net_parse_port() rejects it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "net.h"

static const char usage[] = "ARG";

int main(int argc, char **argv)
{
    uint16_t port;

    diag_set_progname(argv[0]);
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        diag_print_usage(usage);
        return 0;
    }
    if (argc != 2)
        die_usage(usage);
    /* No getopt here: "-1" is an argument to test, not an option. */
    if (net_parse_port(argv[1], &port) < 0)
        die("not a port: '%s'", argv[1]);
    printf("%u\n", (unsigned)port);
    return 0;
}
