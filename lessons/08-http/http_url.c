/* http_url.c - URLs for the client, request targets for the server. No I/O. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http_url.h"

/* ---- the client's URLs ----------------------------------------------------------------- */

/* May this byte appear in a URL we send? Visible ASCII only: a space or a control
 * character would change the request line's meaning. */
static bool is_url_char(unsigned char c)
{
    return c > ' ' && c < 0x7f;
}

/* Copy [s, s+n) into out (size cap) as a C string. Returns -1 when it does not fit. */
static int copy_part(char *out, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

/* "80", "8080": 1 to 65535, digits only. */
static bool valid_port(const char *s, size_t n)
{
    unsigned long v = 0;

    if (n == 0 || n > 5)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

/* The authority "host", "host:port", "[v6]", "[v6]:port" into url. Returns 0 or -1. */
static int parse_authority(const char *s, size_t n, struct http_url *url, const char **why)
{
    const char *host = s, *port = NULL;
    size_t host_len = n;

    *why = "bad host or port in the URL";
    if (memchr(s, '@', n) != NULL) {
        *why = "user names in URLs are not supported";
        return -1;
    }
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (close == NULL)
            return -1;
        host = s + 1;
        host_len = (size_t)(close - host);
        if (close + 1 < s + n) {
            if (close[1] != ':')
                return -1;
            port = close + 2;
        }
        for (size_t i = 0; i < host_len; i++) /* hex digits, ':' and '.' only */
            if (strchr("0123456789abcdefABCDEF:.", host[i]) == NULL || host[i] == '\0')
                return -1;
    } else {
        const char *colon = memchr(s, ':', n);
        if (colon != NULL) {
            host_len = (size_t)(colon - s);
            port = colon + 1;
        }
    }
    if (host_len == 0 || copy_part(url->host, sizeof url->host, host, host_len) < 0)
        return -1;
    if (port == NULL) {
        strcpy(url->port, "80");
        return 0;
    }
    if (!valid_port(port, (size_t)(s + n - port)))
        return -1;
    return copy_part(url->port, sizeof url->port, port, (size_t)(s + n - port));
}

/* The length of the part of s before a '#' (the fragment is the client's own business). */
static size_t without_fragment(const char *s, size_t n)
{
    const char *hash = memchr(s, '#', n);

    return hash != NULL ? (size_t)(hash - s) : n;
}

static enum http_url_result set_target(struct http_url *out, const char *dir, size_t dir_len,
                                       const char *rel, size_t rel_len, const char *query,
                                       size_t query_len, const char **why);

/* "http://..." of length n into url. */
static enum http_url_result parse_url(const char *text, size_t n, struct http_url *url,
                                      const char **why)
{
    const char *auth, *end = text + n, *slash, *query;
    size_t tail, path_len;

    memset(url, 0, sizeof *url);
    if (n >= 8 && strncasecmp(text, "https://", 8) == 0) {
        *why = "https:// is not spoken here: this lesson speaks plain HTTP";
        return HTTP_URL_HTTPS;
    }
    if (n < 7 || strncasecmp(text, "http://", 7) != 0) {
        *why = "not an http:// URL";
        return HTTP_URL_BAD;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_url_char((unsigned char)text[i])) {
            *why = "a space or a control character in the URL";
            return HTTP_URL_BAD;
        }
    }
    auth = text + 7;
    n = 7 + without_fragment(auth, (size_t)(end - auth));
    end = text + n;
    slash = auth;
    while (slash < end && *slash != '/' && *slash != '?')
        slash++;
    if (parse_authority(auth, (size_t)(slash - auth), url, why) < 0)
        return HTTP_URL_BAD;
    tail = (size_t)(end - slash);
    query = memchr(slash, '?', tail);
    path_len = query != NULL ? (size_t)(query - slash) : tail;
    /* "http://h" asks for "/", "http://h?q" for "/?q"; "/a/../b" for "/b", as RFC 3986
     * resolves it (and as the server would). */
    if (set_target(url, "", 0, slash, path_len, slash + path_len, tail - path_len, why) ==
        HTTP_URL_OK)
        return HTTP_URL_OK;
    *why = "URL too long";
    return HTTP_URL_BAD;
}

