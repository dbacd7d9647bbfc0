/* http_body.c - where an HTTP body ends: Content-Length, chunked, or the connection's close.
 *
 * A chunked body, byte by byte (RFC 9112, 7.1):
 *
 *     1a;name=value CRLF      a size line: the chunk's size in hex, maybe extensions
 *     <0x1a bytes>  CRLF      the chunk's data, then a line end
 *     ...
 *     0 CRLF                  the last chunk
 *     Name: value CRLF        trailer lines, maybe none
 *     CRLF                    the end
 *
 * Lines are collected in b->line (they may arrive split); data is handed back in place.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "http_body.h"

enum chunk_state { SIZE_LINE, DATA, DATA_END, TRAILER };

void http_body_init(struct http_body *b, enum http_framing framing, uint64_t length)
{
    memset(b, 0, sizeof *b);
    b->framing = framing;
    b->length = length;
    b->left = framing == HTTP_BODY_LENGTH ? length : 0;
    b->state = SIZE_LINE;
    b->done = framing == HTTP_BODY_NONE || (framing == HTTP_BODY_LENGTH && length == 0);
}

/* Put a printable copy of text (at most 40 bytes) in quotes into b->error after what. */
static int fail(struct http_body *b, const char *what, const char *text, size_t n)
{
    char shown[48];
    size_t k = 0;

    for (size_t i = 0; i < n && k < 40; i++) {
        if ((unsigned char)text[i] >= ' ' && (unsigned char)text[i] < 0x7f)
            shown[k++] = text[i];
        else
            shown[k++] = '?';
    }
    shown[k] = '\0';
    if (text == NULL)
        snprintf(b->error, sizeof b->error, "%s", what);
    else
        snprintf(b->error, sizeof b->error, "%s: \"%s%s\"", what, shown, n > 40 ? "..." : "");
    return -1;
}

/* Collect a line into b->line. Returns 1 when it is whole (b->line NUL-terminated, its CR
 * LF or LF removed), 0 when more bytes are needed, -1 when it is too long. */
static int collect_line(struct http_body *b, const char *in, size_t len, size_t *used)
{
    const char *lf = memchr(in, '\n', len);
    size_t n = lf != NULL ? (size_t)(lf - in) : len;

    if (b->line_len + n > HTTP_CHUNK_LINE_MAX + 1) /* +1: the CR of a CRLF */
        return -1;
    memcpy(b->line + b->line_len, in, n);
    b->line_len += n;
    *used = lf != NULL ? n + 1 : n;
    if (lf == NULL)
        return 0;
    if (b->line_len > 0 && b->line[b->line_len - 1] == '\r')
        b->line_len--;
    if (b->line_len > HTTP_CHUNK_LINE_MAX)
        return -1;
    b->line[b->line_len] = '\0';
    return 1;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "1a", "1a;ext=val", "1A ; ext": the size, then nothing or extensions (ignored, but
 * only printable). Returns 0 and sets b->left, or -1. */
static int parse_size_line(struct http_body *b)
{
    const char *s = b->line;
    uint64_t size = 0;
    size_t i = 0;

    while (hex_value(s[i]) >= 0) {
        if (size >> 60 != 0) /* one more digit would overflow */
            return fail(b, "chunk size too large", s, b->line_len);
        size = size << 4 | (uint64_t)hex_value(s[i++]);
    }
    if (i == 0)
        return fail(b, "bad chunk size", s, b->line_len);
    while (s[i] == ' ' || s[i] == '\t')
        i++;
    if (s[i] != '\0' && s[i] != ';')
        return fail(b, "bad chunk size", s, b->line_len);
    for (; i < b->line_len; i++)
        if ((unsigned char)s[i] < ' ' && s[i] != '\t')
            return fail(b, "bad chunk extension", s, b->line_len);
    b->left = size;
    return 0;
}

/* A trailer line must look like a header line: a name, a colon, printable bytes. */
static int check_trailer(struct http_body *b)
{
    const char *colon = strchr(b->line, ':');

    if (colon == NULL || colon == b->line || b->line[0] == ' ' || b->line[0] == '\t' ||
        colon[-1] == ' ' || colon[-1] == '\t')
        return fail(b, "malformed trailer line", b->line, b->line_len);
    for (size_t i = 0; i < b->line_len; i++)
        if ((unsigned char)b->line[i] < ' ' && b->line[i] != '\t')
            return fail(b, "malformed trailer line", b->line, b->line_len);
    return 0;
}

/* A whole line of a chunked body (b->line, b->line_len) is here: act on it. Returns 1 at
 * the end of the body, 0 to go on, -1 on an error. */
static int line_done(struct http_body *b)
{
    if (b->state == DATA_END) {
        if (b->line_len != 0)
            return fail(b, "no line end after a chunk's data", b->line, b->line_len);
        b->state = SIZE_LINE;
    } else if (b->state == SIZE_LINE) {
        if (parse_size_line(b) < 0)
            return -1;
        b->state = b->left > 0 ? DATA : TRAILER; /* size 0: the last chunk */
    } else if (b->line_len == 0) {
        b->done = true; /* the empty line after the trailers */
        return 1;
    } else {
        b->trailer_size += b->line_len + 2;
        if (b->trailer_size > HTTP_TRAILER_MAX)
            return fail(b, "trailer lines too long", NULL, 0);
        if (check_trailer(b) < 0)
            return -1;
    }
    return 0;
}

/* One step of a chunked body: a line, a piece of data, or a data's line end. */
static int feed_chunked(struct http_body *b, const char *in, size_t len, size_t *used,
                        const char **data, size_t *data_len)
{
    int rc;

    if (b->state == DATA) {
        size_t n = b->left < len ? (size_t)b->left : len;
        *data = in;
        *data_len = n;
        *used = n;
        b->left -= n;
        b->received += n;
        if (b->left == 0)
            b->state = DATA_END;
        return 0;
    }
    rc = collect_line(b, in, len, used);
    if (rc < 0)
        return fail(b, b->state == TRAILER ? "trailer line too long" : "chunk size line too long",
                    NULL, 0);
    if (rc == 0)
        return 0;
    rc = line_done(b);
    b->line_len = 0; /* the line is whole: the next one starts empty */
    return rc;
}

int http_body_feed(struct http_body *b, const char *in, size_t len, size_t *used, const char **data,
                   size_t *data_len)
{
    *used = 0;
    *data = in;
    *data_len = 0;
    if (b->error[0] != '\0')
        return -1;
    if (b->done)
        return 1;
    switch (b->framing) {
    case HTTP_BODY_NONE:
        return 1;
    case HTTP_BODY_CLOSE:
        *data_len = *used = len; /* everything, until the close */
        b->received += len;
        return 0;
    case HTTP_BODY_LENGTH: {
        size_t n = b->left < len ? (size_t)b->left : len;
        *data_len = *used = n;
        b->left -= n;
        b->received += n;
        b->done = b->left == 0;
        return b->done ? 1 : 0;
    }
    case HTTP_BODY_CHUNKED:
        break;
    }
    return feed_chunked(b, in, len, used, data, data_len);
}

int http_body_eof(struct http_body *b)
{
    if (b->done || b->framing == HTTP_BODY_CLOSE) {
        b->done = true;
        return 1;
    }
    if (b->framing == HTTP_BODY_LENGTH)
        snprintf(b->error, sizeof b->error,
                 "connection closed after %" PRIu64 " of %" PRIu64 " bytes", b->received,
                 b->length);
    else
        snprintf(b->error, sizeof b->error,
                 "connection closed in the middle of a chunked body, after %" PRIu64 " bytes",
                 b->received);
    return -1;
}
