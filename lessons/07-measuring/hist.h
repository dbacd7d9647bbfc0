/* hist.h - a latency histogram: constant memory, constant time per sample, 1.6% precision.
 *
 * Keeping every sample and sorting them at the end would cost 8 bytes per request (a
 * million requests a second is 8 MB a second). Instead values are counted in log-linear
 * buckets, as HdrHistogram does: exact below 128, then 64 buckets per power of two, so a
 * reported percentile is at most 1/64 above the true one. The maximum is kept exactly.
 */
#ifndef LOAD_HIST_H
#define LOAD_HIST_H

#include <stdint.h>

enum { HIST_SUB = 64, HIST_BUCKETS = 60 * HIST_SUB };

struct hist {
    uint64_t count;
    uint64_t max;
    uint64_t buckets[HIST_BUCKETS];
};

/* hist_record - count one value (any unit: echo-load records nanoseconds). */
void hist_record(struct hist *h, uint64_t value);

/* hist_percentile - the value at or below which p percent (0..100) of the values lie, rounded
 * up to its bucket's top and never above the maximum. Returns 0 when nothing was recorded. */
uint64_t hist_percentile(const struct hist *h, double p);

#endif
