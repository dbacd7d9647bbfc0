/* http_message.c - HTTP/1.1 message heads, read without any I/O (RFC 9112). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "http_message.h"

/* ---- characters (RFC 9110, 5.6.2) ------------------------------------------------- */

/* tchar: what a method or a header name is made of. */
static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* What a header value, a reason phrase or a chunk extension may hold: visible ASCII,
 * space, tab, and bytes above 127. Never CR, LF, NUL or another control character. */
static bool is_field_char(unsigned char c)
{
    return c == '\t' || (c >= ' ' && c != 0x7f);
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Does [s, s+len) equal the NUL-terminated word, in any case? */
static bool equals_nocase(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

const char *http_header_get(const struct http_headers *h, const char *name, size_t *len)
{
    for (size_t i = 0; i < h->count; i++) {
        if (equals_nocase(h->field[i].name, h->field[i].name_len, name)) {
            *len = h->field[i].value_len;
            return h->field[i].value;
        }
    }
    return NULL;
}

/* ---- finding the end of a head ------------------------------------------------------ */

/* Length of the line [start, end) without the CR of a CRLF ending. */
static size_t content_len(const char *buf, size_t start, size_t end)
{
    size_t n = end - start;

    return n > 0 && buf[end - 1] == '\r' ? n - 1 : n;
}

/* A header line of which n bytes have come, after header lines of total bytes: which
 * limit does it pass first, byte by byte? The answer must not depend on how the bytes
 * were split, so it is the limit passed at the earliest byte (the field's on a tie). */
static enum http_scan_result field_over(size_t total, size_t n, const struct http_limits *limits)
{
    size_t field_at = n > limits->field_line ? limits->field_line + 1 : SIZE_MAX;
    size_t header_at = total + n > limits->header_size
                           ? (total >= limits->header_size ? 1 : limits->header_size - total + 1)
                           : SIZE_MAX;

    if (field_at == SIZE_MAX && header_at == SIZE_MAX)
        return HTTP_SCAN_MORE;
    return field_at <= header_at ? HTTP_SCAN_FIELD_TOO_LONG : HTTP_SCAN_HEADER_TOO_LONG;
}

/* The line [start, lf) just ended (buf[lf] is its LF): is the head done, or too long? */
static enum http_scan_result end_of_line(struct http_scan *scan, const char *buf, size_t lf,
                                         const struct http_limits *limits, size_t *head_len)
{
    size_t n = content_len(buf, scan->line_start, lf);
    enum http_scan_result r;

    if (scan->start_line_end == 0) {
        if (n == 0)
            return HTTP_SCAN_EMPTY_START;
        if (n > limits->start_line)
            return HTTP_SCAN_START_TOO_LONG;
        scan->start_line_end = lf + 1;
    } else if (n == 0) {
        *head_len = lf + 1; /* the empty line: the head ends here */
        return HTTP_SCAN_DONE;
    } else {
        /* The content first, then its line end: the last bytes to count. */
        r = field_over(scan->line_start - scan->start_line_end, n, limits);
        if (r != HTTP_SCAN_MORE)
            return r;
        if (lf + 1 - scan->start_line_end > limits->header_size)
            return HTTP_SCAN_HEADER_TOO_LONG;
    }
    scan->line_start = lf + 1;
    return HTTP_SCAN_MORE;
}

enum http_scan_result http_head_scan(struct http_scan *scan, const char *buf, size_t len,
                                     const struct http_limits *limits, size_t *head_len)
{
    size_t n;

    while (scan->scanned < len) {
        const char *lf = memchr(buf + scan->scanned, '\n', len - scan->scanned);
        enum http_scan_result r;
        if (lf == NULL) {
            scan->scanned = len;
            break;
        }
        scan->scanned = (size_t)(lf - buf) + 1;
        r = end_of_line(scan, buf, (size_t)(lf - buf), limits, head_len);
        if (r != HTTP_SCAN_MORE)
            return r;
    }
    /* No end yet: refuse now a line that is already too long, rather than keep reading
     * it. (A CR at the very end may be the first half of a CRLF: it does not count.) */
    n = content_len(buf, scan->line_start, len);
    if (scan->start_line_end == 0)
        return n > limits->start_line ? HTTP_SCAN_START_TOO_LONG : HTTP_SCAN_MORE;
    return field_over(scan->line_start - scan->start_line_end, n, limits);
}

/* ---- lines and header fields ----------------------------------------------------------- */

/* The next line of a whole head at *pos: sets *line and *n (its line end excluded) and
 * moves *pos past it. Returns false at the end of the head. */
static bool next_line(const char *head, size_t len, size_t *pos, const char **line, size_t *n)
{
    const char *lf;

    if (*pos >= len)
        return false;
    lf = memchr(head + *pos, '\n', len - *pos);
    if (lf == NULL) /* cannot be: a scanned head ends with an empty line */
        return false;
    *line = head + *pos;
    *n = content_len(head, *pos, (size_t)(lf - head));
    *pos = (size_t)(lf - head) + 1;
    return true;
}

/* One header line into f. Returns 0, or -1 with *why. These are the rules that keep two
 * programs from reading one message two ways (request smuggling, RFC 9112, 5 and 11.2). */
static int parse_field(const char *line, size_t n, struct http_field *f, const char **why)
{
    const char *colon = memchr(line, ':', n);
    size_t start, end;

    if (n > 0 && is_ows(line[0])) {
        *why = "obs-fold: a header line starts with a space or a tab";
        return -1;
    }
    if (colon == NULL) {
        *why = "a header line without a colon";
        return -1;
    }
    f->name = line;
    f->name_len = (size_t)(colon - line);
    if (f->name_len == 0) {
        *why = "an empty header name";
        return -1;
    }
    if (is_ows(line[f->name_len - 1])) {
        *why = "whitespace between a header name and its colon";
        return -1;
    }
    for (size_t i = 0; i < f->name_len; i++) {
        if (!is_tchar((unsigned char)line[i])) {
            *why = "a character that has no place in a header name";
            return -1;
        }
    }
    start = f->name_len + 1;
    end = n;
    while (start < end && is_ows(line[start]))
        start++;
    while (end > start && is_ows(line[end - 1]))
        end--;
    for (size_t i = start; i < end; i++) {
        if (!is_field_char((unsigned char)line[i])) {
            *why = "a control character in a header value";
            return -1;
        }
    }
    f->value = line + start;
    f->value_len = end - start;
    return 0;
}

/* Every header line from *pos to the empty line into h. Returns 0, 431 (more than
 * HTTP_MAX_FIELDS) or 400, with *why. */
static int parse_fields(const char *head, size_t len, size_t pos, struct http_headers *h,
                        const char **why)
{
    const char *line;
    size_t n;

    h->count = 0;
    while (next_line(head, len, &pos, &line, &n) && n > 0) {
        if (h->count == HTTP_MAX_FIELDS) {
            *why = "more than 100 header lines";
            return 431;
        }
        if (parse_field(line, n, &h->field[h->count], why) < 0)
            return 400;
        h->count++;
    }
    return 0;
}

/* "HTTP/1.1": the minor version in *minor. Returns 0, 505 for another major version, or
 * 400 when it is not a version at all. */
static int parse_version(const char *s, size_t n, int *minor)
{
    if (n != 8 || memcmp(s, "HTTP/", 5) != 0 || !is_digit(s[5]) || s[6] != '.' || !is_digit(s[7]))
        return 400;
    if (s[5] != '1')
        return 505;
    *minor = s[7] - '0';
    return 0;
}

/* A Content-Length value: digits only, no sign, no list, no overflow. Returns 0 or -1. */
static int parse_length(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0 || n > 18) /* 18 digits never overflow; no body is that long */
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Does the comma-separated list [s, s+n) hold token (in any case)? ("Connection: close") */
static bool list_has(const char *s, size_t n, const char *token)
{
    size_t i = 0;

    while (i < n) {
        size_t start, end;
        while (i < n && (is_ows(s[i]) || s[i] == ','))
            i++;
        start = i;
        while (i < n && s[i] != ',')
            i++;
        end = i;
        while (end > start && is_ows(s[end - 1]))
            end--;
        if (end > start && equals_nocase(s + start, end - start, token))
            return true;
    }
    return false;
}

/* The body's framing from Content-Length and Transfer-Encoding, the same rules for both
 * sides. Returns 0, or 400 / 501 with *why. */
static int framing_of(const struct http_headers *h, enum http_framing *framing, uint64_t *length,
                      const char **why)
{
    size_t lengths = 0, encodings = 0, chunked = 0;

    *framing = HTTP_BODY_NONE;
    *length = 0;
    for (size_t i = 0; i < h->count; i++) {
        const struct http_field *f = &h->field[i];
        uint64_t v;
        if (equals_nocase(f->name, f->name_len, "Content-Length")) {
            if (parse_length(f->value, f->value_len, &v) < 0) {
                *why = "a Content-Length that is not a number";
                return 400;
            }
            if (lengths++ > 0 && v != *length) {
                *why = "two different Content-Length values";
                return 400;
            }
            *length = v;
        } else if (equals_nocase(f->name, f->name_len, "Transfer-Encoding")) {
            encodings++;
            chunked += equals_nocase(f->value, f->value_len, "chunked");
        }
    }
    if (encodings > 0 && lengths > 0) {
        *why = "both Content-Length and Transfer-Encoding";
        return 400;
    }
    if (encodings > 0) {
        if (encodings != 1 || chunked != 1) {
            *why = "a transfer coding other than chunked";
            return 501;
        }
        *framing = HTTP_BODY_CHUNKED;
    } else if (lengths > 0 && *length > 0) {
        *framing = HTTP_BODY_LENGTH;
    }
    return 0;
}

/* ---- requests -------------------------------------------------------------------------- */

/* "GET /index.html HTTP/1.1": single spaces, a token, a visible target, a version. */
static int parse_request_line(const char *line, size_t n, struct http_request *req,
                              const char **why)
{
    const char *sp1 = memchr(line, ' ', n), *sp2;
    int rc;

    *why = "a malformed request line";
    if (sp1 == NULL)
        return 400;
    sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - line));
    if (sp2 == NULL)
        return 400;
    req->method = line;
    req->method_len = (size_t)(sp1 - line);
    req->target = sp1 + 1;
    req->target_len = (size_t)(sp2 - req->target);
    if (req->method_len == 0 || req->target_len == 0)
        return 400;
    for (size_t i = 0; i < req->method_len; i++)
        if (!is_tchar((unsigned char)line[i]))
            return 400;
    for (size_t i = 0; i < req->target_len; i++)
        if ((unsigned char)req->target[i] <= ' ' || (unsigned char)req->target[i] >= 0x7f)
            return 400;
    rc = parse_version(sp2 + 1, n - (size_t)(sp2 + 1 - line), &req->minor);
    if (rc == 505)
        *why = "an HTTP version other than 1.0 and 1.1";
    return rc;
}

