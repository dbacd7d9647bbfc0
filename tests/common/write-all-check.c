/* write-all-check - io_write_all() against a tiny send buffer and a slow reader.
 *
 * One io_write_all() call hands the kernel BYTES bytes (default 4 MiB) on a
 * socket whose send buffer holds a few KiB, while a reader thread drains the
 * other end slowly: the write can only finish through many partial writes
 * and waits. The reader checks every byte against a position-dependent
 * pattern, so a lost, repeated or reordered piece is caught.
 *
 * Modes: a UNIX socketpair (default), --tcp (a loopback TCP connection made
 * with net_listen/net_connect/net_accept) or --pipe (io_write_all falls back
 * to write() on a descriptor that is no socket). --signals interrupts the
 * writer with SIGALRM every millisecond (its waits must resume); --peer-closes
 * makes the reader close after 64 KiB (the write must fail with EPIPE, and
 * the process must not die of SIGPIPE).
 *
 * Prints "send buffer: N bytes", "wrote N bytes in one io_write_all call" and
 * "read N bytes, all in order" (and "signals during the write: N"), exit 0.
 * A failure is one line on stderr, exit 1.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "io.h"
#include "net.h"

static const char usage[] = "[--bytes N] [--sndbuf N] [--tcp | --pipe] [--signals] [--peer-closes]";

enum mode { MODE_SOCKETPAIR, MODE_TCP, MODE_PIPE };
enum { READ_PIECE = 512, NAP_EVERY = 32, CLOSE_AFTER = 64 * 1024 };

struct options {
    size_t bytes;
    int sndbuf;
    enum mode mode;
    int signals;
    int peer_closes;
};

/* What the reader thread found; written by it, read by main after the join. */
struct check {
    int rfd;
    size_t close_after; /* 0: read to EOF */
    size_t got;
    size_t bad_at; /* first wrong byte, SIZE_MAX when none */
    int read_errno;
};

static volatile sig_atomic_t alarms;

/* ---- arguments ------------------------------------------------------------ */

/* A decimal count 1..10^9, or 0 when text is anything else. */
static size_t parse_count(const char *text)
{
    size_t value = 0;

    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || value > 100000000)
            return 0;
        value = value * 10 + (size_t)(*p - '0');
    }
    return value <= 1000000000 ? value : 0;
}

static struct options parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"bytes", required_argument, NULL, 'b'}, {"sndbuf", required_argument, NULL, 's'},
        {"tcp", no_argument, NULL, 't'},         {"pipe", no_argument, NULL, 'p'},
        {"signals", no_argument, NULL, 'S'},     {"peer-closes", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
    struct options opt = {.bytes = 4u << 20, .sndbuf = 4096, .mode = MODE_SOCKETPAIR};
    size_t n;
    int c;

    opterr = 0; /* one usage line from die_usage, not getopt's own message too */
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if ((opt.bytes = parse_count(optarg)) == 0)
                die_usage(usage);
            break;
        case 's':
            if ((n = parse_count(optarg)) == 0 || n > 1u << 20)
                die_usage(usage);
            opt.sndbuf = (int)n;
            break;
        case 't':
            opt.mode = MODE_TCP;
            break;
        case 'p':
            opt.mode = MODE_PIPE;
            break;
        case 'S':
            opt.signals = 1;
            break;
        case 'c':
            opt.peer_closes = 1;
            break;
        case 'h':
            diag_print_usage(usage);
            exit(0);
        default:
            die_usage(usage);
        }
    }
    if (optind != argc)
        die_usage(usage);
    return opt;
}

/* ---- the two ends ------------------------------------------------------------ */

/* A loopback TCP connection: fds[0] the writer (client), fds[1] the reader (accepted). */
static int tcp_pair(int fds[2])
{
    char err[NET_ERR_LEN], port[8];
    int lfd, cfd, afd = -1;

    lfd = net_listen("127.0.0.1", "0", 1, err, sizeof err);
    if (lfd < 0) {
        diag_warn("%s", err);
        return -1;
    }
    snprintf(port, sizeof port, "%u", (unsigned)net_local_port(lfd));
    cfd = net_connect("127.0.0.1", port, err, sizeof err);
    if (cfd >= 0 && (afd = net_accept(lfd, NULL, err, sizeof err)) < 0)
        close(cfd);
    close(lfd);
    if (cfd < 0 || afd < 0) {
        diag_warn("%s", err);
        return -1;
    }
    fds[0] = cfd;
    fds[1] = afd;
    return 0;
}

/* Small buffers: nearly all the data must wait for the reader. A TCP receive buffer stays as
 * it is: a tiny TCP window makes the sender crawl on window-probe timers (80 s for 4 MiB). */
static int shrink_buffers(const struct options *opt, const int fds[2])
{
    if (setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &opt->sndbuf, sizeof opt->sndbuf) < 0)
        return -1;
    if (opt->mode == MODE_TCP)
        return 0;
    return setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &opt->sndbuf, sizeof opt->sndbuf);
}

