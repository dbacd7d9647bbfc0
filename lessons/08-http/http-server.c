/* http-server - a static file server, a third handler on lesson 06's event loop.
 *
 * The loop (event_loop.c, unchanged in spirit, compiled here from lesson 06) owns the
 * sockets; this file only says what to do with bytes. A connection's state is the bytes
 * of requests not yet answered, and the file being sent. Requests are answered one at a
 * time, in order (pipelining): the next request is not even looked at while a file is
 * still going out, and the loop stops reading from that client meanwhile (input_room), so
 * a client costs at most one input buffer, one output buffer and one open file.
 *
 * What may arrive is anything: every limit of RFC 9112 is enforced before a byte is kept
 * (http_message.c), every path is cleaned before the file system sees it (http_url.c), and
 * the file system itself is asked never to leave the root (http_files.c).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "diag.h"
#include "event_loop.h"
#include "event_server.h"
#include "http_body.h"
#include "http_files.h"
#include "http_message.h"
#include "http_text.h"
#include "http_url.h"

static const char usage[] = "[-b ADDR] [-d ROOT] [--header-timeout SECS] [--idle-timeout SECS] "
                            "[--max-clients N] [--no-sendfile] [--once] [-q] PORT";

enum {
    REQUEST_LINE_MAX = 8192, /* longer: 414 */
    HEADER_MAX = 16384,      /* header lines together, longer: 431 */
    /* Room for the longest head the limits allow (8192 + 2 + 16384 + 2), and more. */
    IN_CAP = 32 * 1024,
    SMALL_FILE_MAX = 16 * 1024, /* sent with its head, in one send() */
    HEAD_MAX = 1024,            /* our response heads are far shorter */
    PAGE_MAX = 1024,            /* our error pages too */
    /* The output buffer must have this much room before a request is answered. */
    ANSWER_ROOM = HEAD_MAX + SMALL_FILE_MAX,
    COPY_CHUNK = 64 * 1024, /* --no-sendfile: bytes read and sent at a time */
};

/* An error answer (its head, a Location of up to a whole target, its page) always fits. */
_Static_assert(HEAD_MAX + HTTP_TARGET_MAX + PAGE_MAX <= ANSWER_ROOM, "ANSWER_ROOM too small");

enum { BODY_MAX = 1024 * 1024 }; /* a request body up to this is read and dropped; more: 413 */

enum { DEFAULT_IDLE_TIMEOUT = 60, DEFAULT_HEADER_TIMEOUT = 10, MAX_TIMEOUT = 86400 };

/* The server's settings: one server per process, read by every handler. */
static struct {
    int root_fd;
    unsigned header_timeout_ms;
    bool sendfile;
    bool quiet;
} config;

static const struct http_limits request_limits = {
    .start_line = REQUEST_LINE_MAX,
    .field_line = HEADER_MAX,
    .header_size = HEADER_MAX,
};

/* What one connection needs between events. */
struct http_conn {
    char *in;               /* IN_CAP bytes while requests are pending, else NULL */
    size_t start, end;      /* the pending bytes: in[start..end) */
    struct http_scan scan;  /* where the search for the end of the head has got to */
    bool timer_set;         /* the head has begun and --header-timeout runs */
    bool closing;           /* the last answer is out: read and answer nothing more */
    bool waiting_room;      /* a request waits for room in the output buffer */
    bool keep_alive_10;     /* the request is HTTP/1.0 and asked to keep the connection */
    struct http_body *body; /* a request body being read and dropped, or NULL */
    /* the file being sent */
    bool sending;
    int fd;
    off_t offset, end_offset;
};

/* ---- the input buffer ------------------------------------------------------------- */

static size_t pending(const struct http_conn *st)
{
    return st->end - st->start;
}

static void consume(struct http_conn *st, size_t n)
{
    st->start += n;
    if (st->start == st->end) { /* all answered: an idle connection keeps no buffer */
        free(st->in);
        st->in = NULL;
        st->start = st->end = 0;
    }
}

