/* fuzz_quote.c - libFuzzer target for lesson 09's quote protocol (quote_wire.h): the code that
 * takes a request's tag, builds a reply and matches a reply to a request.
 *
 * The input is cut in two at an offset given by its first two bytes: a request (its tag is
 * taken from it) and a second datagram, used both as a quote to build a reply with and as a
 * reply from an unknown server to match. Each piece is copied into a heap block of exactly
 * its length, so AddressSanitizer stops any read past a datagram's end.
 *
 * The oracle is the protocol as quote_wire.h states it, written again here: the tag ends at
 * the first NUL, CR or LF; a reply is the tag, a space and the quote, or the quote alone for
 * an empty tag; a reply matches when it starts that way, and the quote is the rest.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lessons/09-datagrams/quote_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_quote: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* ---- the model ---------------------------------------------------------------------------- */

static size_t model_tag_len(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] == '\0' || p[i] == '\r' || p[i] == '\n')
            return i;
    return len;
}

static bool model_matches(const char *reply, size_t len, const char *tag, size_t tag_len)
{
    if (tag_len == 0)
        return true;
    return len > tag_len && memcmp(reply, tag, tag_len) == 0 && reply[tag_len] == ' ';
}

/* The reply as the protocol spells it, in a new block; sets *len. */
static char *model_reply(const char *tag, size_t tag_len, const char *quote, size_t quote_len,
                         size_t *len)
{
    size_t skip = tag_len > 0 ? tag_len + 1 : 0;
    char *reply = malloc(skip + quote_len + 1);

    CHECK(reply != NULL);
    if (tag_len > 0) {
        memcpy(reply, tag, tag_len);
        reply[tag_len] = ' ';
    }
    if (quote_len > 0)
        memcpy(reply + skip, quote, quote_len);
    *len = skip + quote_len;
    return reply;
}

/* ---- helpers -------------------------------------------------------------------------------- */

/* A heap copy of exactly len bytes (one byte for an empty piece, never read). */
static char *piece(const uint8_t *bytes, size_t len)
{
    char *p = malloc(len > 0 ? len : 1);

    CHECK(p != NULL);
    if (len > 0)
        memcpy(p, bytes, len);
    return p;
}

/* The iovecs laid end to end, in a block of exactly their total length; sets *len. */
static char *flatten(const struct iovec *iov, int n, size_t *len)
{
    size_t total = 0, at = 0;
    char *flat;

    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    flat = malloc(total > 0 ? total : 1);
    CHECK(flat != NULL);
    for (int i = 0; i < n; i++) {
        if (iov[i].iov_len > 0)
            memcpy(flat + at, iov[i].iov_base, iov[i].iov_len);
        at += iov[i].iov_len;
    }
    *len = total;
    return flat;
}

/* ---- one input ----------------------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t cut, request_len, other_len, tag_len, reply_len, quote_len;
    char *request, *other, *reply, *want;
    size_t want_len;
    struct iovec iov[3];
    const char *quote;
    int n;

    if (size < 2)
        return 0;
    cut = ((size_t)data[0] << 8 | data[1]) % (size - 1);
    request_len = cut;
    other_len = size - 2 - cut;
    request = piece(data + 2, request_len);
    other = piece(data + 2 + cut, other_len);

    /* The tag. */
    tag_len = wire_tag_len(request, request_len);
    CHECK(tag_len == model_tag_len(request, request_len));

    /* The reply built from it, with other as the quote: the model's bytes, and it matches. */
    n = wire_reply(iov, request, tag_len, other, other_len);
    CHECK(n == (tag_len > 0 ? 3 : 1));
    reply = flatten(iov, n, &reply_len);
    want = model_reply(request, tag_len, other, other_len, &want_len);
    CHECK(reply_len == want_len && memcmp(reply, want, want_len) == 0);
    free(want);
    CHECK(wire_match(reply, reply_len, request, tag_len, &quote, &quote_len));
    CHECK(quote_len == other_len && quote == reply + reply_len - other_len);
    free(reply);

    /* other as a reply from anyone: matched exactly when the model says, the rest the quote. */
    quote = NULL;
    bool matched = wire_match(other, other_len, request, tag_len, &quote, &quote_len);
    CHECK(matched == model_matches(other, other_len, request, tag_len));
    if (matched) {
        size_t skip = tag_len > 0 ? tag_len + 1 : 0;
        CHECK(quote == other + skip && quote_len == other_len - skip);
    }
    free(request);
    free(other);
    return 0;
}
