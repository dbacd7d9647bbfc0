/* quote_wire.h - the quote protocol's bytes: a request's tag, a reply built, a reply matched.
 *
 * No I/O: the servers and the client call these on buffers, and so does the fuzz target.
 *
 *   request   one datagram of at most WIRE_REQUEST_MAX bytes. Its tag is its bytes before
 *             the first NUL, CR or LF (all of them when there is none), possibly empty.
 *   reply     one datagram: the tag, one space, then the quote. With an empty tag, the
 *             quote alone: the tutorial's QuoteClient sends 256 zero bytes (an empty tag)
 *             and prints the whole reply.
 *
 * The tag lets a client match a reply to its request: a late reply to an earlier try, or a
 * duplicate, carries another tag and is ignored.
 */
#ifndef QUOTE_WIRE_H
#define QUOTE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

/* A request longer than this is cut short by the server's recv (MSG_TRUNC): not answered. */
enum { WIRE_REQUEST_MAX = 512 };

/* wire_tag_len - the length of request's tag: its bytes before the first NUL, CR or LF. */
size_t wire_tag_len(const char *request, size_t len);

/* wire_reply - point iov[0..2] at the reply to a request with this tag: tag, " ", quote (or
 * the quote alone for an empty tag). Nothing is copied. Returns how many iovecs are used. */
int wire_reply(struct iovec iov[3], const char *tag, size_t tag_len, const char *quote,
               size_t quote_len);

/* wire_match - does reply answer the request that carried tag? True when the reply is the
 * tag, a space and a quote; with an empty tag, any reply is taken whole. Sets *quote and
 * *quote_len (pointing into reply) when it does. */
bool wire_match(const char *reply, size_t len, const char *tag, size_t tag_len, const char **quote,
                size_t *quote_len);

#endif
