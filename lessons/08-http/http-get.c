/* http-get - fetch one URL over HTTP/1.1: what Java's URL and URLConnection do.
 *
 *     URL url = new URL(args[0]);                        http_url_parse()
 *     HttpURLConnection c = url.openConnection();        net_connect(): every address
 *     c.getResponseCode(), c.getHeaderField("X")         http_parse_response(), the table
 *     c.getInputStream().transferTo(System.out)          http_body: length, chunked, close
 *
 * One request per connection ("Connection: close"): the simplest client that is right. The
 * response's bytes go through the same pure parsers as the server's requests; this file
 * only moves bytes and decides what to say.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "diag.h"
#include "http_body.h"
#include "http_message.h"
#include "http_text.h"
#include "http_url.h"
#include "io.h"
#include "net.h"

#define USAGE "[-i] [-I] [-L] [--timeout SECS] [-o FILE] URL"

enum {
    MAX_REDIRECTS = 10,
    DEFAULT_TIMEOUT = 30,
    MAX_TIMEOUT = 86400,
    LINE_MAX_LEN = 8192,    /* a status line or a header line, longer: an error */
    HEADER_MAX = 64 * 1024, /* the header lines together */
    /* The buffer holds a whole head, then serves for the body's bytes. */
    BUF_CAP = LINE_MAX_LEN + 2 + HEADER_MAX + 2 + 1024,
};

static const struct http_limits response_limits = {
    .start_line = LINE_MAX_LEN,
    .field_line = LINE_MAX_LEN,
    .header_size = HEADER_MAX,
};

struct options {
    bool include_head; /* -i: the status line and headers, then the body */
    bool head_request; /* -I: HEAD, and only the head is printed */
    bool follow;       /* -L: follow redirects */
    int timeout_secs;
    const char *out_path; /* -o FILE, or NULL: stdout */
};

/* One exchange: the URL asked for, the connection, the bytes received. */
struct fetch {
    struct http_url url;
    int fd;
    int file; /* -o FILE, open, or -1 */
    char buf[BUF_CAP];
    size_t len;  /* bytes in buf */
    size_t head; /* the head's length, once it is whole */
    struct http_response resp;
    bool eof;
};

static struct fetch fetch = {.fd = -1, .file = -1}; /* 80 KiB: better static than on the stack */

static void close_connection(void)
{
    if (fetch.fd >= 0)
        close(fetch.fd);
    fetch.fd = -1;
}

/* Run by exit(), so also by die(): a failure leaves no descriptor open either. */
static void close_all(void)
{
    close_connection();
    if (fetch.file >= 0)
        close(fetch.file);
    fetch.file = -1;
}

/* ---- messages -------------------------------------------------------------------------- */

