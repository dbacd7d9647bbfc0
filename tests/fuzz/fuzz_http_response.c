/* fuzz_http_response.c - libFuzzer target for the client's side of lesson 08's HTTP rules:
 * a response head (http_head_scan, http_parse_response, http_response_framing), its body
 * (http_body: Content-Length, chunked, until close) and a redirect (http_url_resolve).
 *
 * Input: byte 0 holds the split seed (bits 1-7) and whether the request was HEAD (bit 0);
 * the rest is what a server sends. Pieces are copied into blocks of exactly their length.
 *
 * Oracles: the body's bytes and verdict do not depend on the split; for a chunked body
 * they equal those of a second decoder written here from RFC 9112, 7.1 without looking at
 * http_body.c; a Content-Length body never gives more bytes than the length; a resolved
 * Location always yields a target that starts with '/' and holds no "." or ".." segment.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_body.h"
#include "http_message.h"
#include "http_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_http_response: %s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                                        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const struct http_limits limits = {
    .start_line = 512, .field_line = 512, .header_size = 2048};

/* ---- an independent chunked decoder, on the whole input at once ------------------------ */

/* The line at in[*pos..], its end (LF, a CR before it dropped) not included; *pos moves
 * past the LF. Returns false when no LF is left. */
static bool ref_line(const uint8_t *in, size_t len, size_t *pos, size_t *start, size_t *n)
{
    size_t i = *pos;

    while (i < len && in[i] != '\n')
        i++;
    if (i == len)
        return false;
    *start = *pos;
    *n = i - *pos;
    if (*n > 0 && in[i - 1] == '\r')
        (*n)--;
    *pos = i + 1;
    return true;
}

/* Returns 1 (complete, *out bytes of data), 0 (the input ended first), -1 (malformed). */
static int ref_chunked(const uint8_t *in, size_t len, uint64_t *out)
{
    size_t pos = 0, start, n;

    *out = 0;
    for (;;) {
        uint64_t size = 0;
        size_t i, digits = 0;
        if (!ref_line(in, len, &pos, &start, &n))
            return 0;
        if (n > HTTP_CHUNK_LINE_MAX)
            return -1;
        for (i = start; i < start + n; i++) {
            int v = in[i] >= '0' && in[i] <= '9'   ? in[i] - '0'
                    : in[i] >= 'a' && in[i] <= 'f' ? in[i] - 'a' + 10
                    : in[i] >= 'A' && in[i] <= 'F' ? in[i] - 'A' + 10
                                                   : -1;
            if (v < 0)
                break;
            if (size >> 60)
                return -1;
            size = size * 16 + (uint64_t)v;
            digits++;
        }
        if (digits == 0)
            return -1;
        while (i < start + n && (in[i] == ' ' || in[i] == '\t'))
            i++;
        if (i < start + n && in[i] != ';')
            return -1;
        for (; i < start + n; i++)
            if (in[i] < ' ' && in[i] != '\t')
                return -1;
        if (size == 0)
            break;
        if (len - pos < size)
            return 0;
        pos += (size_t)size;
        *out += size;
        if (!ref_line(in, len, &pos, &start, &n))
            return 0;
        if (n != 0)
            return -1;
    }
    for (size_t trailers = 0;;) { /* trailer lines, then the empty line */
        if (!ref_line(in, len, &pos, &start, &n))
            return 0;
        if (n == 0)
            return 1;
        if (n > HTTP_CHUNK_LINE_MAX)
            return -1;
        trailers += n + 2;
        if (trailers > HTTP_TRAILER_MAX)
            return -1;
        const uint8_t *colon = memchr(in + start, ':', n);
        if (colon == NULL || colon == in + start || in[start] == ' ' || in[start] == '\t' ||
            colon[-1] == ' ' || colon[-1] == '\t')
            return -1;
        for (size_t k = start; k < start + n; k++)
            if (in[k] < ' ' && in[k] != '\t')
                return -1;
    }
}

