/* echo-server.c - the tutorial's EchoServer in C: one client at a time, every byte echoed.
 *
 * Java's EchoServer reads a line and prints it back. This one is an RFC 862 echo server:
 * it sends back every byte as soon as it arrives, line or not, and it goes on to the next
 * client when one leaves (--once: exits, as the tutorial's server does). Clients that
 * connect meanwhile wait in the listen backlog.
 *
 * YOUR TURN: this is the starter. The frame is here (options, the connection log, the
 * "listening on" line, main); the socket calls and the echo are yours to write, TODO(1) to
 * TODO(7), in that order. After each, `make test-yours` shows which stage passes now. The
 * README's "Your turn" lists them.
 *
 * What you may call from the kit's common/ module, because this lesson does not teach it:
 * sig_setup_stop() and sig_wait_fd() (SIGINT and SIGTERM, without races: the README's
 * "Stopping cleanly" says why every wait goes through sig_wait_fd), io_read_some() (a
 * stop-aware read, lesson 02), net_format_addr() and net_local_endpoint() (an address as
 * text, lesson 01), net_accept_failed_one() and net_accept_can_retry(). The listening
 * socket, accept(), send() and the echo are the lesson: common/'s net_listen(),
 * net_accept() and io_write_all() do them too, and the README walks through the first two;
 * read them, then write your own.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "args.h"
#include "diag.h"
#include "io.h"
#include "net.h"
#include "sig.h"

#define USAGE "[-b ADDR] [--once] [-q] PORT"

/* Clients that connect while one is served queue in the kernel, handshake completed, until
 * accept() takes them: up to this many (the README's "The backlog" says why 128). */
enum { BACKLOG = 128 };

/* One read's worth: 64 KiB matches what loopback delivers at once. */
enum { ECHO_BUF_SIZE = 64 * 1024 };

struct options {
    const char *addr; /* -b: address to bind */
    const char *port;
    bool once;  /* --once: serve one client, then exit */
    bool quiet; /* -q: no connection events on stderr */
};

/* ---- options ------------------------------------------------------------------------ */

static void print_help(void)
{
    diag_print_usage(USAGE);
    printf("Echo every byte each client sends, one client at a time (RFC 862).\n"
           "  -b, --bind ADDR  address to listen on (default 127.0.0.1; :: for IPv4 and IPv6)\n"
           "      --once       exit after the first client leaves\n"
           "  -q, --quiet      do not log connections on stderr\n"
           "  PORT             0 picks a free port; the \"listening on\" line tells which\n");
}

