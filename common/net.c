/* net.c - resolve, connect, listen, accept, and print endpoints.
 *
 * Only calls that Linux, macOS and the BSDs all have: accept() then fcntl(FD_CLOEXEC),
 * where Linux alone could say accept4(..., SOCK_CLOEXEC); socket() then the same fcntl,
 * since macOS has no SOCK_CLOEXEC. Lesson 02's README walks through net_connect, lesson
 * 03's through net_listen and net_accept.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "sig.h"

/* ---- ports and addresses -------------------------------------------------------------- */

int net_parse_port(const char *text, uint16_t *port)
{
    unsigned long value = 0;
    size_t i;

    for (i = 0; text[i] != '\0'; i++) {
        if (i == 5 || text[i] < '0' || text[i] > '9')
            return -1;
        value = value * 10 + (unsigned long)(text[i] - '0');
    }
    if (i == 0 || value > 65535)
        return -1;
    *port = (uint16_t)value;
    return 0;
}

char *net_format_addr(const struct sockaddr *sa, char *out, size_t outlen)
{
    char host[INET6_ADDRSTRLEN];

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(out, outlen, "%s:%u", host, (unsigned)ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(out, outlen, "[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
    } else {
        snprintf(out, outlen, "?");
    }
    return out;
}

typedef int (*name_fn)(int, struct sockaddr *, socklen_t *);

static int endpoint(int fd, name_fn get_name, const char *what, char *out, size_t outlen, char *err,
                    size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (get_name(fd, (struct sockaddr *)&ss, &len) < 0) {
        snprintf(err, errlen, "%s: %s", what, strerror(errno));
        return -1;
    }
    net_format_addr((struct sockaddr *)&ss, out, outlen);
    return 0;
}

int net_local_endpoint(int fd, char *out, size_t outlen, char *err, size_t errlen)
{
    return endpoint(fd, getsockname, "getsockname", out, outlen, err, errlen);
}

int net_peer_endpoint(int fd, char *out, size_t outlen, char *err, size_t errlen)
{
    return endpoint(fd, getpeername, "getpeername", out, outlen, err, errlen);
}

uint16_t net_local_port(int fd)
{
    struct sockaddr_storage ss = {0};
    socklen_t len = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)(void *)&ss)->sin6_port);
    return 0;
}

/* ---- new sockets ---------------------------------------------------------------------- */

/* close() that leaves errno as it was, for the error paths. */
static void close_keeping_errno(int fd)
{
    int saved_errno = errno;

    close(fd);
    errno = saved_errno;
}

/* What every socket the kit makes gets, from socket() or from accept():
 * - close-on-exec, so that a program this process may start never inherits a connection
 *   (Linux could set it inside socket() and accept4(); macOS cannot, so one fcntl for all);
 * - SO_NOSIGPIPE where the system has it (macOS, the BSDs): a write to a peer that is gone
 *   fails with EPIPE instead of raising SIGPIPE, even without MSG_NOSIGNAL (see io.c).
 * Returns 0, or -1 with errno set. */
static int prepare_socket(int fd)
{
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return -1;
#ifdef SO_NOSIGPIPE
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on) < 0)
        return -1;
#endif
    return 0;
}

/* A new socket of the family and type getaddrinfo gave in ai, prepared. Returns the fd, or
 * -1 with errno set. */
static int open_socket(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);

    if (fd < 0)
        return -1;
    if (prepare_socket(fd) < 0) {
        close_keeping_errno(fd);
        return -1;
    }
    return fd;
}

/* ---- connecting ----------------------------------------------------------------------- */

/* connect() fd to ai, stop-aware. A blocking connect() to a host that does not answer
 * sleeps while the kernel resends the SYN (two minutes on Linux), deaf to SIGTERM (sig.h).
 * So: make the socket non-blocking, start the handshake (EINPROGRESS), wait with
 * sig_wait_fd() until the socket is writable, which it becomes when the handshake has ended
 * either way, then read the outcome from SO_ERROR. The socket is blocking again after.
 * Returns 0, or -1 with errno set (EINTR: a stop was requested). */
static int connect_stop_aware(int fd, const struct addrinfo *ai)
{
    int flags = fcntl(fd, F_GETFL), so_error = 0;
    socklen_t len = sizeof so_error;

    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS && errno != EINTR) /* EINTR: it goes on all the same */
            return -1;
        if (sig_wait_fd(fd, POLLOUT, -1) < 0)
            return -1;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) < 0)
            return -1;
        if (so_error != 0) {
            errno = so_error; /* ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH ... */
            return -1;
        }
    }
    return fcntl(fd, F_SETFL, flags) < 0 ? -1 : 0;
}

