/* http_text.h - the words of HTTP: status reasons, content types, dates, error pages.
 * No I/O: tables and formatting only. */
#ifndef HTTP_TEXT_H
#define HTTP_TEXT_H

#include <stddef.h>
#include <time.h>

enum { HTTP_DATE_LEN = 30 }; /* "Sun, 06 Nov 1994 08:49:37 GMT" and its NUL */

/* http_reason - the reason phrase of a status this server sends ("Not Found"). */
const char *http_reason(int status);

/* http_content_type - the Content-Type for a file name, by its extension (a small table;
 * application/octet-stream for anything else). */
const char *http_content_type(const char *name);

/* http_date - t as an HTTP date (RFC 9110, 5.6.7), always in English and in GMT. */
void http_date(time_t t, char out[HTTP_DATE_LEN]);

/* http_error_page - the small HTML body of an error response into out. Returns its
 * length (truncated to outlen - 1). */
size_t http_error_page(int status, const char *why, char *out, size_t outlen);

/* http_printable - [s, s+n) for a log line or a message: bytes outside printable ASCII
 * (and '"' and '\') as \xNN, at most max bytes of input, "..." when cut. Returns out. */
char *http_printable(const char *s, size_t n, size_t max, char *out, size_t outlen);

#endif
