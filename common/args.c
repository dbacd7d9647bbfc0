/* args.c - strict parsing of numeric command-line arguments. */
#include "args.h"

#include <stdlib.h>

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
