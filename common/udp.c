/* udp.c - resolve for UDP, bind a datagram socket, receive one datagram and know if it was cut. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net.h"
#include "sig.h"
#include "udp.h"

int udp_resolve(const char *host, const char *port, bool passive, struct addrinfo **list, char *err,
                size_t errlen)
{
    struct addrinfo hints = {0};
    int rc;

    hints.ai_family = AF_UNSPEC; /* IPv6 and IPv4: localhost may be either */
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    rc = getaddrinfo(host, port, &hints, list);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s port %s: %s", host ? host : "*", port,
                 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return -1;
    }
    return 0;
}

/* One socket bound to sa, close-on-exec, or -1 with errno set. */
static int bind_on(const struct sockaddr *sa, socklen_t len, bool shared)
{
    int fd, on = 1, off = 0, saved_errno;

    fd = socket(sa->sa_family, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    /* fcntl rather than SOCK_CLOEXEC: the flag to socket() is not in every system's POSIX. */
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        goto fail;
    if (shared && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0)
        goto fail;
    /* "::" should take IPv4 datagrams too; Linux's default depends on a sysctl, so say it. */
    if (sa->sa_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) < 0)
        goto fail;
    if (bind(fd, sa, len) < 0)
        goto fail;
    return fd;
fail:
    saved_errno = errno;
    close(fd);
    errno = saved_errno;
    return -1;
}

int udp_bind_addr(const struct sockaddr *sa, socklen_t len, bool shared, char *err, size_t errlen)
{
    int fd = bind_on(sa, len, shared);

    if (fd < 0) {
        char where[NET_ENDPOINT_LEN];
        snprintf(err, errlen, "cannot bind to %s: %s", net_format_addr(sa, where, sizeof where),
                 strerror(errno));
    }
    return fd;
}

int udp_bind(const char *addr, const char *port, bool shared, char *err, size_t errlen)
{
    struct addrinfo *list, *ai;
    int fd = -1, saved_errno = 0;

    if (udp_resolve(addr, port, true, &list, err, errlen) < 0)
        return -1;
    for (ai = list; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = bind_on(ai->ai_addr, ai->ai_addrlen, shared);
        if (fd < 0)
            saved_errno = errno;
    }
    freeaddrinfo(list);
    if (fd < 0)
        snprintf(err, errlen, "cannot bind to %s port %s: %s", addr, port, strerror(saved_errno));
    return fd;
}

ssize_t udp_recv(int fd, void *buf, size_t len, struct sockaddr_storage *from, socklen_t *fromlen,
                 bool *truncated)
{
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr msg = {0};
    ssize_t n;

    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (from != NULL) {
        msg.msg_name = from;
        msg.msg_namelen = *fromlen;
    }
    /* recvmsg, not recvfrom: only msg_flags tells that the datagram did not fit. */
    do {
        n = recvmsg(fd, &msg, 0);
    } while (n < 0 && errno == EINTR && !sig_stop_requested());
    if (n < 0)
        return -1;
    if (from != NULL)
        *fromlen = msg.msg_namelen;
    *truncated = (msg.msg_flags & MSG_TRUNC) != 0;
    return n;
}
