/* http_body.h - where an HTTP body ends: Content-Length, chunked, or the connection's close.
 *
 * TCP carries a stream of bytes; HTTP must say where each message's body stops, or the
 * next message could not be found. Three ways (RFC 9112, section 6): a Content-Length
 * counts the bytes; "Transfer-Encoding: chunked" sends the body as chunks, each preceded
 * by its size in hex, ending with a chunk of size 0 (and optional trailer lines); or, for
 * a response only, the body runs until the server closes the connection.
 *
 * struct http_body is fed the bytes that follow a head, in any split, and hands back the
 * body's own bytes (pointers into what it was fed), so the client can print them and the
 * server can drop a request's body without taking it for the next request. No I/O.
 */
#ifndef HTTP_BODY_H
#define HTTP_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum http_framing {
    HTTP_BODY_NONE,    /* no body at all */
    HTTP_BODY_LENGTH,  /* Content-Length bytes */
    HTTP_BODY_CHUNKED, /* chunks, a last chunk of size 0, trailers */
    HTTP_BODY_CLOSE,   /* until the connection closes (responses only) */
};

/* A chunk-size line ("1a;name=value") or a trailer line, at most. */
enum { HTTP_CHUNK_LINE_MAX = 4096, HTTP_TRAILER_MAX = 16384 };

struct http_body {
    enum http_framing framing;
    uint64_t length;   /* HTTP_BODY_LENGTH: the whole body's */
    uint64_t left;     /* bytes of the body (LENGTH) or of the chunk (CHUNKED) to come */
    uint64_t received; /* body bytes handed back so far */
    int state;         /* chunked: which part comes next (see http_body.c) */
    size_t line_len;   /* chunked: bytes of the line being collected */
    size_t trailer_size;
    bool done;
    char line[HTTP_CHUNK_LINE_MAX + 2]; /* a line, its CR, a NUL */
    char error[128];                    /* what was wrong, after -1 */
};

/* http_body_init - a body delimited by framing (length: for HTTP_BODY_LENGTH). */
void http_body_init(struct http_body *b, enum http_framing framing, uint64_t length);

/* http_body_feed - take in[0..len), the bytes after the head. Sets *used to the bytes
 * taken (more than 0 while len > 0 and the body is not done) and *data, *data_len to the
 * body's bytes among them (a piece of in; *data_len may be 0). Call again with the rest.
 * Returns 1 once the body is complete (the bytes after it are the next message's), 0 when
 * more is needed, -1 when the framing is broken (b->error says how: "bad chunk size"). */
int http_body_feed(struct http_body *b, const char *in, size_t len, size_t *used, const char **data,
                   size_t *data_len);

/* http_body_eof - the connection closed. Returns 1 when that completes the body (it runs
 * until the close, or it was already complete), or -1 with b->error: "connection closed
 * after 1000 of 5000 bytes". */
int http_body_eof(struct http_body *b);

#endif