/* Host, Connection, and the body's framing: what the server acts on. */
static int read_request_fields(struct http_request *req, const char **why)
{
    const struct http_headers *h = &req->headers;
    size_t hosts = 0, n;
    bool close = false, keep = false;
    int rc;

    for (size_t i = 0; i < h->count; i++) {
        const struct http_field *f = &h->field[i];
        if (equals_nocase(f->name, f->name_len, "Host"))
            hosts++;
        else if (equals_nocase(f->name, f->name_len, "Connection")) {
            close = close || list_has(f->value, f->value_len, "close");
            keep = keep || list_has(f->value, f->value_len, "keep-alive");
        }
    }
    if (hosts > 1 || (hosts == 0 && req->minor >= 1)) {
        *why = hosts > 1 ? "more than one Host header" : "an HTTP/1.1 request without Host";
        return 400;
    }
    rc = framing_of(h, &req->body, &req->content_length, why);
    if (rc != 0)
        return rc;
    if (req->minor == 0 && http_header_get(h, "Transfer-Encoding", &n) != NULL) {
        *why = "Transfer-Encoding in an HTTP/1.0 request";
        return 400;
    }
    req->keep_alive = !close && (req->minor >= 1 || keep);
    return 0;
}

int http_parse_request(const char *head, size_t len, struct http_request *req, const char **why)
{
    const char *line;
    size_t n, pos = 0;
    int rc;

    memset(req, 0, sizeof *req);
    if (!next_line(head, len, &pos, &line, &n)) {
        *why = "an empty request";
        return 400;
    }
    rc = parse_request_line(line, n, req, why);
    if (rc == 0)
        rc = parse_fields(head, len, pos, &req->headers, why);
    if (rc == 0)
        rc = read_request_fields(req, why);
    return rc;
}