/* ---- the checks ------------------------------------------------------------------------- */

static size_t piece(uint32_t *state, size_t left)
{
    *state = *state * 1103515245u + 12345u;
    size_t n = 1 + (*state >> 16) % 97;
    return n < left ? n : left;
}

/* Decode the body in pieces. Returns the verdict (1, 0 or -1); *got: data bytes. */
static int body_in_pieces(enum http_framing framing, uint64_t length, const uint8_t *in, size_t len,
                          uint32_t seed, uint64_t *got)
{
    struct http_body b;
    size_t at = 0;
    int rc = 0;

    http_body_init(&b, framing, length);
    *got = 0;
    if (b.done)
        return 1;
    while (at < len && rc == 0) {
        size_t n = piece(&seed, len - at), used;
        char *block = malloc(n);
        CHECK(block != NULL);
        memcpy(block, in + at, n);
        for (size_t off = 0; off < n && rc == 0; off += used) {
            const char *d;
            size_t dn;
            rc = http_body_feed(&b, block + off, n - off, &used, &d, &dn);
            CHECK(rc != 0 || used > 0);
            CHECK(dn <= used && d >= block && d + dn <= block + n);
            *got += dn;
        }
        at += n;
        free(block);
    }
    CHECK(b.received == *got);
    if (rc == 0 && http_body_eof(&b) == 1)
        return framing == HTTP_BODY_CLOSE ? 1 : 2; /* 2: cannot be, checked below */
    return rc;
}

static void check_location(const struct http_response *resp)
{
    static const struct http_url base = {.host = "127.0.0.1", .port = "8080", .target = "/a/b/c?q"};
    struct http_url out;
    const char *why, *loc;
    size_t n;

    loc = http_header_get(&resp->headers, "Location", &n);
    if (loc == NULL || http_url_resolve(&base, loc, n, &out, &why) != HTTP_URL_OK)
        return;
    CHECK(out.target[0] == '/');
    out.target[strcspn(out.target, "?")] = '\0'; /* the path: the query may hold anything */
    CHECK(strstr(out.target, "/./") == NULL && strstr(out.target, "/../") == NULL);
    CHECK(out.host[0] != '\0' && out.port[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_scan scan = {0};
    struct http_response resp;
    enum http_framing framing;
    uint64_t length, got, ref;
    size_t head_len;
    const char *why;
    char *copy;

    if (size < 1)
        return 0;
    copy = malloc(size - 1 + 1);
    CHECK(copy != NULL);
    memcpy(copy, data + 1, size - 1);
    if (http_head_scan(&scan, copy, size - 1, &limits, &head_len) != HTTP_SCAN_DONE ||
        http_parse_response(copy, head_len, &resp, &why) != 0) {
        free(copy);
        return 0;
    }
    CHECK(resp.status >= 100 && resp.status <= 599);
    check_location(&resp);
    if (http_response_framing(&resp, data[0] & 1, &framing, &length, &why) == 0) {
        const uint8_t *body = data + 1 + head_len;
        size_t body_len = size - 1 - head_len;
        int rc = body_in_pieces(framing, length, body, body_len, data[0] >> 1, &got);
        CHECK(rc != 2);
        if (framing == HTTP_BODY_LENGTH)
            CHECK(got <= length && (rc != 1 || got == length));
        if (framing == HTTP_BODY_CLOSE)
            CHECK(rc == 1 && got == body_len);
        if (framing == HTTP_BODY_NONE)
            CHECK(rc == 1 && got == 0);
        if (framing == HTTP_BODY_CHUNKED) {
            int r = ref_chunked(body, body_len, &ref);
            CHECK(r == rc || (r == 0 && rc == -1)); /* the input ended: -1 at the close */
            CHECK(r != 1 || got == ref);
        }
    }
    free(copy);
    return 0;
}