/* die() with "HOST port PORT: " before the message: every failure names the server. */
static _Noreturn void fail(const struct http_url *url, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static _Noreturn void fail(const struct http_url *url, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    die("%s port %s: %s", url->host, url->port, msg);
}

/* ---- the command line ---------------------------------------------------------------------- */

static void print_help(void)
{
    diag_print_usage(USAGE);
    printf("Fetch URL (http://HOST[:PORT]/PATH) and write the body to stdout.\n"
           "  -i              print the status line and the headers first\n"
           "  -I              ask with HEAD: print the status line and the headers only\n"
           "  -L              follow redirects (at most %d)\n"
           "  --timeout SECS  fail when the server sends nothing for SECS (default %d)\n"
           "  -o FILE         write the body to FILE instead of stdout\n"
           "Exit status: 0 for 2xx (and 3xx without -L), 1 for 4xx, 5xx and any error.\n",
           MAX_REDIRECTS, DEFAULT_TIMEOUT);
}

static const char *parse_args(int argc, char **argv, struct options *opt)
{
    static const struct option longopts[] = {
        {"include", no_argument, NULL, 'i'},
        {"head", no_argument, NULL, 'I'},
        {"location", no_argument, NULL, 'L'},
        {"timeout", required_argument, NULL, 't'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    *opt = (struct options){.timeout_secs = DEFAULT_TIMEOUT};
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":iILo:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
            opt->include_head = true;
            break;
        case 'I':
            opt->head_request = true;
            break;
        case 'L':
            opt->follow = true;
            break;
        case 't':
            opt->timeout_secs = (int)args_count("--timeout", optarg, 1, MAX_TIMEOUT, USAGE);
            break;
        case 'o':
            opt->out_path = optarg;
            break;
        case 'h':
            print_help();
            exit(EXIT_SUCCESS);
        default:
            die_bad_option(USAGE, c, argv, longopts);
        }
    }
    args_need(argc, argv, "URL", USAGE);
    return argv[optind];
}

/* ---- the exchange ---------------------------------------------------------------------------- */

/* Connect to the URL's server (every address its name has, in order) and send the request. */
static void send_request(struct fetch *f, const struct options *opt)
{
    char host[HTTP_HOST_MAX + 16], request[HTTP_TARGET_MAX + 512], err[NET_ERR_LEN];
    int n;

    f->fd = net_connect(f->url.host, f->url.port, err, sizeof err);
    if (f->fd < 0)
        die("%s", err);
    http_url_host_header(&f->url, host, sizeof host);
    n = snprintf(request, sizeof request,
                 "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: http-get/1.0\r\nAccept: */*\r\n"
                 "Connection: close\r\n\r\n",
                 opt->head_request ? "HEAD" : "GET", f->url.target, host);
    if (io_write_all(f->fd, request, (size_t)n) < 0)
        fail(&f->url, "cannot send the request: %s", strerror(errno));
}

/* Wait (--timeout) and read more bytes into the buffer. Returns the count, 0 at EOF. */
static size_t read_more(struct fetch *f, const struct options *opt)
{
    struct pollfd pfd = {.fd = f->fd, .events = POLLIN};
    ssize_t n;
    int ready;

    do
        ready = poll(&pfd, 1, opt->timeout_secs * 1000);
    while (ready < 0 && errno == EINTR);
    if (ready == 0)
        fail(&f->url, "nothing received for %d s", opt->timeout_secs);
    do
        n = ready < 0 ? -1 : read(f->fd, f->buf + f->len, sizeof f->buf - f->len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        fail(&f->url, "cannot read the response: %s", strerror(errno));
    f->len += (size_t)n;
    f->eof = n == 0;
    return (size_t)n;
}

/* Read until a whole head is in the buffer and parse it; skip 1xx heads (100 Continue,
 * 103 Early Hints: a final answer follows them). */
static void read_head(struct fetch *f, const struct options *opt)
{
    char shown[128];
    const char *why;

    for (;;) {
        struct http_scan scan = {0};
        enum http_scan_result r;
        while ((r = http_head_scan(&scan, f->buf, f->len, &response_limits, &f->head)) ==
               HTTP_SCAN_MORE) {
            if (f->len == sizeof f->buf || read_more(f, opt) == 0)
                fail(&f->url, f->len == 0 ? "connection closed before any response"
                                          : "connection closed in the response head");
        }
        if (r == HTTP_SCAN_START_TOO_LONG)
            fail(&f->url, "status line longer than %d bytes", LINE_MAX_LEN);
        if (r == HTTP_SCAN_FIELD_TOO_LONG)
            fail(&f->url, "header line longer than %d bytes", LINE_MAX_LEN);
        if (r == HTTP_SCAN_HEADER_TOO_LONG)
            fail(&f->url, "header lines longer than %d bytes in all", HEADER_MAX);
        if (r != HTTP_SCAN_EMPTY_START &&
            http_parse_response(f->buf, f->head, &f->resp, &why) == 0) {
            if (f->resp.status >= 200)
                return;
            if (f->resp.status == 101)
                fail(&f->url, "101 Switching Protocols: nobody asked to switch");
            f->len -= f->head; /* a 1xx: drop it, the real answer comes next */
            memmove(f->buf, f->buf + f->head, f->len);
            continue;
        }
        if (r == HTTP_SCAN_EMPTY_START || strcmp(why, "malformed status line") == 0)
            fail(&f->url, "malformed status line: \"%s\"",
                 http_printable(f->buf,
                                strcspn(f->buf, "\r\n") < f->len ? strcspn(f->buf, "\r\n") : f->len,
                                60, shown, sizeof shown));
        fail(&f->url, "bad response head: %s", why);
    }
}

/* Write to the output (stdout, or -o FILE). */
static void put(int out, const char *what, const char *data, size_t len)
{
    if (len > 0 && io_write_all(out, data, len) < 0)
        die("cannot write to %s: %s", what, strerror(errno));
}

/* The body, however it is delimited, to out: first the bytes that came with the head,
 * then what the connection brings, until the framing says it is complete. */
static void copy_body(struct fetch *f, const struct options *opt, int out, const char *what)
{
    struct http_body body;
    enum http_framing framing;
    uint64_t length;
    const char *why;
    size_t at = f->head;

    if (http_response_framing(&f->resp, opt->head_request, &framing, &length, &why) < 0)
        fail(&f->url, "%s", why);
    http_body_init(&body, framing, length);
    for (;;) {
        while (at < f->len && !body.done) {
            const char *data;
            size_t used, n;
            if (http_body_feed(&body, f->buf + at, f->len - at, &used, &data, &n) < 0)
                fail(&f->url, "%s", body.error);
            put(out, what, data, n);
            at += used;
        }
        if (body.done)
            return;
        f->len = at = 0; /* all of it used: read the next bytes at the start */
        if (read_more(f, opt) == 0) {
            if (http_body_eof(&body) < 0)
                fail(&f->url, "%s", body.error);
            return;
        }
    }
}

/* Is this answer a redirect that -L follows? Sets *location and *len. */
static bool is_redirect(const struct fetch *f, const char **location, size_t *len)
{
    int s = f->resp.status;

    if (s != 301 && s != 302 && s != 303 && s != 307 && s != 308)
        return false;
    *location = http_header_get(&f->resp.headers, "Location", len);
    return *location != NULL;
}

/* Follow the redirect's Location, relative or absolute, from the current URL. */
static void follow(struct fetch *f, const char *location, size_t len, int hops)
{
    struct http_url next;
    const char *why;
    char shown[256];

    if (hops > MAX_REDIRECTS)
        fail(&f->url, "more than %d redirects", MAX_REDIRECTS);
    switch (http_url_resolve(&f->url, location, len, &next, &why)) {
    case HTTP_URL_OK:
        f->url = next;
        return;
    case HTTP_URL_HTTPS:
        fail(&f->url, "redirected to %s: this lesson speaks plain HTTP only",
             http_printable(location, len, 120, shown, sizeof shown));
    case HTTP_URL_BAD:
        break;
    }
    fail(&f->url, "bad redirect \"%s\": %s",
         http_printable(location, len, 120, shown, sizeof shown), why);
}

int main(int argc, char **argv)
{
    struct options opt;
    struct fetch *f = &fetch;
    const char *text, *why, *location;
    char shown[128];
    size_t location_len;
    int out = STDOUT_FILENO, status;

    diag_set_progname(argv[0]);
    if (atexit(close_all) != 0)
        die("atexit:");
    text = parse_args(argc, argv, &opt);
    switch (http_url_parse(text, &f->url, &why)) {
    case HTTP_URL_OK:
        break;
    case HTTP_URL_HTTPS:
        die("%s: this lesson speaks plain HTTP only (http://)", text);
    case HTTP_URL_BAD:
        die_bad_usage(USAGE, "%s: %s", why, text);
    }
    for (int hops = 1;; hops++) {
        f->len = f->head = 0;
        send_request(f, &opt);
        read_head(f, &opt);
        if (opt.include_head || opt.head_request)
            put(STDOUT_FILENO, "stdout", f->buf, f->head);
        if (!opt.follow || !is_redirect(f, &location, &location_len))
            break;
        close_connection(); /* the rest of this answer is not wanted */
        follow(f, location, location_len, hops);
    }
    if (opt.out_path != NULL) {
        out = f->file = open(opt.out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0)
            die("cannot open %s:", opt.out_path);
    }
    /* The head's bytes make way for the body's: keep what the verdict needs. */
    status = f->resp.status;
    http_printable(f->resp.reason, f->resp.reason_len, 100, shown, sizeof shown);
    copy_body(f, &opt, out, opt.out_path != NULL ? opt.out_path : "stdout");
    close_connection();
    if (f->file >= 0) {
        f->file = -1;
        if (close(out) < 0) /* a full disk may say so only now */
            die("cannot write to %s:", opt.out_path);
    }
    if (status >= 400)
        fail(&f->url, "HTTP %d %s", status, shown);
    return EXIT_SUCCESS;
}
