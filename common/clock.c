/* clock.c - the monotonic clock, in milliseconds and in nanoseconds. */
#include <time.h>

#include "clock.h"

long long clock_now_ms(void)
{
    return (long long)(clock_now_ns() / 1000000u);
}

uint64_t clock_now_ns(void)
{
    struct timespec ts;

    /* Cannot fail: every POSIX system has CLOCK_MONOTONIC, and ts is a valid address. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
