/* quote-client.c - the tutorial's QuoteClient in C: one request, one quote, or one line why not.
 *
 * UDP promises nothing: a request or its reply may be lost, duplicated or late. So the
 * client waits for a reply with a timeout, sends again when none comes (waiting twice as
 * long each time), and takes only the reply that carries the tag of the request it just
 * sent: an answer to an earlier try, arriving late, is ignored. Its socket is connected:
 * the kernel then drops datagrams from anyone but the server, and hands it the ICMP "port
 * unreachable" that a host sends back when nothing listens, as ECONNREFUSED.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "clock.h"
#include "diag.h"
#include "net.h"
#include "quote_wire.h"
#include "udp.h"

#define USAGE "[--timeout MS] [--retries N] [--no-tag] [-v] HOST PORT"

enum {
    DEFAULT_TIMEOUT_MS = 500,
    MAX_TIMEOUT_MS = 60000,
    DEFAULT_RETRIES = 3,
    MAX_RETRIES = 10,
    TAG_LEN = 24,
    UNTAGGED_LEN = 256, /* the tutorial's request: 256 zero bytes */
    SHOWN_MAX = 40,     /* bytes of an ignored reply shown by -v */
};

struct options {
    const char *host, *port;
    unsigned timeout_ms; /* the first wait; each retry waits twice as long */
    unsigned retries;    /* tries after the first */
    bool untagged;       /* --no-tag: the tutorial's request, any reply taken */
    bool verbose;        /* -v: each try, each reply ignored, on stderr */
};

/* How one address answered. */
enum outcome { QUOTED, SILENT, FAILED };

/* ---- options ------------------------------------------------------------------------ */

static void print_help(void)
{
    diag_print_usage(USAGE);
    printf("Ask a quote server for a quote and print it.\n"
           "      --timeout MS  wait this long for the first reply (default %d); each retry\n"
           "                    waits twice as long as the one before\n"
           "      --retries N   tries after the first before giving up (default %d)\n"
           "      --no-tag      send the tutorial's request (256 zero bytes) and take any\n"
           "                    reply, as the tutorial's QuoteClient does\n"
           "  -v, --verbose     say on stderr what each try sent and what was ignored\n"
           "Exit status: 0 with a quote, 1 when no reply came.\n",
           DEFAULT_TIMEOUT_MS, DEFAULT_RETRIES);
}

static struct options parse_options(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"timeout", required_argument, NULL, 't'}, {"retries", required_argument, NULL, 'r'},
        {"no-tag", no_argument, NULL, 'n'},        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    struct options opt = {.timeout_ms = DEFAULT_TIMEOUT_MS, .retries = DEFAULT_RETRIES};
    int c;

    opterr = 0; /* our own message and the usage line, not getopt's message */
    while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            opt.timeout_ms = (unsigned)args_count("--timeout", optarg, 1, MAX_TIMEOUT_MS, USAGE);
            break;
        case 'r':
            opt.retries = (unsigned)args_count("--retries", optarg, 0, MAX_RETRIES, USAGE);
            break;
        case 'n':
            opt.untagged = true;
            break;
        case 'v':
            opt.verbose = true;
            break;
        case 'h':
            print_help();
            exit(0);
        default:
            die_bad_option(USAGE, c, argv, longopts);
        }
    }
    args_need(argc, argv, "HOST PORT", USAGE);
    opt.host = argv[optind];
    opt.port = args_port(argv[optind + 1], false, USAGE); /* a client needs a real port */
    return opt;
}

/* ---- time and tags ------------------------------------------------------------------- */

/* A number that differs from one run of the client to the next, so that a reply meant for
 * an earlier run is not taken for ours. Not a secret: an attacker on the path sees it. */
static uint32_t run_token(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec ^ ((uint32_t)getpid() << 16);
}

/* The first bytes of a reply, printable, for -v: at most SHOWN_MAX, others as '.'. */
static const char *shown(const char *bytes, size_t len, char *out, size_t outlen)
{
    size_t n = 0;

    for (; n < len && n < SHOWN_MAX && n + 4 < outlen; n++) {
        unsigned char c = (unsigned char)bytes[n];
        out[n] = '.';
        if (c >= 0x20 && c < 0x7f)
            out[n] = bytes[n];
    }
    snprintf(out + n, outlen - n, "%s", n < len ? "..." : "");
    return out;
}

/* ---- one try ------------------------------------------------------------------------- */