/* The writer end in fds[0], the reader end in fds[1], buffers shrunk. Returns 0 or -1. */
static int make_pair(const struct options *opt, int fds[2])
{
    int rc;

    if (opt->mode == MODE_PIPE) {
        int p[2];
        if (pipe(p) < 0) {
            diag_warn("pipe:");
            return -1;
        }
        fds[0] = p[1];
        fds[1] = p[0];
        return 0;
    }
    rc = opt->mode == MODE_TCP ? tcp_pair(fds) : socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
    if (rc < 0) {
        if (opt->mode != MODE_TCP)
            diag_warn("socketpair:");
        return -1;
    }
    if (shrink_buffers(opt, fds) < 0) {
        diag_warn("setsockopt:");
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    return 0;
}

/* The send buffer the kernel actually granted (it doubles the request, with a minimum). */
static int send_buffer_size(int fd)
{
    int size = 0;
    socklen_t len = sizeof size;

    if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &len) < 0)
        return -1;
    return size;
}

/* ---- the data and the slow reader ---------------------------------------------- */

/* Byte i of the stream: depends on every bit of i, so a shifted piece does not match. */
static unsigned char pattern(size_t i)
{
    uint32_t x = (uint32_t)(i & 0xffffffffu) * 2654435761u;
    return (unsigned char)(x >> 24);
}

static void nap_ms(long ms)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void *reader_main(void *arg)
{
    struct check *c = arg;
    unsigned char buf[READ_PIECE];
    size_t reads = 0;

    for (;;) {
        ssize_t n = read(c->rfd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            c->read_errno = n < 0 ? errno : 0;
            break;
        }
        for (size_t i = 0; i < (size_t)n && c->bad_at == SIZE_MAX; i++)
            if (buf[i] != pattern(c->got + i))
                c->bad_at = c->got + i;
        c->got += (size_t)n;
        if (c->close_after > 0 && c->got >= c->close_after)
            break;
        if (++reads % NAP_EVERY == 0)
            nap_ms(1); /* slow: the writer must wait for room, again and again */
    }
    close(c->rfd); /* with --peer-closes, the writer now gets EPIPE */
    c->rfd = -1;
    return NULL;
}

/* Start the reader with SIGALRM blocked, so the alarms interrupt the writer only. */
static int start_reader(pthread_t *tid, struct check *c)
{
    sigset_t alrm, old;
    int rc;

    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, &old);
    rc = pthread_create(tid, NULL, reader_main, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        errno = rc;
        diag_warn("pthread_create:");
        return -1;
    }
    return 0;
}

/* ---- interrupting the writer ------------------------------------------------------ */

static void on_alarm(int signo)
{
    (void)signo;
    alarms++;
}

/* Every ms a SIGALRM with no SA_RESTART: blocking calls in the writer return EINTR. */
static void set_alarms(int on)
{
    struct sigaction sa = {0};
    struct itimerval every_ms = {{0, on ? 1000 : 0}, {0, on ? 1000 : 0}};

    sa.sa_handler = on ? on_alarm : SIG_IGN; /* a late alarm must not kill us */
    sigemptyset(&sa.sa_mask);
    if (!on)
        setitimer(ITIMER_REAL, &every_ms, NULL);
    sigaction(SIGALRM, &sa, NULL);
    if (on)
        setitimer(ITIMER_REAL, &every_ms, NULL);
}

/* ---- the check ----------------------------------------------------------------------- */

/* Fill the stream, write it in one call, and compare what the reader saw. */
static int run_check(const struct options *opt, int fds[2])
{
    struct check c = {.rfd = fds[1], .bad_at = SIZE_MAX};
    unsigned char *data;
    pthread_t reader;
    int rc, write_errno, sndbuf = opt->mode == MODE_PIPE ? 0 : send_buffer_size(fds[0]);

    data = malloc(opt->bytes);
    if (data == NULL) {
        diag_warn("malloc:");
        close(fds[0]);
        close(fds[1]);
        return EXIT_RUNTIME;
    }
    for (size_t i = 0; i < opt->bytes; i++)
        data[i] = pattern(i);
    c.close_after = opt->peer_closes ? CLOSE_AFTER : 0;
    if (start_reader(&reader, &c) < 0) {
        free(data);
        close(fds[0]);
        close(fds[1]);
        return EXIT_RUNTIME;
    }
    if (opt->signals)
        set_alarms(1);
    rc = io_write_all(fds[0], data, opt->bytes);
    write_errno = errno;
    if (opt->signals)
        set_alarms(0);
    close(fds[0]); /* EOF for the reader */
    pthread_join(reader, NULL);
    free(data);

    if (sndbuf > 0)
        printf("send buffer: %d bytes\n", sndbuf);
    if (opt->signals)
        printf("signals during the write: %d\n", (int)alarms);
    if (rc < 0) {
        errno = write_errno;
        diag_warn("io_write_all:");
        return EXIT_RUNTIME;
    }
    printf("wrote %zu bytes in one io_write_all call\n", opt->bytes);
    if (c.bad_at != SIZE_MAX) {
        diag_warn("byte %zu differs", c.bad_at);
        return EXIT_RUNTIME;
    }
    if (c.got != opt->bytes) {
        errno = c.read_errno;
        diag_warn("read only %zu of %zu bytes%s", c.got, opt->bytes, errno ? ":" : "");
        return EXIT_RUNTIME;
    }
    printf("read %zu bytes, all in order\n", c.got);
    return 0;
}

int main(int argc, char **argv)
{
    struct options opt;
    int fds[2];

    diag_set_progname(argv[0]);
    opt = parse_args(argc, argv);
    if (make_pair(&opt, fds) < 0)
        return EXIT_RUNTIME;
    return run_check(&opt, fds);
}
