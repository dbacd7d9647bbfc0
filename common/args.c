/* args.c - strict parsing of numeric command-line arguments. */
#include "args.h"

#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "net.h"

int args_parse_count(const char *text, unsigned long long min, unsigned long long max,
                     unsigned long long *out)
{
    unsigned long long value = 0;
    const char *p;

    for (p = text; *p != '\0'; p++) {
        unsigned digit = (unsigned)(*p - '0');

        if (*p < '0' || *p > '9')
            return -1;
        if (digit > max || value > (max - digit) / 10) /* value * 10 + digit would pass max */
            return -1;
        value = value * 10 + digit;
    }
    if (p == text || value < min)
        return -1;
    *out = value;
    return 0;
}

int args_parse_seconds(const char *text, double max, double *out)
{
    const char *p = text;
    double value;

    /* strtod alone would take " 1", "+1", "1e3", "0x1p3" and "inf": allow its plainest
     * form only, digits[.digits], then let it do the conversion. */
    while (*p >= '0' && *p <= '9')
        p++;
    if (p == text)
        return -1;
    if (*p == '.') {
        const char *fraction = ++p;

        while (*p >= '0' && *p <= '9')
            p++;
        if (p == fraction)
            return -1;
    }
    if (*p != '\0')
        return -1;
    value = strtod(text, NULL);
    if (!(value > 0 && value <= max))
        return -1;
    *out = value;
    return 0;
}

/* ---- the command line's words --------------------------------------------------------- */

void args_need(int argc, char **argv, const char *names, const char *usage)
{
    const char *missing = names;
    int i;

    for (i = optind; i < argc; i++) {
        if (*missing == '\0')
            die_bad_usage(usage, "unexpected argument: %s", argv[i]);
        missing += strcspn(missing, " "); /* this word is given: skip its name */
        missing += strspn(missing, " ");
    }
    if (strchr(missing, ' ') != NULL) /* "HOST PORT": "missing HOST and PORT" */
        die_bad_usage(usage, "missing %.*s and %s", (int)strcspn(missing, " "), missing,
                      strchr(missing, ' ') + 1);
    if (*missing != '\0')
        die_bad_usage(usage, "missing %s", missing);
}

const char *args_port(const char *text, bool zero_ok, const char *usage)
{
    uint16_t port;

    if (net_parse_port(text, &port) < 0 || (port == 0 && !zero_ok))
        die_bad_usage(usage, "port must be a number from %d to 65535: %s", zero_ok ? 0 : 1, text);
    return text;
}

unsigned long long args_count(const char *name, const char *text, unsigned long long min,
                              unsigned long long max, const char *usage)
{
    unsigned long long value;

    if (args_parse_count(text, min, max, &value) == 0)
        return value;
    if (text[0] != '\0' && text[strspn(text, "0123456789")] == '\0') { /* digits: the range */
        if (args_parse_count(text, 0, ULLONG_MAX, &value) == 0 && value < min)
            die_bad_usage(usage, "%s must be at least %llu: %s", name, min, text);
        die_bad_usage(usage, "%s must be at most %llu: %s", name, max, text);
    }
    die_bad_usage(usage, "%s must be a number from %llu to %llu: %s", name, min, max, text);
}

double args_seconds(const char *name, const char *text, double max, const char *usage)
{
    double value;

    if (args_parse_seconds(text, max, &value) < 0)
        die_bad_usage(usage, "%s must be seconds, more than 0 and at most %g (\"2\", \"0.5\"): %s",
                      name, max, text);
    return value;
}
