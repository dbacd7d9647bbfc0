/* udp.h - datagram sockets: names resolved for UDP, sockets bound, whole datagrams received.
 *
 * A UDP socket has no connection to accept and no stream to cut into lines: each recv
 * returns one datagram, whole or cut short. These helpers keep the kit's module rules:
 * every function returns -1 on failure with one line of explanation in a caller-owned
 * buffer err (size errlen), or errno set where the comment says so; none prints or exits.
 * POSIX interfaces only.
 */
#ifndef KIT_UDP_H
#define KIT_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

struct addrinfo;

/* The largest UDP payload: 65,535 bytes of IP packet, minus the 8-byte UDP header, minus
 * the 20-byte IPv4 header (IPv4), or not (IPv6 counts its header apart). */
enum { UDP_MAX_PAYLOAD_IPV4 = 65507, UDP_MAX_PAYLOAD_IPV6 = 65527 };

/* udp_resolve - the UDP addresses of host:port (IPv6 and IPv4), in the resolver's order;
 * passive: for bind (a NULL host is then every address). The caller frees *list with
 * freeaddrinfo. Returns 0, or -1 with err set ("cannot resolve HOST port PORT: reason"). */
int udp_resolve(const char *host, const char *port, bool passive, struct addrinfo **list, char *err,
                size_t errlen);

/* udp_bind - a UDP socket bound to addr:port (the first address that binds); "::" is
 * dual-stack. shared sets SO_REUSEADDR, so that several sockets on this host may bind the
 * same multicast group and port; a unicast server leaves it false, so that a second server
 * on its port fails with EADDRINUSE instead of silently sharing its requests. Returns the fd
 * (close-on-exec), or -1 with err set ("cannot bind to ADDR port PORT: reason"). */
int udp_bind(const char *addr, const char *port, bool shared, char *err, size_t errlen);

/* udp_bind_addr - a UDP socket bound to the address sa (len bytes), as udp_bind binds: for a
 * caller that holds a parsed address, such as a multicast group. Returns the fd, or -1 with
 * err set ("cannot bind to 239.255.0.1:4446: reason"). */
int udp_bind_addr(const struct sockaddr *sa, socklen_t len, bool shared, char *err, size_t errlen);

/* udp_recv - receive one datagram into buf (len bytes), its sender into *from (when not
 * NULL; *fromlen in and out), retrying EINTR. Sets *truncated when the datagram was longer
 * than len: the kernel dropped its end (MSG_TRUNC). Returns the bytes stored, or -1 with
 * errno set (EAGAIN on an empty non-blocking socket; ECONNREFUSED on a connected socket
 * after an ICMP port unreachable). */
ssize_t udp_recv(int fd, void *buf, size_t len, struct sockaddr_storage *from, socklen_t *fromlen,
                 bool *truncated);

#endif
