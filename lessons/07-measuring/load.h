/* load.h - the load generator's event loop: many connections, one thread, one epoll set.
 *
 * load_run() opens every connection first (non-blocking connects, all at once), then starts
 * the clock and keeps `window` requests in flight on each connection until the request
 * budget or the time is used up, or SIGINT/SIGTERM arrives. Every echoed byte is checked
 * against the stream it was sent from (stream.h); a connection that fails or echoes a wrong
 * byte is closed, counted and named on stderr, and the others go on.
 */
#ifndef LOAD_LOAD_H
#define LOAD_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hist.h"

struct load_config {
    const char *host, *port;
    unsigned conns;    /* connections to open */
    uint64_t requests; /* total requests over all connections; 0: run for `seconds` */
    double seconds;    /* how long to run when requests is 0 */
    size_t size;       /* bytes per request, '\n' included */
    unsigned window;   /* requests in flight per connection */
    double timeout;    /* --timeout: for a connect, or an echo owed, in seconds */
    bool progress;     /* a progress line on stderr once a second */
    bool udp;          /* --udp: datagrams on connected UDP sockets (udp_load.h) */
};

struct load_result {
    unsigned failed;     /* connections that failed: refused, reset, wrong bytes */
    unsigned mismatches; /* of those, connections that echoed a wrong byte */
    uint64_t requests;   /* requests whose whole echo came back right */
    uint64_t bytes;      /* bytes echoed back and checked */
    double seconds;      /* from the first request sent to the end of the run */
    bool interrupted;    /* stopped by SIGINT or SIGTERM */
    uint64_t lost;       /* --udp: requests with no reply in time (UDP_LOST_MS) */
    struct hist latency; /* per request, nanoseconds from its send time to its echo's end */
};

/* load_run - run the load described by cfg and fill res (zeroed first). The caller has called
 * sig_setup_stop(). Returns 0 (even when connections failed: see res->failed), or -1 with err
 * set when the run could not start (name not resolved, out of memory, epoll). */
int load_run(const struct load_config *cfg, struct load_result *res, char *err, size_t errlen);

#endif
