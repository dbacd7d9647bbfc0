/* net.h - names, addresses and TCP sockets, without the textbook pitfalls.
 *
 * Every function returns -1 on failure and writes one line of explanation into
 * a caller-owned buffer err (size errlen); none prints, none exits. The caller,
 * a lesson program, decides what to do: usually die("%s", err).
 */
#ifndef KIT_NET_H
#define KIT_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Room for "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535" and a NUL. */
enum { NET_ENDPOINT_LEN = 64, NET_ERR_LEN = 256 };

/* net_parse_port - parse a decimal port 0..65535 (digits only, at most 5). Returns 0 and
 * sets *port, or -1 for anything else ("", "-1", "80x", "65536"). */
int net_parse_port(const char *text, uint16_t *port);

/* net_connect - connect a TCP socket to host:port, trying every address getaddrinfo returns
 * in order; stop-aware (sig.h) while the handshake lasts. Returns the connected, blocking fd,
 * or -1 with err set ("cannot connect to HOST port PORT: reason" or "cannot resolve HOST port
 * PORT: reason") and errno set (EINTR when a stop was requested). */
int net_connect(const char *host, const char *port, char *err, size_t errlen);

/* net_listen - listening TCP socket on addr:port, close-on-exec, with SO_REUSEADDR and the
 * given backlog; addr "::" is dual-stack (IPV6_V6ONLY off). Returns fd, or -1 with err set
 * ("cannot listen on ADDR port PORT: reason"). */
int net_listen(const char *addr, const char *port, int backlog, char *err, size_t errlen);

/* net_accept - on a blocking listening socket, wait (stop-aware, see sig.h) and accept one
 * connection, close-on-exec; fills peer when not NULL. Returns the new fd, or -1 with errno
 * set (EINTR: stop requested; EMFILE: out of descriptors) and err set ("accept: reason").
 * Event loops call accept() themselves, on a non-blocking listener. */
int net_accept(int listen_fd, struct sockaddr_storage *peer, char *err, size_t errlen);

/* net_accept_failed_one - true for the accept() errors that concern only the connection
 * being accepted, not the server: that client went away or its network failed (EPROTO,
 * ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH, ENETDOWN), or a
 * firewall rule refused it (EPERM). Linux's accept(2) asks servers to retry on them: a
 * server logs the error and accepts the next client. */
bool net_accept_failed_one(int err);

/* net_accept_can_retry - true for the accept() errors that say "not now": out of
 * descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM). A server says so, pauses and
 * tries again: the clients wait in the backlog, and one closing frees what was short. */
bool net_accept_can_retry(int err);

/* How long a blocking server pauses before it tries accept() again after such an error. */
enum { NET_ACCEPT_RETRY_MS = 100 };

/* How long a server lingers before closing a connection it ended (see net_linger). */
enum { NET_LINGER_MS = 1000 };

/* net_linger - before closing a connection the server chose to end (a blocking socket):
 * half-close it (a FIN follows the last reply), then read and drop what the peer still
 * sends until it closes too, for at most limit_ms (stop-aware). The caller closes fd.
 * Why: close() with unread input makes the kernel send a reset, and a reset destroys the
 * replies the peer has not received yet ("Bye." included). */
void net_linger(int fd, int limit_ms);

/* net_format_addr - write sa as "127.0.0.1:5000" or "[::1]:5000" into out (NET_ENDPOINT_LEN).
 * Returns out; never fails (unknown families print as "?"). */
char *net_format_addr(const struct sockaddr *sa, char *out, size_t outlen);

/* net_local_endpoint - the local address of fd, formatted. Returns 0, or -1 with err set. */
int net_local_endpoint(int fd, char *out, size_t outlen, char *err, size_t errlen);

/* net_peer_endpoint - the remote address of fd, formatted. Returns 0, or -1 with err set. */
int net_peer_endpoint(int fd, char *out, size_t outlen, char *err, size_t errlen);

/* net_local_port - the local port of fd (0 on failure). */
uint16_t net_local_port(int fd);

#endif