enum http_url_result http_url_parse(const char *text, struct http_url *url, const char **why)
{
    return parse_url(text, strlen(text), url, why);
}

/* Remove the dot segments of an absolute path in place (RFC 3986, 5.2.4): "/a/./b/../c"
 * becomes "/a/c"; a ".." at the root stays at the root, as the RFC says for URLs. */
static void remove_dot_segments(char *path)
{
    char out[HTTP_TARGET_MAX + 1];
    size_t o = 0;
    const char *p = path;

    while (*p != '\0') {
        const char *seg = p + 1, *next = strchr(seg, '/');
        size_t n = next != NULL ? (size_t)(next - seg) : strlen(seg);
        if (n == 1 && seg[0] == '.') {
            if (next == NULL)
                out[o++] = '/';
        } else if (n == 2 && seg[0] == '.' && seg[1] == '.') {
            while (o > 0 && out[--o] != '/')
                ;
            if (next == NULL)
                out[o++] = '/';
        } else {
            out[o++] = '/';
            memcpy(out + o, seg, n);
            o += n;
        }
        p = seg + n;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    memcpy(path, out, o + 1);
}

/* out->target = the path [dir, dir+dir_len) + [rel, rel+rel_len), its dot segments
 * removed, then the query [query, query+query_len) (with its '?'). */
static enum http_url_result set_target(struct http_url *out, const char *dir, size_t dir_len,
                                       const char *rel, size_t rel_len, const char *query,
                                       size_t query_len, const char **why)
{
    char path[HTTP_TARGET_MAX + 1];
    size_t n;

    if (dir_len + rel_len >= sizeof path) {
        *why = "redirect URL too long";
        return HTTP_URL_BAD;
    }
    memcpy(path, dir, dir_len);
    memcpy(path + dir_len, rel, rel_len);
    path[dir_len + rel_len] = '\0';
    remove_dot_segments(path);
    n = strlen(path);
    if (n + query_len >= sizeof out->target) {
        *why = "redirect URL too long";
        return HTTP_URL_BAD;
    }
    memcpy(out->target, path, n);
    if (query_len > 0) /* (query may be NULL when there is none) */
        memcpy(out->target + n, query, query_len);
    out->target[n + query_len] = '\0';
    return HTTP_URL_OK;
}

enum http_url_result http_url_resolve(const struct http_url *base, const char *ref, size_t len,
                                      struct http_url *out, const char **why)
{
    char text[HTTP_TARGET_MAX + HTTP_HOST_MAX + 32];
    size_t n = without_fragment(ref, len);
    const char *colon = memchr(ref, ':', n), *query = memchr(ref, '?', n);
    size_t path_len = query != NULL ? (size_t)(query - ref) : n;
    size_t query_len = n - path_len;
    size_t base_path_len = strcspn(base->target, "?"), dir_len = base_path_len;

    for (size_t i = 0; i < n; i++) {
        if (!is_url_char((unsigned char)ref[i])) {
            *why = "a space or a control character in the redirect URL";
            return HTTP_URL_BAD;
        }
    }
    if (n + 6 > sizeof text) {
        *why = "redirect URL too long";
        return HTTP_URL_BAD;
    }
    /* "http://host/x": a scheme before any '/' or '?'. */
    if (colon != NULL && memchr(ref, '/', (size_t)(colon - ref)) == NULL &&
        (query == NULL || query > colon))
        return parse_url(ref, n, out, why);
    if (n >= 2 && ref[0] == '/' && ref[1] == '/') { /* "//host/x": the same scheme */
        snprintf(text, sizeof text, "http:%.*s", (int)n, ref);
        return parse_url(text, strlen(text), out, why);
    }
    *out = *base;
    if (path_len > 0 && ref[0] == '/') /* "/x": this server, this path */
        return set_target(out, "", 0, ref, path_len, query, query_len, why);
    if (path_len == 0) { /* "?q": this path, this query; "": this very URL */
        if (query_len == 0)
            return HTTP_URL_OK;
        return set_target(out, base->target, base_path_len, "", 0, query, query_len, why);
    }
    while (dir_len > 0 && base->target[dir_len - 1] != '/') /* "x", "../x": beside it */
        dir_len--;
    return set_target(out, base->target, dir_len, ref, path_len, query, query_len, why);
}

void http_url_host_header(const struct http_url *url, char *out, size_t outlen)
{
    bool v6 = strchr(url->host, ':') != NULL;

    snprintf(out, outlen, "%s%s%s%s%s", v6 ? "[" : "", url->host, v6 ? "]" : "",
             strcmp(url->port, "80") != 0 ? ":" : "",
             strcmp(url->port, "80") != 0 ? url->port : "");
}

void http_url_format(const struct http_url *url, char *out, size_t outlen)
{
    char host[HTTP_HOST_MAX + 16];

    http_url_host_header(url, host, sizeof host);
    snprintf(out, outlen, "http://%s%s", host, url->target);
}

/* ---- the server's paths ---------------------------------------------------------------- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode [s, s+n) once into out (which holds n + 1 bytes at least). Returns the
 * decoded length, or -1 with *why. "%252e" becomes "%2e", never ".": decoding twice is
 * how double-encoded attacks get through. */
static long percent_decode(const char *s, size_t n, char *out, const char **why)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < n ? hex_digit(s[i + 1]) : -1;
            int lo = i + 2 < n ? hex_digit(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *why = "a bad %-escape in the path";
                return -1;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || c == '\\') {
            *why = c == '\0' ? "a NUL byte in the path" : "a backslash in the path";
            return -1;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return (long)o;
}

int http_target_path(const char *target, size_t len, char *out, bool *dir, const char **why)
{
    char decoded[HTTP_TARGET_MAX + 1];
    const char *query;
    size_t o = 0, n;
    long dn;

    /* "http://host/path" (absolute-form, RFC 9112 3.2.2): the path is what counts. */
    if (len >= 7 && strncasecmp(target, "http://", 7) == 0) {
        const char *slash = memchr(target + 7, '/', len - 7);
        size_t skip = slash != NULL ? (size_t)(slash - target) : len;
        target += skip;
        len -= skip;
        if (len == 0) {
            target = "/";
            len = 1;
        }
    }
    if (len == 0 || target[0] != '/') {
        *why = "a request target that is not a path";
        return 400;
    }
    query = memchr(target, '?', len);
    n = query != NULL ? (size_t)(query - target) : len;
    if (n > HTTP_TARGET_MAX) {
        *why = "a path too long";
        return 400;
    }
    dn = percent_decode(target, n, decoded, why);
    if (dn < 0)
        return 400;
    *dir = dn > 0 && decoded[dn - 1] == '/';
    /* Split at '/' (also the decoded ones: "..%2f" is "../"), resolve "." and "..". */
    for (size_t i = 0, len_d = (size_t)dn; i < len_d;) {
        const char *slash = memchr(decoded + i, '/', len_d - i);
        size_t seg_len = slash != NULL ? (size_t)(slash - (decoded + i)) : len_d - i;
        const char *seg = decoded + i;
        if (seg_len == 2 && seg[0] == '.' && seg[1] == '.') {
            if (o == 0) {
                *why = "a path that climbs above the root";
                return 400;
            }
            while (o > 0 && out[--o] != '/')
                ;
        } else if (seg_len > 0 && !(seg_len == 1 && seg[0] == '.')) {
            if (o > 0)
                out[o++] = '/';
            memcpy(out + o, seg, seg_len);
            o += seg_len;
        }
        i += seg_len + 1; /* past the '/' */
    }
    out[o] = '\0';
    return 0;
}