/* ---- the date, once a second ------------------------------------------------------- */

static const char *date_now(void)
{
    static char date[HTTP_DATE_LEN];
    static time_t last = -1;
    time_t now = time(NULL);

    if (now != last) {
        http_date(now, date);
        last = now;
    }
    return date;
}

/* ---- the access log ------------------------------------------------------------------ */

/* 127.0.0.1:54321 "GET /index.html HTTP/1.1" 200 1234 (the body's bytes). The request
 * line is shown as far as it came, every odd byte escaped: a log is read by people and
 * programs that a request line with a newline in it would fool. */
static void log_access(struct ev_conn *conn, const char *line, size_t len, int status,
                       uint64_t bytes)
{
    char shown[700];

    if (config.quiet)
        return;
    if (line == NULL)
        snprintf(shown, sizeof shown, "-");
    else
        http_printable(line, len, 160, shown, sizeof shown);
    fprintf(stderr, "%s \"%s\" %d %" PRIu64 "\n", ev_peer(conn), shown, status, bytes);
}

/* The request line as far as it came, for the log: the start of the pending bytes. */
static const char *request_line(const struct http_conn *st, size_t *len)
{
    const char *p;
    size_t n = st->scan.start_line_end;

    if (pending(st) == 0)
        return NULL;
    p = st->in + st->start;
    if (n == 0) { /* it has not ended: show what there is of it */
        const char *lf = memchr(p, '\n', pending(st));
        n = lf != NULL ? (size_t)(lf - p) : pending(st);
        if (n == 0)
            return NULL;
    }
    while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
        n--;
    *len = n;
    return p;
}

/* ---- answers --------------------------------------------------------------------------- */

/* Send an error page (with extra header lines, "Allow: ...\r\n"), logged. With close, the
 * connection ends once it is sent: after a malformed request nothing that follows can be
 * trusted to be the start of the next one. Returns 0 or -1. */
static int send_error(struct ev_conn *conn, int status, const char *why, const char *extra,
                      bool head_only, bool close, const char *line, size_t line_len)
{
    struct http_conn *st = ev_state(conn);
    char page[PAGE_MAX], out[HEAD_MAX + HTTP_TARGET_MAX + PAGE_MAX]; /* Location: the target */
    size_t page_len = http_error_page(status, why, page, sizeof page);
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: text/html; charset=utf-8\r\n"
                     "Content-Length: %zu\r\n%s%s\r\n",
                     status, http_reason(status), date_now(), page_len, extra,
                     close               ? "Connection: close\r\n"
                     : st->keep_alive_10 ? "Connection: keep-alive\r\n" /* as format_head */
                                         : "");

    if (n < 0 || (size_t)n >= sizeof out - page_len)
        return -1;
    if (!head_only) {
        memcpy(out + n, page, page_len);
        n += (int)page_len;
    }
    log_access(conn, line, line_len, status, head_only ? 0 : page_len);
    if (close) {
        st->closing = true;
        ev_close_when_flushed(conn);
    }
    return ev_send(conn, out, (size_t)n);
}

