/* quote_serve.h - what quote-server does with one request, whichever loop received it.
 *
 * Each datagram has a slot: a buffer for the request, room for its sender and for the
 * address it was sent to (pktinfo), and the reply's message header. A loop receives into
 * slots (quote-server.c one recvmsg() per datagram; quote_batch.c one recvmmsg() for many),
 * calls serve_request() on each, sends the replies, then serve_log() on each.
 *
 * Replying from the right address: a server bound to 0.0.0.0 or :: that replies with a
 * plain sendto() lets the kernel choose the source address, and a host with several
 * addresses may choose another than the one the client wrote to. A client with a connected
 * socket then drops the reply. So the server asks, with each datagram, which address it was
 * sent to (IP_PKTINFO, Linux; IPV6_RECVPKTINFO, RFC 3542) and replies from that address.
 */
#ifndef QUOTE_SERVE_H
#define QUOTE_SERVE_H

/* Needs _GNU_SOURCE, defined by each file before its first header: glibc declares struct
 * in6_pktinfo and IP_PKTINFO only then. */
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "quote_wire.h"
#include "quotes.h"

/* Datagrams handled per wakeup in either loop, before waiting again (and letting a stop
 * signal in). */
enum { SERVE_BATCH = 64 };

struct server {
    int fd;
    struct quotes *quotes;
    bool quiet;
};

/* Control data: one pktinfo, the larger of the IPv4 and IPv6 kinds, aligned for the
 * struct cmsghdr that heads it. */
struct pktinfo_control {
    _Alignas(struct cmsghdr) char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
};

struct slot {
    char request[WIRE_REQUEST_MAX];
    struct sockaddr_storage peer;
    struct pktinfo_control in_control, out_control;
    struct iovec in_iov, reply[3];
    struct msghdr in, out; /* recvmsg's and sendmsg's headers */
    size_t quote_number;   /* which quote the reply carries (from 1) */
    size_t reply_len;
};

/* serve_enable_pktinfo - ask for each datagram's destination address on fd. Returns 0, or
 * -1 with err set. */
int serve_enable_pktinfo(int fd, char *err, size_t errlen);

/* slot_prepare - point s->in at the slot's buffers, ready for recvmsg (or recvmmsg). */
void slot_prepare(struct slot *s);

/* serve_request - a datagram of len bytes arrived in s (truncated: it did not fit): take
 * the next quote and build s->out, the reply. Returns false for a request not answered. */
bool serve_request(struct server *srv, struct slot *s, size_t len, bool truncated);

/* serve_log - one line on stderr about the request in s (unless -q): the quote sent, or why
 * none was. send_errno is 0 when the reply left, else sendmsg's error. */
void serve_log(const struct server *srv, const struct slot *s, size_t len, bool truncated,
               int send_errno);

#endif