/* ---- responses ------------------------------------------------------------------------- */

/* "HTTP/1.1 404 Not Found" (the reason may be empty, even without its space). */
static int parse_status_line(const char *line, size_t n, struct http_response *resp)
{
    resp->status_line = line;
    resp->status_line_len = n;
    if (n < 12 || parse_version(line, 8, &resp->minor) != 0 || line[8] != ' ' ||
        !is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11]) ||
        (n > 12 && line[12] != ' '))
        return -1;
    resp->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (resp->status < 100 || resp->status > 599)
        return -1;
    resp->reason = line + (n > 12 ? 13 : 12);
    resp->reason_len = n > 12 ? n - 13 : 0;
    for (size_t i = 0; i < resp->reason_len; i++)
        if (!is_field_char((unsigned char)resp->reason[i]))
            return -1;
    return 0;
}

int http_parse_response(const char *head, size_t len, struct http_response *resp, const char **why)
{
    const char *line;
    size_t n, pos = 0;

    memset(resp, 0, sizeof *resp);
    if (!next_line(head, len, &pos, &line, &n) || parse_status_line(line, n, resp) < 0) {
        *why = "malformed status line";
        return -1;
    }
    if (parse_fields(head, len, pos, &resp->headers, why) != 0)
        return -1;
    return 0;
}

int http_response_framing(const struct http_response *resp, bool head_request,
                          enum http_framing *framing, uint64_t *length, const char **why)
{
    size_t n;

    if (framing_of(&resp->headers, framing, length, why) != 0)
        return -1;
    if (head_request || resp->status < 200 || resp->status == 204 || resp->status == 304) {
        *framing = HTTP_BODY_NONE; /* whatever the headers say: no body follows */
        return 0;
    }
    /* No Content-Length (or 0), no chunked: a response runs until the server closes. */
    if (*framing == HTTP_BODY_NONE && http_header_get(&resp->headers, "Content-Length", &n) == NULL)
        *framing = HTTP_BODY_CLOSE;
    return 0;
}