int net_connect(const char *host, const char *port, char *err, size_t errlen)
{
    struct addrinfo hints = {0}, *list, *ai;
    int rc, fd = -1, saved_errno = 0;

    hints.ai_family = AF_UNSPEC; /* IPv6 and IPv4: localhost may be either */
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, port, &hints, &list);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s port %s: %s", host, port,
                 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return -1;
    }
    /* Try each address in the order the resolver prefers; keep the first that answers. */
    for (ai = list; ai != NULL; ai = ai->ai_next) {
        fd = open_socket(ai);
        if (fd < 0) {
            saved_errno = errno;
            continue;
        }
        if (connect_stop_aware(fd, ai) == 0)
            break; /* connected */
        saved_errno = errno;
        close(fd);
        fd = -1;
        if (saved_errno == EINTR)
            break; /* a stop was requested: no other address either */
    }
    freeaddrinfo(list);
    if (fd < 0) {
        snprintf(err, errlen, "cannot connect to %s port %s: %s", host, port,
                 strerror(saved_errno));
        errno = saved_errno;
    }
    return fd;
}

/* ---- listening ------------------------------------------------------------------------ */

/* One socket bound to ai's address and listening, or -1 with errno set. */
static int listen_on(const struct addrinfo *ai, int backlog)
{
    int fd, on = 1, off = 0;

    fd = open_socket(ai);
    if (fd < 0)
        return -1;
    /* Bind again at once after a restart, even while old connections sit in TIME_WAIT. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0)
        goto fail;
    /* "::" should take IPv4 clients too; the default differs between systems, so say it. */
    if (ai->ai_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) < 0)
        goto fail;
    /* The address and port this socket answers on (port 0: the kernel picks a free one). */
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
        goto fail;
    /* From now on the kernel completes handshakes and queues them, up to backlog. */
    if (listen(fd, backlog) < 0)
        goto fail;
    return fd;
fail:
    close_keeping_errno(fd);
    return -1;
}

int net_listen(const char *addr, const char *port, int backlog, char *err, size_t errlen)
{
    struct addrinfo hints = {0}, *list, *ai;
    int rc, fd = -1, saved_errno = 0;

    hints.ai_family = AF_UNSPEC;     /* "::1" gives IPv6, "127.0.0.1" IPv4, a name either */
    hints.ai_socktype = SOCK_STREAM; /* TCP */
    hints.ai_flags = AI_PASSIVE;     /* to bind to: a NULL addr would mean "any address" */
    rc = getaddrinfo(addr, port, &hints, &list);
    if (rc != 0) {
        snprintf(err, errlen, "cannot listen on %s port %s: %s", addr, port,
                 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return -1;
    }
    /* The first address we can listen on wins; the error kept is the last one's. */
    for (ai = list; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = listen_on(ai, backlog);
        if (fd < 0)
            saved_errno = errno;
    }
    freeaddrinfo(list);
    if (fd < 0)
        snprintf(err, errlen, "cannot listen on %s port %s: %s", addr, port, strerror(saved_errno));
    return fd;
}

/* ---- accepting and closing ------------------------------------------------------------ */

int net_accept(int listen_fd, struct sockaddr_storage *peer, char *err, size_t errlen)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd;

        if (sig_wait_fd(listen_fd, POLLIN, -1) < 0) /* stop-aware: see sig.h */
            break;
        fd = accept(listen_fd, (struct sockaddr *)&ss, &len);
        if (fd < 0) {
            /* A client that gave up before we took it is not our failure: wait for the next. */
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            break;
        }
        if (prepare_socket(fd) < 0) {
            close_keeping_errno(fd);
            break;
        }
        if (peer != NULL)
            *peer = ss;
        return fd;
    }
    snprintf(err, errlen, "accept: %s", strerror(errno));
    return -1;
}

bool net_accept_failed_one(int err)
{
    switch (err) {
    case EPROTO:
    case ENOPROTOOPT:
#ifdef EHOSTDOWN /* not in POSIX, though Linux, macOS and the BSDs have it */
    case EHOSTDOWN:
#endif
#ifdef ENONET /* Linux only */
    case ENONET:
#endif
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
    case ENETDOWN:
    case EPERM:
        return true;
    default:
        return false;
    }
}

bool net_accept_can_retry(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

void net_linger(int fd, int limit_ms)
{
    struct timespec start, now;
    char discard[4096];

    clock_gettime(CLOCK_MONOTONIC, &start);
    if (shutdown(fd, SHUT_WR) < 0)
        return; /* not connected any more: nothing to protect */
    for (;;) {
        long long waited;
        ssize_t n;

        clock_gettime(CLOCK_MONOTONIC, &now);
        waited =
            (long long)(now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (waited >= limit_ms || sig_wait_fd(fd, POLLIN, (int)(limit_ms - waited)) <= 0)
            return; /* the peer took too long, a stop was requested, or poll failed */
        n = recv(fd, discard, sizeof discard, MSG_DONTWAIT);
        if (n == 0)
            return; /* the peer has read everything and closed: nothing will be reset */
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return; /* reset: the peer is gone already */
    }
}
