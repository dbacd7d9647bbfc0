/* udp_load.h - echo-load --udp: the same load as datagrams, on connected UDP sockets.
 *
 * Each of cfg->conns clients is one UDP socket connected to the server: its own port, as a
 * separate client program would have. A request is one datagram, the stream's request k
 * (stream.h) with its '\n'. A reply must begin with the request's bytes before that '\n':
 * a UDP echo server sends the whole datagram back, lesson 09's quote-server sends the
 * request's tag (those bytes), a space and a quote. Replies may come in any order and are
 * matched to the requests in flight; a request still unanswered after UDP_LOST_MS is counted
 * lost and its place in the window goes to the next request. A reply that answers no request
 * ever sent is an error, and so is ECONNREFUSED once every address of the name refused.
 */
#ifndef LOAD_UDP_LOAD_H
#define LOAD_UDP_LOAD_H

#include <stddef.h>

#include "load.h"

enum {
    UDP_LOST_MS = 1000,   /* a request unanswered this long is lost */
    UDP_MAX_SIZE = 65507, /* the largest datagram over IPv4 */
};

/* udp_load_run - as load_run (load.h), with datagrams; also counts res->lost. */
int udp_load_run(const struct load_config *cfg, struct load_result *res, char *err, size_t errlen);

#endif
