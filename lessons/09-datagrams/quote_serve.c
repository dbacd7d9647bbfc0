/* quote_serve.c - one request: its tag, the next quote, the reply's headers, the log line. */
#define _GNU_SOURCE /* IP_PKTINFO (Linux), struct in6_pktinfo */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net.h"
#include "quote_serve.h"

/* ---- replying from the address the request was sent to -------------------------------- */

int serve_enable_pktinfo(int fd, char *err, size_t errlen)
{
    struct sockaddr_storage ss = {0};
    socklen_t len = sizeof ss;
    int on = 1, rc;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        snprintf(err, errlen, "getsockname: %s", strerror(errno));
        return -1;
    }
    /* A dual-stack socket gets IPV6_PKTINFO for IPv4 datagrams too (a mapped address). */
    if (ss.ss_family == AF_INET6)
        rc = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
    else
        rc = setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
    if (rc < 0) {
        snprintf(err, errlen, "setsockopt(PKTINFO): %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Turn the pktinfo received with a request into the pktinfo of its reply: the source is the
 * address the client wrote to, the interface is left to routing. Returns the control bytes
 * written into out, 0 when there is nothing to say. */
static size_t reply_control(struct msghdr *in, struct pktinfo_control *out)
{
    struct msghdr m = {.msg_control = out->buf, .msg_controllen = sizeof out->buf};
    struct cmsghdr *cm, *reply = CMSG_FIRSTHDR(&m);

    for (cm = CMSG_FIRSTHDR(in); cm != NULL; cm = CMSG_NXTHDR(in, cm)) {
        if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo got, give = {0};
            memcpy(&got, CMSG_DATA(cm), sizeof got);
            /* ipi_spec_dst: our address the datagram came to (for a broadcast, the
             * interface's own address, which is the one to answer from). */
            give.ipi_spec_dst = got.ipi_spec_dst;
            *reply = (struct cmsghdr){.cmsg_level = IPPROTO_IP,
                                      .cmsg_type = IP_PKTINFO,
                                      .cmsg_len = CMSG_LEN(sizeof give)};
            memcpy(CMSG_DATA(reply), &give, sizeof give);
            return CMSG_SPACE(sizeof give);
        }
        if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo got, give = {0};
            memcpy(&got, CMSG_DATA(cm), sizeof got);
            if (IN6_IS_ADDR_MULTICAST(&got.ipi6_addr))
                return 0; /* a group address is no source: let routing choose */
            give.ipi6_addr = got.ipi6_addr;
            *reply = (struct cmsghdr){.cmsg_level = IPPROTO_IPV6,
                                      .cmsg_type = IPV6_PKTINFO,
                                      .cmsg_len = CMSG_LEN(sizeof give)};
            memcpy(CMSG_DATA(reply), &give, sizeof give);
            return CMSG_SPACE(sizeof give);
        }
    }
    return 0;
}

/* ---- one request ------------------------------------------------------------------------ */

void slot_prepare(struct slot *s)
{
    s->in_iov = (struct iovec){.iov_base = s->request, .iov_len = sizeof s->request};
    s->in = (struct msghdr){.msg_name = &s->peer,
                            .msg_namelen = sizeof s->peer,
                            .msg_iov = &s->in_iov,
                            .msg_iovlen = 1,
                            .msg_control = s->in_control.buf,
                            .msg_controllen = sizeof s->in_control.buf};
}

bool serve_request(struct server *srv, struct slot *s, size_t len, bool truncated)
{
    const struct quote *quote;
    size_t controllen;
    int n;

    if (truncated)
        return false; /* we did not read all of it: not a request of this protocol */
    quote = quotes_next(srv->quotes, &s->quote_number);
    n = wire_reply(s->reply, s->request, wire_tag_len(s->request, len), quote->text, quote->len);
    s->reply_len = 0;
    for (int i = 0; i < n; i++)
        s->reply_len += s->reply[i].iov_len;
    controllen = reply_control(&s->in, &s->out_control);
    s->out = (struct msghdr){.msg_name = &s->peer,
                             .msg_namelen = s->in.msg_namelen,
                             .msg_iov = s->reply,
                             .msg_iovlen = (size_t)n,
                             .msg_control = controllen > 0 ? s->out_control.buf : NULL,
                             .msg_controllen = controllen};
    return true;
}

void serve_log(const struct server *srv, const struct slot *s, size_t len, bool truncated,
               int send_errno)
{
    char who[NET_ENDPOINT_LEN];

    if (srv->quiet)
        return;
    net_format_addr((const struct sockaddr *)&s->peer, who, sizeof who);
    if (truncated)
        fprintf(stderr, "request from %s (more than %d bytes): cut short, not answered\n", who,
                WIRE_REQUEST_MAX);
    else if (send_errno != 0)
        fprintf(stderr, "request from %s (%zu bytes): cannot send quote %zu (%zu bytes): %s\n", who,
                len, s->quote_number, s->reply_len, strerror(send_errno));
    else
        fprintf(stderr, "request from %s (%zu bytes): sent quote %zu (%zu bytes)\n", who, len,
                s->quote_number, s->reply_len);
}
