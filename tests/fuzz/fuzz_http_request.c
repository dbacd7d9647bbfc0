/* fuzz_http_request.c - libFuzzer target for the server's side of lesson 08's HTTP rules:
 * finding the end of a request head (http_head_scan), parsing it (http_parse_request),
 * turning its target into a path (http_target_path) and dropping its body (http_body).
 *
 * Input: byte 0 seeds the split into pieces (as reads from a socket would cut it); the
 * rest is what a client sends. Every piece is copied into a heap block of exactly its
 * length, so AddressSanitizer catches any read past it.
 *
 * Oracles: the split changes nothing (the scan finds the same end, or the same refusal,
 * as on the whole input at once; the body gives the same bytes and the same verdict); a
 * parsed request keeps every rule the server relies on (a token method, a visible target,
 * never both Content-Length and Transfer-Encoding); a path that is accepted is clean: no
 * "." or ".." segment, no empty segment, no leading '/', no NUL, no backslash.
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
            fprintf(stderr, "fuzz_http_request: %s:%d: check failed: %s\n", __FILE__, __LINE__,    \
                    #cond);                                                                        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The server's limits (http-server.c): a smaller head buffer keeps the fuzzer fast, the
 * logic is the same. */
static const struct http_limits limits = {
    .start_line = 512, .field_line = 1024, .header_size = 1024};

/* The next piece's length, from a tiny generator seeded by byte 0. */
static size_t piece(uint32_t *state, size_t left)
{
    *state = *state * 1103515245u + 12345u;
    size_t n = 1 + (*state >> 16) % 64;
    return n < left ? n : left;
}

/* Scan the input piece by piece, as the server does, growing a buffer. */
static enum http_scan_result scan_in_pieces(const uint8_t *in, size_t len, uint32_t seed,
                                            size_t *head_len)
{
    struct http_scan scan = {0};
    char *buf = malloc(len + 1);
    size_t have = 0;
    enum http_scan_result r = HTTP_SCAN_MORE;

    CHECK(buf != NULL);
    while (have < len && r == HTTP_SCAN_MORE) {
        size_t n = piece(&seed, len - have);
        memcpy(buf + have, in + have, n);
        have += n;
        char *exact = malloc(have); /* exactly the bytes received so far */
        CHECK(exact != NULL);
        memcpy(exact, buf, have);
        r = http_head_scan(&scan, exact, have, &limits, head_len);
        free(exact);
    }
    free(buf);
    return r;
}

static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static void check_request(const struct http_request *req)
{
    size_t n;

    CHECK(req->method_len > 0);
    for (size_t i = 0; i < req->method_len; i++)
        CHECK(is_tchar((unsigned char)req->method[i]));
    CHECK(req->target_len > 0);
    for (size_t i = 0; i < req->target_len; i++)
        CHECK((unsigned char)req->target[i] > ' ' && (unsigned char)req->target[i] < 0x7f);
    CHECK(req->minor >= 0 && req->minor <= 9);
    CHECK(!(http_header_get(&req->headers, "Content-Length", &n) != NULL &&
            http_header_get(&req->headers, "Transfer-Encoding", &n) != NULL));
    CHECK(req->minor >= 1 || req->body != HTTP_BODY_CHUNKED); /* 1.0: no chunked */
    for (size_t i = 0; i < req->headers.count; i++) {
        const struct http_field *f = &req->headers.field[i];
        CHECK(f->name_len > 0);
        for (size_t k = 0; k < f->value_len; k++)
            CHECK(f->value[k] != '\r' && f->value[k] != '\n' && f->value[k] != '\0');
    }
}

static void check_path(const struct http_request *req)
{
    char out[HTTP_TARGET_MAX + 1];
    const char *why;
    bool dir;

    if (http_target_path(req->target, req->target_len, out, &dir, &why) != 0)
        return;
    CHECK(out[0] != '/');
    CHECK(strchr(out, '\\') == NULL);
    for (const char *p = out; *p != '\0';) {
        size_t n = strcspn(p, "/");
        CHECK(n > 0);                                   /* no empty segment */
        CHECK(!(n == 1 && p[0] == '.'));                /* no "." */
        CHECK(!(n == 2 && p[0] == '.' && p[1] == '.')); /* no ".." */
        p += n;
        if (*p == '/') {
            p++;
            CHECK(*p != '\0'); /* no trailing '/' */
        }
    }
}

/* Drop the body after the head, in pieces and whole: the same bytes, the same verdict. */
static void check_body(const struct http_request *req, const uint8_t *rest, size_t len,
                       uint32_t seed)
{
    struct http_body a, b;
    uint64_t got_a = 0, got_b = 0;
    int ra = 0, rb = 0;
    size_t at = 0;

    http_body_init(&a, req->body, req->content_length);
    http_body_init(&b, req->body, req->content_length);
    while (at < len && ra == 0) { /* in pieces, each in a block of its own */
        size_t n = piece(&seed, len - at), used;
        char *block = malloc(n);
        const char *d;
        size_t dn;
        CHECK(block != NULL);
        memcpy(block, rest + at, n);
        for (size_t off = 0; off < n && ra == 0; off += used) {
            ra = http_body_feed(&a, block + off, n - off, &used, &d, &dn);
            CHECK(ra < 0 || used > 0 || ra == 1);
            CHECK(dn <= used);
            got_a += dn;
            if (ra != 0)
                at += off + used;
        }
        if (ra == 0)
            at += n;
        free(block);
    }
    for (size_t off = 0, used = 0; off < len && rb == 0; off += used) { /* whole */
        const char *d;
        size_t dn;
        rb = http_body_feed(&b, (const char *)rest + off, len - off, &used, &d, &dn);
        got_b += dn;
    }
    CHECK(ra == rb);
    CHECK(got_a == got_b);
    CHECK(a.received == got_a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_request req;
    size_t head_a = 0, head_b = 0;
    const char *why;
    enum http_scan_result ra, rb;
    struct http_scan whole = {0};
    char *exact;

    if (size < 1)
        return 0;
    ra = scan_in_pieces(data + 1, size - 1, data[0], &head_a);
    exact = malloc(size - 1 + 1);
    CHECK(exact != NULL);
    memcpy(exact, data + 1, size - 1);
    rb = http_head_scan(&whole, exact, size - 1, &limits, &head_b);
    /* The whole input may hold bytes beyond a refusal in pieces: compare only when both
     * saw a verdict other than "more". */
    if (ra != HTTP_SCAN_MORE && rb != HTTP_SCAN_MORE) {
        CHECK(ra == rb);
        CHECK(ra != HTTP_SCAN_DONE || head_a == head_b);
    }
    if (rb == HTTP_SCAN_DONE) {
        char *head = malloc(head_b);
        CHECK(head != NULL);
        memcpy(head, exact, head_b);
        if (http_parse_request(head, head_b, &req, &why) == 0) {
            check_request(&req);
            check_path(&req);
            check_body(&req, data + 1 + head_b, size - 1 - head_b, data[0]);
        }
        free(head);
    }
    free(exact);
    return 0;
}
