/* multicast.h - a multicast group and the socket options that send to it and join it.
 *
 * A group is an address (224.0.0.0/4 for IPv4, ff00::/8 for IPv6) that names no host but
 * everyone who joined it. Sending to it is an ordinary sendto(); three options decide where
 * the datagram goes: the interface (IP_MULTICAST_IF, IPV6_MULTICAST_IF), how many routers
 * it may cross (the TTL or hop limit: 1 keeps it on the local network) and whether this
 * host's own members get a copy (IP_MULTICAST_LOOP). Receiving needs a join on an interface
 * (MCAST_JOIN_GROUP, RFC 3678: Linux, the BSDs and macOS), which also tells the local
 * network's switches and routers, by IGMP or MLD, to forward the group's traffic here.
 */
#ifndef MULTICAST_H
#define MULTICAST_H

#include <stddef.h>
#include <sys/socket.h>

#include "net.h"

/* 239.255.0.0/16 is the "organization-local" scope (RFC 2365): never routed to the internet. */
#define GROUP_DEFAULT "239.255.0.1"

struct group {
    struct sockaddr_storage addr; /* the group and the port */
    socklen_t addrlen;
    unsigned ifindex;            /* the interface (-i), 0: the one the routing table picks */
    const char *iface;           /* its name, NULL when not given */
    char text[NET_ENDPOINT_LEN]; /* "239.255.0.1:4446", "[ff15::1]:4446" */
};

/* group_parse - fill g from the group's numeric address, the port and the interface name
 * (or NULL). Returns 0, or -1 with err set: "GROUP is not a multicast address" (then the
 * caller's usage error), or "no interface named IFACE". */
int group_parse(struct group *g, const char *group, const char *port, const char *iface, char *err,
                size_t errlen);

/* group_sender - set fd up to send to g: its interface, a TTL (hop limit) of 1, loopback on.
 * Returns 0, or -1 with err set. */
int group_sender(int fd, const struct group *g, char *err, size_t errlen);

/* group_join - join g on its interface. Returns 0, or -1 with err set ("cannot join ..."). */
int group_join(int fd, const struct group *g, char *err, size_t errlen);

/* group_leave - leave g. Returns 0, or -1 with err set. */
int group_leave(int fd, const struct group *g, char *err, size_t errlen);

#endif
