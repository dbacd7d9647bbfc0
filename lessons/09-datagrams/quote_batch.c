/* quote_batch.c - the same server loop as quote-server.c's, with recvmmsg() and sendmmsg().
 *
 * Linux only (glibc declares them with _GNU_SOURCE). A plain loop spends two system calls on
 * every request, recvmsg and sendmsg, plus a wait each time the socket runs dry. Under load,
 * requests queue up in the socket while the server works, and one recvmmsg takes them all
 * (up to SERVE_BATCH), one sendmmsg sends all the replies: three calls for the lot. The
 * kernel still does the same work per datagram; what is saved is the cost of entering and
 * leaving the kernel, which is most of what a tiny request costs.
 */
#define _GNU_SOURCE /* recvmmsg, sendmmsg; IP_PKTINFO for quote_serve.h */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "diag.h"
#include "quote_batch.h"
#include "quote_serve.h"
#include "sig.h"

/* Send out[0..count) with as few sendmmsg calls as possible. A reply that cannot be sent
 * (too long, no buffer space) makes sendmmsg stop there: its error is kept in errors[] and
 * the rest are sent by the next call. */
static void send_replies(int fd, struct mmsghdr *out, int count, int *errors)
{
    int done = 0;

    while (done < count) {
        int n = sendmmsg(fd, out + done, (unsigned)(count - done), 0);
        if (n < 0) {
            errors[done++] = errno; /* this one failed; go on with the next */
            continue;
        }
        for (int i = done; i < done + n; i++)
            errors[i] = 0;
        done += n;
    }
}

int serve_batch(struct server *srv, char *err, size_t errlen)
{
    static struct slot slots[SERVE_BATCH]; /* static: 64 requests' buffers, about 70 KB */
    struct mmsghdr in[SERVE_BATCH], out[SERVE_BATCH];
    int which[SERVE_BATCH], errors[SERVE_BATCH];

    for (;;) {
        int n, answered = 0;

        if (sig_wait_fd(srv->fd, POLLIN, -1) < 0) {
            if (errno == EINTR)
                return 0; /* SIGINT or SIGTERM */
            snprintf(err, errlen, "poll: %s", strerror(errno));
            return -1;
        }
        for (int i = 0; i < SERVE_BATCH; i++) {
            slot_prepare(&slots[i]);
            in[i] = (struct mmsghdr){.msg_hdr = slots[i].in};
        }
        n = recvmmsg(srv->fd, in, SERVE_BATCH, 0, NULL); /* all there is, up to SERVE_BATCH */
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                diag_warn("recvmmsg:");
            continue;
        }
        for (int i = 0; i < n; i++) {
            bool truncated = (in[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;

            slots[i].in = in[i].msg_hdr; /* the kernel set namelen, controllen, flags */
            if (serve_request(srv, &slots[i], in[i].msg_len, truncated)) {
                out[answered] = (struct mmsghdr){.msg_hdr = slots[i].out};
                which[answered++] = i;
            } else {
                serve_log(srv, &slots[i], in[i].msg_len, truncated, 0);
            }
        }
        send_replies(srv->fd, out, answered, errors);
        for (int k = 0; k < answered; k++)
            serve_log(srv, &slots[which[k]], in[which[k]].msg_len, false, errors[k]);
    }
}
