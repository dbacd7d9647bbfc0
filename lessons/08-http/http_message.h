/* http_message.h - HTTP/1.1 message heads, read without any I/O (RFC 9112).
 *
 * A head is the start line (the request line, or the status line of a response) and the
 * header lines, up to the empty line that ends them. Its bytes arrive in pieces, in any
 * split: http_head_scan() finds where the head ends as they come, checking the size
 * limits on the way, so a peer cannot make us keep bytes without bound. Once the head is
 * whole, http_parse_request() or http_parse_response() read it in one go. The header
 * table then points into the caller's buffer: no copy, no allocation.
 *
 * Nothing here reads a socket or a file: the server, the client and the fuzz targets feed
 * it bytes, so every rule can be tried with any input.
 */
#ifndef HTTP_MESSAGE_H
#define HTTP_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_body.h"

enum { HTTP_MAX_FIELDS = 100 }; /* header lines in one head, at most */

/* One header line, "Name: value": the name as sent, the value without the spaces and tabs
 * around it. Both point into the head's buffer, not NUL-terminated. */
struct http_field {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* The header table: what Java's URLConnection.getHeaderField() looks things up in. */
struct http_headers {
    size_t count;
    struct http_field field[HTTP_MAX_FIELDS];
};

/* http_header_get - the value of the first field called name (in any case), with its
 * length in *len; NULL when there is none. */
const char *http_header_get(const struct http_headers *h, const char *name, size_t *len);

/* ---- finding the end of a head, as its bytes arrive -------------------------------- */

/* How long a head may be. A line is counted without its line end (CRLF or LF). */
struct http_limits {
    size_t start_line;  /* the request line or the status line */
    size_t field_line;  /* one header line */
    size_t header_size; /* all header lines with their line ends, the final empty line not */
};

/* Where a scan has got to in the caller's buffer; zero it before the first byte. */
struct http_scan {
    size_t scanned;        /* bytes of the buffer looked at */
    size_t line_start;     /* where the line being looked at starts */
    size_t start_line_end; /* 0 until the start line has ended: then the offset after it */
};

enum http_scan_result {
    HTTP_SCAN_MORE,            /* no end yet, and no limit passed: read more */
    HTTP_SCAN_DONE,            /* the head is whole: *head_len bytes */
    HTTP_SCAN_START_TOO_LONG,  /* the start line is longer than start_line */
    HTTP_SCAN_FIELD_TOO_LONG,  /* one header line is longer than field_line */
    HTTP_SCAN_HEADER_TOO_LONG, /* the header lines together pass header_size */
    HTTP_SCAN_EMPTY_START,     /* the head starts with an empty line */
};

/* http_head_scan - look at buf[0..len) (the bytes so far: the same start each time, more
 * at the end) for the end of a head. Each byte is looked at once, however the bytes are
 * split: a client sending one byte at a time costs no more than one sending all at once.
 * A line ends at LF, with or without a CR before it. */
enum http_scan_result http_head_scan(struct http_scan *scan, const char *buf, size_t len,
                                     const struct http_limits *limits, size_t *head_len);

/* ---- requests (the server's side) -------------------------------------------------- */

struct http_request {
    const char *method; /* "GET", as sent (methods are case-sensitive) */
    size_t method_len;
    const char *target; /* "/index.html?x=1", as sent */
    size_t target_len;
    int minor; /* HTTP/1.minor: 0 or 1 (a later 1.x is read as 1.1) */
    struct http_headers headers;
    bool keep_alive;        /* HTTP/1.1 unless "Connection: close"; 1.0 only if asked */
    enum http_framing body; /* the request's body: none, Content-Length or chunked */
    uint64_t content_length;
};

/* http_parse_request - read a whole head (as http_head_scan found it) into req. Returns 0,
 * or the status to answer, with *why saying what was wrong: 400 (malformed, or a framing
 * that could smuggle a second request: both Content-Length and Transfer-Encoding, two
 * different Content-Lengths, obs-fold, whitespace before a colon, no Host), 431 (more
 * than HTTP_MAX_FIELDS header lines), 501 (a transfer coding other than chunked) or 505
 * (an HTTP version other than 1.x). */
int http_parse_request(const char *head, size_t len, struct http_request *req, const char **why);

/* ---- responses (the client's side) ------------------------------------------------- */

struct http_response {
    int minor;          /* HTTP/1.minor */
    int status;         /* 100 to 599 */
    const char *reason; /* "Not Found", as sent; may be empty */
    size_t reason_len;
    struct http_headers headers;
    const char *status_line; /* the whole first line, for messages */
    size_t status_line_len;
};

/* http_parse_response - read a whole response head into resp. Returns 0, or -1 with *why
 * saying what was wrong ("malformed status line", "malformed header line"). */
int http_parse_response(const char *head, size_t len, struct http_response *resp, const char **why);

/* http_response_framing - how the body of resp is delimited (RFC 9112, 6.3): none for a
 * HEAD request, 1xx, 204 and 304; chunked; Content-Length; or until the server closes.
 * Returns 0 and sets *framing and *length, or -1 with *why (both Content-Length and
 * Transfer-Encoding, two different Content-Lengths, a bad Content-Length). */
int http_response_framing(const struct http_response *resp, bool head_request,
                          enum http_framing *framing, uint64_t *length, const char **why);

#endif
