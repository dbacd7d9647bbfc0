/* http_url.h - URLs for the client, request targets for the server. No I/O.
 *
 * The client's side is what Java's `new URL("http://host:8080/path?q")` does: split a URL
 * into host, port and the target to ask for, and resolve a redirect's Location against
 * the URL it came from. The server's side turns a request target into a path under its
 * root: percent-decoded once, its dot segments removed, refused if it would climb out.
 */
#ifndef HTTP_URL_H
#define HTTP_URL_H

#include <stdbool.h>
#include <stddef.h>

enum { HTTP_HOST_MAX = 255, HTTP_TARGET_MAX = 8192 };

struct http_url {
    char host[HTTP_HOST_MAX + 1];     /* a name, an IPv4 address, or an IPv6 one without [] */
    char port[6];                     /* "80" when the URL gives none */
    char target[HTTP_TARGET_MAX + 1]; /* path and query: "/", "/a/b?x=1" */
};

enum http_url_result { HTTP_URL_OK, HTTP_URL_HTTPS, HTTP_URL_BAD };

/* http_url_parse - read "http://HOST[:PORT][/PATH][?QUERY][#FRAGMENT]" (HOST may be an
 * IPv6 literal in brackets; the fragment is dropped: it never goes to the server). Returns
 * HTTP_URL_OK; HTTP_URL_HTTPS for an https:// URL; or HTTP_URL_BAD with *why. */
enum http_url_result http_url_parse(const char *text, struct http_url *url, const char **why);

/* http_url_resolve - the URL a Location value names, relative to base (RFC 3986, 5.2):
 * "http://other/x", "//other/x", "/x", "x", "../x", "?q". Same results as parse. */
enum http_url_result http_url_resolve(const struct http_url *base, const char *ref, size_t len,
                                      struct http_url *out, const char **why);

/* http_url_host_header - the Host header's value: "example.com", "127.0.0.1:8080",
 * "[::1]:8080" (the port only when it is not 80). */
void http_url_host_header(const struct http_url *url, char *out, size_t outlen);

/* http_url_format - the URL as text, "http://[::1]:8080/x", for messages. */
void http_url_format(const struct http_url *url, char *out, size_t outlen);

/* http_target_path - the file a request target names, relative to the server's root:
 * "/a/%62.html?x" gives "a/b.html", "/" gives "". The path (the query dropped) is
 * percent-decoded exactly once, then split at '/', "." and ".." resolved, empty segments
 * dropped. *dir is set when the target's path ends with '/'. Returns 0, or 400 with *why:
 * a bad %-escape, a decoded NUL or backslash, a ".." that would climb above the root, a
 * target that is not a path. out must hold HTTP_TARGET_MAX + 1 bytes. */
int http_target_path(const char *target, size_t len, char *out, bool *dir, const char **why);

#endif
