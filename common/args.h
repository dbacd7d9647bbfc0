/* args.h - numbers on the command line, read strictly.
 *
 * strtoul() alone accepts " 5", "+5", "-5" (as a huge number) and "5x" unless every
 * caller remembers the checks; every count option of the kit goes through here instead.
 */
#ifndef KIT_ARGS_H
#define KIT_ARGS_H

/* args_parse_count - parse decimal digits only (no sign, no space) into min..max.
 * Returns 0 and sets *out, or -1 ("", "-1", "5x", out of range). */
int args_parse_count(const char *text, unsigned long long min, unsigned long long max,
                     unsigned long long *out);

/* args_parse_seconds - parse seconds written as digits with at most one decimal point
 * ("3", "0.25"; no sign, exponent, "inf" or space), more than 0 and at most max.
 * Returns 0 and sets *out, or -1. */
int args_parse_seconds(const char *text, double max, double *out);

#endif
