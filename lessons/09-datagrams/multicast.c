/* multicast.c - groups: parsed, sent to, joined and left. */
#define _GNU_SOURCE /* struct group_req, struct ip_mreqn: glibc hides them in strict POSIX */
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "multicast.h"

/* ---- the group ------------------------------------------------------------------------- */

static int is_multicast(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return IN_MULTICAST(ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr));
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_MULTICAST(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
    return 0;
}

int group_parse(struct group *g, const char *group, const char *port, const char *iface, char *err,
                size_t errlen)
{
    struct addrinfo hints = {0}, *ai;

    memset(g, 0, sizeof *g);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICHOST; /* a group is an address, never a name to look up */
    if (getaddrinfo(group, port, &hints, &ai) != 0)
        ai = NULL;
    if (ai == NULL || !is_multicast(ai->ai_addr)) {
        if (ai != NULL)
            freeaddrinfo(ai);
        snprintf(err, errlen, "%s is not a multicast address (224.0.0.0/4 or ff00::/8)", group);
        return -1;
    }
    memcpy(&g->addr, ai->ai_addr, ai->ai_addrlen);
    g->addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    if (iface != NULL) {
        g->ifindex = if_nametoindex(iface);
        if (g->ifindex == 0) {
            snprintf(err, errlen, "no interface named %s", iface);
            return -1;
        }
        g->iface = iface;
        /* An IPv6 address of link scope means nothing without its link: give it one. */
        if (g->addr.ss_family == AF_INET6)
            ((struct sockaddr_in6 *)(void *)&g->addr)->sin6_scope_id = g->ifindex;
    }
    net_format_addr((struct sockaddr *)&g->addr, g->text, sizeof g->text);
    return 0;
}

/* ---- sending ----------------------------------------------------------------------------- */

int group_sender(int fd, const struct group *g, char *err, size_t errlen)
{
    int hops = 1, loop = 1, rc = 0;
    const char *what = "IP_MULTICAST_IF";

    if (g->addr.ss_family == AF_INET) {
        /* Linux takes an interface index in struct ip_mreqn; BSD wants the interface's
         * IPv4 address (struct in_addr) instead. */
        struct ip_mreqn mreq = {.imr_ifindex = (int)g->ifindex};
        if (g->ifindex != 0)
            rc = setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq);
        if (rc == 0 && (rc = setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &hops, sizeof hops)) < 0)
            what = "IP_MULTICAST_TTL";
        if (rc == 0 && (rc = setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop)) < 0)
            what = "IP_MULTICAST_LOOP";
    } else {
        what = "IPV6_MULTICAST_IF";
        if (g->ifindex != 0)
            rc = setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &g->ifindex, sizeof g->ifindex);
        if (rc == 0 &&
            (rc = setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops)) < 0)
            what = "IPV6_MULTICAST_HOPS";
        if (rc == 0 &&
            (rc = setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &loop, sizeof loop)) < 0)
            what = "IPV6_MULTICAST_LOOP";
    }
    if (rc < 0) {
        snprintf(err, errlen, "setsockopt(%s): %s", what, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- joining and leaving ---------------------------------------------------------------- */

/* MCAST_JOIN_GROUP or MCAST_LEAVE_GROUP: one request for IPv4 and IPv6 alike. */
static int membership(int fd, const struct group *g, int option)
{
    struct group_req req = {.gr_interface = g->ifindex};
    int level = g->addr.ss_family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;

    memcpy(&req.gr_group, &g->addr, g->addrlen);
    return setsockopt(fd, level, option, &req, sizeof req);
}

int group_join(int fd, const struct group *g, char *err, size_t errlen)
{
    if (membership(fd, g, MCAST_JOIN_GROUP) < 0) {
        snprintf(err, errlen, "cannot join %s%s%s: %s", g->text, g->iface ? " on " : "",
                 g->iface ? g->iface : "", strerror(errno));
        return -1;
    }
    return 0;
}

int group_leave(int fd, const struct group *g, char *err, size_t errlen)
{
    if (membership(fd, g, MCAST_LEAVE_GROUP) < 0) {
        snprintf(err, errlen, "cannot leave %s: %s", g->text, strerror(errno));
        return -1;
    }
    return 0;
}
