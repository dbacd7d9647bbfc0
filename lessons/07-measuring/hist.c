/* hist.c - log-linear buckets: index = (power of two, top 6 bits below the leading one). */
#include <stddef.h>

#include "hist.h"

enum { EXACT_BELOW = 2 * HIST_SUB }; /* values below this have a bucket each */

/* Position of the highest set bit of v (v > 0). */
static unsigned top_bit(uint64_t v)
{
    unsigned n = 0;

    while (v >>= 1)
        n++;
    return n;
}

static size_t bucket_of(uint64_t v)
{
    if (v < EXACT_BELOW)
        return (size_t)v;
    unsigned shift = top_bit(v) - 6; /* keep 7 bits: the leading one and 6 below it */
    return (size_t)(shift + 1) * HIST_SUB + (size_t)((v >> shift) - HIST_SUB);
}

/* The largest value that falls in bucket i. */
static uint64_t bucket_top(size_t i)
{
    if (i < EXACT_BELOW)
        return i;
    unsigned shift = (unsigned)(i / HIST_SUB) - 1;
    uint64_t mantissa = HIST_SUB + i % HIST_SUB;
    return ((mantissa + 1) << shift) - 1;
}

void hist_record(struct hist *h, uint64_t value)
{
    size_t i = bucket_of(value);

    if (i >= HIST_BUCKETS)
        i = HIST_BUCKETS - 1;
    h->buckets[i]++;
    h->count++;
    if (value > h->max)
        h->max = value;
}

uint64_t hist_percentile(const struct hist *h, double p)
{
    uint64_t rank, seen = 0;
    double exact = p / 100.0 * (double)h->count;

    if (h->count == 0)
        return 0;
    /* The rank of the wanted sample, 1-based and rounded up: p50 of 10 values is the 5th. */
    rank = (uint64_t)exact;
    if ((double)rank < exact || rank == 0)
        rank++;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t top = bucket_top(i);
            return top < h->max ? top : h->max;
        }
    }
    return h->max;
}
