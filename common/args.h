/* args.h - numbers on the command line, read strictly.
 *
 * strtoul() alone accepts " 5", "+5", "-5" (as a huge number) and "5x" unless every
 * caller remembers the checks; every count option of the kit goes through here instead.
 */
#ifndef KIT_ARGS_H
#define KIT_ARGS_H

#include <stdbool.h>

/* args_parse_count - parse decimal digits only (no sign, no space) into min..max.
 * Returns 0 and sets *out, or -1 ("", "-1", "5x", out of range). */
int args_parse_count(const char *text, unsigned long long min, unsigned long long max,
                     unsigned long long *out);

/* args_parse_seconds - parse seconds written as digits with at most one decimal point
 * ("3", "0.25"; no sign, exponent, "inf" or space), more than 0 and at most max.
 * Returns 0 and sets *out, or -1. */
int args_parse_seconds(const char *text, double max, double *out);

/* ---- the command line's words, or exit 2 ---------------------------------------------
 * These check what getopt leaves over. On a mistake they print one line saying what was
 * wrong, then the usage line, and exit 2 (die_bad_usage in diag.h). */

/* args_need - exactly the positional arguments named in names ("HOST PORT") must follow
 * argv[optind]: else "missing PORT" or "unexpected argument: X". */
void args_need(int argc, char **argv, const char *names, const char *usage);

/* args_port - text as a port: a number from 0 to 65535, or from 1 for a client (zero_ok
 * false: port 0 means "any port" only to a server). Returns text, else exits 2. */
const char *args_port(const char *text, bool zero_ok, const char *usage);

/* args_count - the value of option name ("-c", "--max-clients") as a count from min to max.
 * Returns it, else exits 2: "-c must be at least 1: 0", "... must be a number from 1 to 100". */
unsigned long long args_count(const char *name, const char *text, unsigned long long min,
                              unsigned long long max, const char *usage);

/* args_seconds - the value of option name as seconds (args_parse_seconds: "3", "0.25"), more
 * than 0 and at most max. Returns it, else exits 2 naming the option and the rule. */
double args_seconds(const char *name, const char *text, double max, const char *usage);

#endif