static struct options parse_options(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"bind", required_argument, NULL, 'b'},
        {"once", no_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct options opt = {.addr = "127.0.0.1"};
    int c;

    opterr = 0; /* our own message and the usage line, not getopt's message as well */
    while ((c = getopt_long(argc, argv, ":b:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            opt.addr = optarg;
            break;
        case 'o':
            opt.once = true;
            break;
        case 'q':
            opt.quiet = true;
            break;
        case 'h':
            print_help();
            exit(0);
        default:
            die_bad_option(USAGE, c, argv, longopts);
        }
    }
    args_need(argc, argv, "PORT", USAGE);
    opt.port = args_port(argv[optind], true, USAGE);
    return opt;
}

/* ---- the connection log --------------------------------------------------------------- */

/* One connection event on stderr, "connection from 127.0.0.1:54321" or "closed ADDR[: reason]",
 * unless -q. One fprintf: the line leaves in one write and never mixes with other output. */
static void log_event(const struct options *opt, const char *what, const char *who,
                      const char *reason)
{
    if (opt->quiet)
        return;
    fprintf(stderr, "%s %s%s%s\n", what, who, reason ? ": " : "", reason ? reason : "");
}

/* ---- the listening socket ------------------------------------------------------------- */

/* A TCP socket listening on addr:port ("127.0.0.1", "::1", "::", a name; port "0": the
 * kernel picks one). Returns the descriptor, or -1 with err set to
 * "cannot listen on ADDR port PORT: reason". */
static int listen_socket(const char *addr, const char *port, char *err, size_t errlen)
{
    /* TODO(1): getaddrinfo(addr, port, &hints, &list) with hints.ai_family = AF_UNSPEC,
     * hints.ai_socktype = SOCK_STREAM and hints.ai_flags = AI_PASSIVE; when it fails
     * (rc != 0): snprintf(err, errlen, "cannot listen on %s port %s: %s", addr, port,
     * rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc)) and return -1.
     * Then for each address of the list, until one listens: fd = socket(ai_family,
     * ai_socktype, ai_protocol); setsockopt(SO_REUSEADDR, 1), or a restart fails while an
     * old connection waits in TIME_WAIT; for AF_INET6 only, setsockopt(IPPROTO_IPV6,
     * IPV6_V6ONLY, 0), so that "::" takes IPv4 clients too; bind(fd, ai_addr, ai_addrlen);
     * listen(fd, BACKLOG). When one of them fails, keep errno, close(fd) and try the next
     * address. freeaddrinfo(list); if none listens, the same message with
     * strerror(saved_errno). Never bind INADDR_ANY yourself: the address is addr.
     * README: "`net_listen`: from "127.0.0.1" and "5000" to a listening socket" and
     * "`listen_on`: one address".
     * Checked by: stage 1, stage 6. */
    snprintf(err, errlen, "cannot listen on %s port %s: not written yet (TODO 1)", addr, port);
    return -1;
}

/* ---- serving ---------------------------------------------------------------------------- */

/* The next client: wait (stop-aware) until one is queued, accept it, and fill *peer with
 * its address. Returns the new socket, or -1 with errno set (EINTR: a stop was requested). */
static int accept_client(int listen_fd, struct sockaddr_storage *peer)
{
    /* TODO(2): wait with sig_wait_fd(listen_fd, POLLIN, -1) until accept() has a client to
     * take: it returns -1 with errno EINTR when SIGINT or SIGTERM arrived (sig_setup_stop()
     * keeps them blocked everywhere else, so a plain accept() would sleep through them).
     * Then socklen_t len = sizeof *peer; fd = accept(listen_fd, (struct sockaddr *)peer,
     * &len). EINTR, or ECONNABORTED (a client that gave up while it waited in the queue):
     * wait again. Any other -1: return -1, errno as accept() left it.
     * README: "`net_accept`: the next client".
     * Checked by: stage 2, stage 5. */
    (void)listen_fd;
    (void)peer;
    (void)sig_wait_fd(-1, 0, -1); /* for now no client is ever taken: wait for a stop */
    errno = EINTR;
    return -1;
}

/* Send all len bytes of buf to fd. Returns 0, or -1 with errno set (EPIPE, ECONNRESET: the
 * client vanished; EINTR: a stop was requested). */
static int send_all(int fd, const char *buf, size_t len)
{
    /* TODO(4): in a loop until len bytes are sent: n = send(fd, buf, len, MSG_NOSIGNAL |
     * MSG_DONTWAIT). send() may take fewer bytes than asked: move on by n and send the
     * rest. It may take none: -1 with errno EAGAIN or EWOULDBLOCK when the client's
     * buffers are full; then wait with sig_wait_fd(fd, POLLOUT, -1) (-1 there: a stop,
     * return -1) and try again. -1 with EINTR: try again. Any other -1: return -1.
     * MSG_NOSIGNAL: a client that has gone gives EPIPE, not SIGPIPE (which would kill the
     * server); MSG_DONTWAIT: the waiting happens in sig_wait_fd, where SIGTERM reaches it.
     * README: "What can go wrong" (partial writes, SIGPIPE, a client that never reads).
     * Checked by: stage 2, stage 7, stage 8. */
    (void)fd;
    (void)buf;
    (void)len;
    errno = ENOSYS;
    return -1;
}

/* Send back everything fd sends, until EOF. Returns 0 at EOF, or -1 with errno set
 * (ECONNRESET, EPIPE: the client vanished; EINTR: a stop was requested). */
static int echo_stream(int fd)
{
    /* TODO(3): with a buffer of ECHO_BUF_SIZE bytes, in a loop: n = io_read_some(fd, buf,
     * sizeof buf) waits (stop-aware) and reads what is there; n == 0 is the client's end
     * (return 0); n < 0 an error or a stop (return -1). Send back exactly those n bytes
     * with send_all() (TODO 4), at once: bytes, not lines; no waiting for a newline, no
     * strlen() (a NUL is a byte like any other). Then read again.
     * README: "The Java original beside the C".
     * Checked by: stage 2, stage 3. */
    (void)fd;
    (void)send_all; /* used once you have written TODO 3 */
    return 0;
}

/* Serve one accepted client and close it. Returns -1 when a stop was requested. */
static int serve_client(int fd, const struct sockaddr_storage *peer, const struct options *opt)
{
    char who[NET_ENDPOINT_LEN];
    int rc, saved_errno;

    net_format_addr((const struct sockaddr *)peer, who, sizeof who);
    log_event(opt, "connection from", who, NULL);
    rc = echo_stream(fd);
    saved_errno = errno;
    /* TODO(6): close(fd): the client's socket is done with, whatever the way out (its end,
     * a reset, a stop). Without it the client never sees the end of its echo, and every
     * client costs the server a descriptor for good. (While the server ends after one
     * client, its exit closes the socket for you: TODO 5 shows what is missing here.)
     * README: "The Java original beside the C" (try-with-resources closes it in Java).
     * Checked by: stage 2, stage 4, stage 8. */
    /* At EOF or a stop, a plain "closed"; a reset or a vanished client says why. */
    log_event(opt, "closed", who, rc == 0 || saved_errno == EINTR ? NULL : strerror(saved_errno));
    return rc < 0 && saved_errno == EINTR ? -1 : 0;
}

/* Accept and serve clients one after the other until a stop is requested (or, with --once,
 * the first client left). Returns 0, or -1 with err set when accept fails for good. */
static int serve_clients(int listen_fd, const struct options *opt, char *err, size_t errlen)
{
    /* TODO(5): not one client: in a loop, accept_client() then serve_client(), until
     * accept_client() fails with EINTR or serve_client() returns -1 (a stop: return 0), or,
     * with opt->once, after the first client. The listening socket stays open all along:
     * the next clients wait in its backlog meanwhile.
     * README: "The backlog, and why the Java server reset the second client".
     * Checked by: stage 4. */
    struct sockaddr_storage peer;
    int fd = accept_client(listen_fd, &peer);

    if (fd < 0 && errno == EINTR)
        return 0; /* SIGINT or SIGTERM */
    /* TODO(7): an accept() error may concern only the client being accepted, not the
     * server. net_accept_failed_one(errno) (EPROTO, ENETDOWN ...: that connection failed
     * before accept() took it): diag_warn("accept: %s: skipping that connection",
     * strerror(errno)) and accept the next. net_accept_can_retry(errno) (EMFILE: out of
     * descriptors; or of memory): say it once, diag_warn("accept: %s: trying again every
     * %d ms", strerror(errno), NET_ACCEPT_RETRY_MS), then pause with sig_wait_fd(-1, 0,
     * NET_ACCEPT_RETRY_MS) and try again: the client waits in the backlog meanwhile.
     * README: "`net_accept`: the next client" and "What can go wrong".
     * Checked by: stage 9. */
    if (fd < 0) {
        snprintf(err, errlen, "accept: %s", strerror(errno));
        return -1;
    }
    (void)serve_client(fd, &peer, opt);
    return 0;
}

/* Print "listening on ADDR:PORT" and flush it: tests and scripts wait for this line. */
static int announce(int listen_fd, char *err, size_t errlen)
{
    char where[NET_ENDPOINT_LEN];

    if (net_local_endpoint(listen_fd, where, sizeof where, err, errlen) < 0)
        return -1;
    if (printf("listening on %s\n", where) < 0 || fflush(stdout) == EOF) {
        snprintf(err, errlen, "stdout: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    char err[NET_ERR_LEN];
    struct options opt;
    int listen_fd, rc;

    diag_set_progname(argv[0]);
    opt = parse_options(argc, argv);
    if (sig_setup_stop() < 0) /* SIGPIPE ignored; SIGINT, SIGTERM: see sig_wait_fd() */
        die("signals:");
    listen_fd = listen_socket(opt.addr, opt.port, err, sizeof err);
    if (listen_fd < 0)
        die("%s", err);
    rc = announce(listen_fd, err, sizeof err);
    if (rc == 0)
        rc = serve_clients(listen_fd, &opt, err, sizeof err);
    close(listen_fd);
    if (rc < 0)
        die("%s", err);
    return 0;
}
