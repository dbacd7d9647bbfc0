/* count-parse - print the number args_parse_count() makes of ARG in MIN..MAX, or fail.
 *
 * Exit 0 and print the number; exit 1 with "count-parse: not a count in MIN..MAX: 'ARG'"
 * when args_parse_count() rejects it. MIN and MAX are read the same way.
 */
#include <stdio.h>

#include "args.h"
#include "diag.h"

static const char usage[] = "ARG MIN MAX";

int main(int argc, char **argv)
{
    unsigned long long min, max, value;

    diag_set_progname(argv[0]);
    /* No getopt: "-1" is an argument to test, not an option. */
    if (argc != 4 || args_parse_count(argv[2], 0, ~0ULL, &min) < 0 ||
        args_parse_count(argv[3], 0, ~0ULL, &max) < 0)
        die_usage(usage);
    if (args_parse_count(argv[1], min, max, &value) < 0)
        die("not a count in %llu..%llu: '%s'", min, max, argv[1]);
    printf("%llu\n", value);
    return 0;
}