/* The head of a 200 answer into out. Returns its length, or -1. */
static int format_head(char *out, size_t outlen, const struct http_file *file,
                       const struct http_request *req)
{
    char modified[HTTP_DATE_LEN];
    const char *connection = "";

    if (!req->keep_alive)
        connection = "Connection: close\r\n";
    else if (req->minor == 0)
        connection = "Connection: keep-alive\r\n"; /* HTTP/1.0 asked for it: say yes */
    http_date(file->st.st_mtime, modified);
    int n = snprintf(out, outlen,
                     "HTTP/1.1 200 OK\r\nDate: %s\r\nContent-Type: %s\r\nContent-Length: %jd\r\n"
                     "Last-Modified: %s\r\n%s\r\n",
                     date_now(), http_content_type(file->name), (intmax_t)file->st.st_size,
                     modified, connection);
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

/* A small file: read it whole behind its head and send both with one call. */
static int send_small_file(struct ev_conn *conn, struct http_file *file, char *out, size_t n,
                           size_t size)
{
    size_t got = 0;

    while (got < size) {
        ssize_t r = pread(file->fd, out + n + got, size - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) { /* a read error, or the file shrank since fstat */
            diag_warn("%s: reading the file failed: %s", ev_peer(conn),
                      r < 0 ? strerror(errno) : "it shrank");
            return -1;
        }
        got += (size_t)r;
    }
    return ev_send(conn, out, n + size);
}

static int send_more_of_file(struct ev_conn *conn);

/* Answer 200 with file: its head, then its bytes (none for HEAD). Takes file->fd. */
static int send_file(struct ev_conn *conn, const struct http_request *req, struct http_file *file,
                     bool head_only, const char *line, size_t line_len)
{
    struct http_conn *st = ev_state(conn);
    char out[HEAD_MAX + SMALL_FILE_MAX];
    size_t size = (size_t)file->st.st_size;
    int n = format_head(out, HEAD_MAX, file, req);

    log_access(conn, line, line_len, 200, head_only ? 0 : (uint64_t)file->st.st_size);
    if (n < 0) {
        close(file->fd);
        return -1;
    }
    if (head_only || file->st.st_size <= SMALL_FILE_MAX) {
        int rc = head_only ? ev_send(conn, out, (size_t)n)
                           : send_small_file(conn, file, out, (size_t)n, size);
        close(file->fd);
        return rc;
    }
    /* A large file: the head now, the bytes as the client takes them (on_writable). */
    st->sending = true;
    st->fd = file->fd;
    st->offset = 0;
    st->end_offset = file->st.st_size;
    if (ev_send(conn, out, (size_t)n) < 0)
        return -1;
    ev_want_writable(conn, true);
    return send_more_of_file(conn) < 0 ? -1 : 0;
}

/* The file is out: close it, and go on with the next request, or end. */
static void file_done(struct ev_conn *conn, struct http_conn *st)
{
    close(st->fd);
    st->sending = false;
    ev_want_writable(conn, false);
}

/* Send the next piece of the file: with sendfile(), the kernel copies from the page cache
 * to the socket; without (--no-sendfile), it is read into a buffer and sent from there.
 * Returns 1 when the file is all sent, 0 while more is to come, or -1 (the connection is
 * then closed). */
static int send_more_of_file(struct ev_conn *conn)
{
    struct http_conn *st = ev_state(conn);
    size_t left = (size_t)(st->end_offset - st->offset);
    ssize_t n;

    if (config.sendfile) {
        n = ev_sendfile(conn, st->fd, &st->offset, left);
        if (n < 0 && errno == EAGAIN)
            return 0; /* the socket is full: on_writable comes when it drains */
    } else {
        static char copy[COPY_CHUNK]; /* one thread: one buffer for all */
        size_t room = ev_output_room(conn);
        size_t want = left < room ? left : room;
        if (want > sizeof copy)
            want = sizeof copy;
        do
            n = pread(st->fd, copy, want, st->offset);
        while (n < 0 && errno == EINTR);
        if (n > 0 && ev_send(conn, copy, (size_t)n) < 0)
            return -1;
        if (n > 0)
            st->offset += n;
    }
    if (n <= 0) {
        if (n == 0)
            diag_warn("%s: the file shrank while it was sent: connection closed", ev_peer(conn));
        return -1;
    }
    if (st->offset < st->end_offset)
        return 0;
    file_done(conn, st);
    return 1;
}

/* ---- one request --------------------------------------------------------------------------- */

/* A request whose head parsed: GET or HEAD of a file, or a refusal. line is the request
 * line, for the log. */
static int answer(struct ev_conn *conn, const struct http_request *req, const char *line,
                  size_t line_len)
{
    struct http_conn *st = ev_state(conn);
    const char *why;
    char path[HTTP_TARGET_MAX + 1];
    bool head = req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0;
    bool get = req->method_len == 3 && memcmp(req->method, "GET", 3) == 0;
    bool dir_slash;
    struct http_file file;
    int status;

    if (!req->keep_alive) {
        st->closing = true; /* after this answer */
        ev_close_when_flushed(conn);
    }
    if (!get && !head)
        return send_error(conn, 405, "this server only reads files: GET and HEAD",
                          "Allow: GET, HEAD\r\n", false, st->closing, line, line_len);
    status = http_target_path(req->target, req->target_len, path, &dir_slash, &why);
    if (status != 0)
        return send_error(conn, status, why, "", head, true, line, line_len);
    http_files_open(config.root_fd, path, dir_slash, &file);
    if (file.status == 301) {
        /* The same target with the '/' added: the browser resolves "style.css" in the
         * page against the directory, as it should. */
        char location[HTTP_TARGET_MAX + 32];
        const char *query = memchr(req->target, '?', req->target_len);
        size_t path_len = query != NULL ? (size_t)(query - req->target) : req->target_len;
        snprintf(location, sizeof location, "Location: %.*s/%.*s\r\n", (int)path_len, req->target,
                 (int)(req->target_len - path_len), req->target + path_len);
        return send_error(conn, 301, file.why, location, head, st->closing, line, line_len);
    }
    if (file.status != 200)
        return send_error(conn, file.status, file.why, "", head, st->closing, line, line_len);
    return send_file(conn, req, &file, head, line, line_len);
}

/* Start reading and dropping a request's body: it is never taken for a request. */
static int start_body(struct ev_conn *conn, const struct http_request *req)
{
    struct http_conn *st = ev_state(conn);

    if (req->body == HTTP_BODY_NONE)
        return 0;
    st->body = malloc(sizeof *st->body);
    if (st->body == NULL)
        return -1;
    http_body_init(st->body, req->body, req->content_length);
    return 0;
}

/* Drop what has come of the body. Returns 1 when it is all dropped, 0 for more, -1 when it
 * is malformed or over BODY_MAX (an answer was sent already: the connection just ends). */
static int drop_body(struct ev_conn *conn, struct http_conn *st)
{
    while (pending(st) > 0) {
        const char *data;
        size_t used, n;
        int rc = http_body_feed(st->body, st->in + st->start, pending(st), &used, &data, &n);
        consume(st, used);
        if (rc < 0 || st->body->received > BODY_MAX) {
            if (!config.quiet)
                diag_warn("%s: request body %s: connection closed", ev_peer(conn),
                          rc < 0 ? st->body->error : "too large");
            return -1;
        }
        if (rc == 1)
            break;
    }
    if (!st->body->done)
        return 0;
    free(st->body);
    st->body = NULL;
    return 1;
}

/* The scan says the head is too long, or malformed at its start: answer and end. */
static int refuse_head(struct ev_conn *conn, struct http_conn *st, enum http_scan_result r)
{
    size_t n = 0;
    const char *line = request_line(st, &n);

    switch (r) {
    case HTTP_SCAN_START_TOO_LONG:
        return send_error(conn, 414, "a request line longer than 8192 bytes", "", false, true, line,
                          n);
    case HTTP_SCAN_FIELD_TOO_LONG:
    case HTTP_SCAN_HEADER_TOO_LONG:
        return send_error(conn, 431, "header lines longer than 16384 bytes in all", "", false, true,
                          line, n);
    default:
        return send_error(conn, 400, "a request that starts with an empty line", "", false, true,
                          line, n);
    }
}

/* One complete head of hlen bytes at the start of the pending bytes: parse, answer. */
static int take_request(struct ev_conn *conn, struct http_conn *st, size_t hlen)
{
    struct http_request req;
    const char *why = "";
    size_t n = 0;
    const char *line = request_line(st, &n);
    int status = http_parse_request(st->in + st->start, hlen, &req, &why);

    st->keep_alive_10 = status == 0 && req.minor == 0 && req.keep_alive;
    if (status != 0)
        return send_error(conn, status, why, "", false, true, line, n);
    if (req.body == HTTP_BODY_LENGTH && req.content_length > BODY_MAX)
        return send_error(conn, 413, "a request body larger than 1 MiB", "", false, true, line, n);
    if (start_body(conn, &req) < 0 || answer(conn, &req, line, n) < 0)
        return -1;
    /* The request's bytes are no longer needed (req points into them): drop them. */
    consume(st, hlen);
    st->scan = (struct http_scan){0};
    return 0;
}

/* Answer every complete request pending, in order, while nothing stops us: a file still
 * going out, a body to drop, too little room in the output buffer. Returns 0 or -1. */
static int serve(struct ev_conn *conn)
{
    struct http_conn *st = ev_state(conn);

    while (!st->closing && !st->sending && pending(st) > 0) {
        size_t hlen = 0;
        enum http_scan_result r;
        if (st->body != NULL) {
            int rc = drop_body(conn, st);
            if (rc <= 0)
                return rc;
            continue;
        }
        if (ev_output_room(conn) < ANSWER_ROOM) {
            st->waiting_room = true; /* the client is slow to read its answers */
            ev_want_writable(conn, true);
            return 0;
        }
        r = http_head_scan(&st->scan, st->in + st->start, pending(st), &request_limits, &hlen);
        if (r == HTTP_SCAN_MORE) {
            if (!st->timer_set) { /* the head has begun: it has so long to finish */
                ev_set_timer(conn, config.header_timeout_ms);
                st->timer_set = true;
            }
            return 0;
        }
        if (st->timer_set) {
            ev_set_timer(conn, 0);
            st->timer_set = false;
        }
        if (r != HTTP_SCAN_DONE)
            return refuse_head(conn, st, r);
        if (take_request(conn, st, hlen) < 0)
            return -1;
    }
    return 0;
}

/* ---- the handlers ------------------------------------------------------------------------ */

static int http_on_open(struct ev_conn *conn)
{
    struct http_conn *st = ev_state(conn);

    st->fd = -1;
    return 0;
}

/* Bytes came: keep them after the pending ones (input_room said they fit), then answer. */
static int http_on_data(struct ev_conn *conn, const char *data, size_t len)
{
    struct http_conn *st = ev_state(conn);

    if (st->closing)
        return 0;
    if (st->in == NULL) {
        st->in = malloc(IN_CAP);
        if (st->in == NULL)
            return -1;
    }
    if (IN_CAP - st->end < len) { /* room is there, but at the front: slide down */
        memmove(st->in, st->in + st->start, pending(st));
        st->end -= st->start;
        st->start = 0;
    }
    memcpy(st->in + st->end, data, len);
    st->end += len;
    return serve(conn);
}

/* How much the loop may read for us: nothing while an answer is still going out (the
 * next request waits in the kernel, not here), else what the buffer has room for. */
static size_t http_input_room(struct ev_conn *conn)
{
    struct http_conn *st = ev_state(conn);

    if (st->closing || st->sending || st->waiting_room)
        return 0;
    return IN_CAP - pending(st);
}

/* The socket has room: more of the file, or the requests that waited for room. */
static int http_on_writable(struct ev_conn *conn)
{
    struct http_conn *st = ev_state(conn);

    if (st->sending) {
        int rc = send_more_of_file(conn);
        if (rc <= 0)
            return rc; /* failed, or more to come */
    }
    st->waiting_room = false;
    ev_want_writable(conn, false);
    return serve(conn);
}

/* --header-timeout passed with a head still incomplete: 408, and the connection ends.
 * (Tiny, CS:APP's server, has no such clock: a client that stops halfway holds it.) */
static int http_on_timer(struct ev_conn *conn)
{
    struct http_conn *st = ev_state(conn);
    size_t n = 0;
    const char *line = request_line(st, &n);

    st->timer_set = false;
    return send_error(conn, 408, "the request's head did not arrive in time", "", false, true, line,
                      n);
}

static void http_on_close(struct ev_conn *conn)
{
    struct http_conn *st = ev_state(conn);

    if (st->sending)
        close(st->fd);
    free(st->in);
    free(st->body);
}

/* Sent to a client over --max-clients before its connection is closed. */
#define BUSY_TEXT "Server busy, try again later.\n"
static const char busy_response[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                    "Content-Type: text/plain; charset=utf-8\r\n"
                                    "Content-Length: 30\r\n"
                                    "Connection: close\r\n\r\n" BUSY_TEXT;

static const struct ev_handlers http_handlers = {
    .state_size = sizeof(struct http_conn),
    .out_per_in = 1, /* unused: input_room and ev_output_room() bound both sides */
    .busy_text = busy_response,
    .on_open = http_on_open,
    .on_data = http_on_data,
    .on_close = http_on_close,
    .input_room = http_input_room,
    .on_writable = http_on_writable,
    .on_timer = http_on_timer,
};

/* ---- the command line ----------------------------------------------------------------------- */

struct options {
    const char *addr, *port, *root;
    struct ev_options loop;
};

static void print_help(void)
{
    diag_print_usage(usage);
    printf("Serve the files under ROOT (default: the current directory) over HTTP/1.1.\n"
           "  -b ADDR               listen on ADDR (default 127.0.0.1; :: for every address)\n"
           "  -d ROOT               the directory to serve\n"
           "  --header-timeout SECS a request's head must arrive within SECS (default %d), "
           "else 408\n"
           "  --idle-timeout SECS   close a connection silent for SECS (default %d; 0: never)\n"
           "  --max-clients N       serve at most N connections at once; more get 503\n"
           "  --no-sendfile         copy files through a buffer instead of sendfile()\n"
           "  --once                serve one connection, then exit\n"
           "  -q                    no access log, no connection log\n",
           DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT);
}

static void parse_args(int argc, char **argv, struct options *opt)
{
    static const struct option longopts[] = {
        {"bind", required_argument, NULL, 'b'},
        {"root", required_argument, NULL, 'd'},
        {"header-timeout", required_argument, NULL, 't'},
        {"idle-timeout", required_argument, NULL, 'i'},
        {"max-clients", required_argument, NULL, 'm'},
        {"no-sendfile", no_argument, NULL, 's'},
        {"once", no_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    *opt = (struct options){.addr = "127.0.0.1", .root = "."};
    opt->loop.idle_timeout = DEFAULT_IDLE_TIMEOUT;
    config.header_timeout_ms = DEFAULT_HEADER_TIMEOUT * 1000;
    config.sendfile = true;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":b:d:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            opt->addr = optarg;
            break;
        case 'd':
            opt->root = optarg;
            break;
        case 't':
            config.header_timeout_ms =
                (unsigned)args_count("--header-timeout", optarg, 1, MAX_TIMEOUT, usage) * 1000;
            break;
        case 'i':
            opt->loop.idle_timeout =
                (unsigned)args_count("--idle-timeout", optarg, 0, MAX_TIMEOUT, usage);
            break;
        case 'm':
            opt->loop.max_clients = args_count("--max-clients", optarg, 1, 10000000, usage);
            break;
        case 's':
            config.sendfile = false;
            break;
        case 'o':
            opt->loop.once = true;
            break;
        case 'q':
            opt->loop.quiet = config.quiet = true;
            break;
        case 'h':
            print_help();
            exit(EXIT_SUCCESS);
        default:
            die_bad_option(usage, c, argv, longopts);
        }
    }
    args_need(argc, argv, "PORT", usage);
    opt->port = args_port(argv[optind], true, usage);
}

int main(int argc, char **argv)
{
    struct options opt;
    int rc;

    diag_set_progname(argv[0]);
    parse_args(argc, argv, &opt);
    tzset(); /* the C library reads its time zone file now, not in the first answer's Date */
    config.root_fd = http_files_open_root(opt.root);
    if (config.root_fd < 0)
        die("cannot open the root directory %s:", opt.root);
    rc = event_server_run(opt.addr, opt.port, &http_handlers, &opt.loop);
    close(config.root_fd);
    return rc;
}
