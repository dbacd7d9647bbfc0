/* seconds-parse - print the seconds args_parse_seconds() makes of ARG (at most MAX), or fail.
 *
 * Exit 0 and print the value ("%.6f"); exit 1 with
 * "seconds-parse: not seconds in (0, MAX]: 'ARG'" when args_parse_seconds() rejects it.
 */
#include <stdio.h>

#include "args.h"
#include "diag.h"

static const char usage[] = "ARG MAX";

int main(int argc, char **argv)
{
    unsigned long long max;
    double value;

    diag_set_progname(argv[0]);
    /* No getopt: "-1" is an argument to test, not an option. */
    if (argc != 3 || args_parse_count(argv[2], 1, 1000000, &max) < 0)
        die_usage(usage);
    if (args_parse_seconds(argv[1], (double)max, &value) < 0)
        die("not seconds in (0, %llu]: '%s'", max, argv[1]);
    printf("%.6f\n", value);
    return 0;
}
