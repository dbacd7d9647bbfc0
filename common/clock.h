/* clock.h - the time that deadlines, timeouts and measurements are taken from.
 *
 * CLOCK_MONOTONIC, never the wall clock: it never jumps back when an administrator or NTP
 * sets the date, so a timeout cannot end early, or last forever, because of it.
 */
#ifndef KIT_CLOCK_H
#define KIT_CLOCK_H

#include <stdint.h>

/* clock_now_ms - milliseconds on the monotonic clock, counted from an arbitrary start. */
long long clock_now_ms(void);

/* clock_now_ns - nanoseconds on the monotonic clock, counted from an arbitrary start. */
uint64_t clock_now_ns(void);

#endif