/* Wait until deadline (ms, monotonic) for the reply that matches tag; print its quote.
 * Returns QUOTED, SILENT (the time is up), or FAILED with errno set. */
static enum outcome await_reply(int fd, const char *tag, size_t tag_len, long long deadline,
                                const struct options *opt)
{
    static char reply[65536]; /* more than any UDP payload: a reply is never cut short */

    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        long long left = deadline - clock_now_ms();
        const char *quote;
        size_t quote_len;
        bool truncated;
        ssize_t n;

        if (left <= 0)
            return SILENT;
        n = poll(&pfd, 1, (int)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return FAILED;
        if (n == 0)
            return SILENT;
        n = udp_recv(fd, reply, sizeof reply, NULL, NULL, &truncated);
        if (n < 0)
            return FAILED; /* ECONNREFUSED: an ICMP port unreachable came back */
        if (!truncated && wire_match(reply, (size_t)n, tag, tag_len, &quote, &quote_len)) {
            printf("Quote of the Moment: ");
            fwrite(quote, 1, quote_len, stdout);
            putchar('\n');
            if (fflush(stdout) == EOF)
                die("stdout:");
            return QUOTED;
        }
        if (opt->verbose) {
            char what[SHOWN_MAX + 4];
            diag_warn("ignored a reply that is not for \"%.*s\": \"%s\"", (int)tag_len, tag,
                      shown(reply, (size_t)n, what, sizeof what));
        }
    }
}

/* Ask the server at ai, with retries. Returns QUOTED, SILENT after the last try, or FAILED
 * with errno set (ECONNREFUSED: nothing listens there). */
static enum outcome ask(const struct addrinfo *ai, uint32_t token, const struct options *opt)
{
    char where[NET_ENDPOINT_LEN], tag[TAG_LEN];
    static const char untagged[UNTAGGED_LEN]; /* zeros */
    unsigned wait_ms = opt->timeout_ms;
    enum outcome result = FAILED;
    int fd, saved_errno;

    net_format_addr(ai->ai_addr, where, sizeof where);
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0)
        return FAILED;
    /* connect() on UDP sends nothing: it fixes the peer, so send() needs no address, only the
     * server's datagrams are received, and ICMP errors are reported on this socket. */
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
        goto out;
    for (unsigned attempt = 1; attempt <= opt->retries + 1; attempt++, wait_ms *= 2) {
        size_t tag_len = 0;
        ssize_t sent;

        if (!opt->untagged)
            tag_len = (size_t)snprintf(tag, sizeof tag, "%08x-%u", (unsigned)token, attempt);
        if (opt->verbose)
            diag_warn("try %u of %u: sent \"%.*s\" to %s, waiting %u ms", attempt, opt->retries + 1,
                      (int)tag_len, tag, where, wait_ms);
        sent = opt->untagged ? send(fd, untagged, sizeof untagged, 0) : send(fd, tag, tag_len, 0);
        if (sent < 0)
            goto out; /* ECONNREFUSED here too, from the ICMP error of an earlier try */
        result = await_reply(fd, tag, tag_len, clock_now_ms() + wait_ms, opt);
        if (result != SILENT)
            goto out;
        if (opt->verbose)
            diag_warn("no reply in %u ms", wait_ms);
    }
out:
    saved_errno = errno;
    close(fd);
    errno = saved_errno;
    return result;
}

int main(int argc, char **argv)
{
    char err[NET_ERR_LEN];
    struct addrinfo *list, *ai;
    enum outcome result = FAILED;
    struct options opt;
    uint32_t token;
    int error = 0;

    diag_set_progname(argv[0]);
    opt = parse_options(argc, argv);
    if (udp_resolve(opt.host, opt.port, false, &list, err, sizeof err) < 0)
        die("%s", err);
    token = run_token();
    /* Every address of the name, in order, until one answers: localhost may be ::1 first
     * while the server listens on 127.0.0.1 only, and ::1 then refuses at once. */
    for (ai = list; ai != NULL && result != QUOTED; ai = ai->ai_next) {
        result = ask(ai, token, &opt);
        error = errno;
        if (result == FAILED && opt.verbose && ai->ai_next != NULL)
            diag_warn("%s, trying the next address", strerror(error));
    }
    freeaddrinfo(list);
    if (result == QUOTED)
        return 0;
    if (result == SILENT)
        die("no reply from %s port %s after %u tries", opt.host, opt.port, opt.retries + 1);
    die("no reply from %s port %s: %s", opt.host, opt.port, strerror(error));
}
