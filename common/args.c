/* args.c - strict parsing of numeric command-line arguments. */
#include "args.h"

int args_parse_count(const char *text, unsigned long long min, unsigned long long max,
                     unsigned long long *out)
{
    unsigned long long value = 0;
    const char *p;

    for (p = text; *p != '\0'; p++) {
        unsigned digit = (unsigned)(*p - '0');

        if (*p < '0' || *p > '9')
            return -1;
        if (value > (max - digit) / 10) /* value * 10 + digit would pass max */
            return -1;
        value = value * 10 + digit;
    }
    if (p == text || value < min)
        return -1;
    *out = value;
    return 0;
}
