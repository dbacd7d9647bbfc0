/* echo-bench - load for an echo server: many connections doing request/reply, verified.
 *
 * The lesson's bench client (until lesson 07's echo-load, it is the kit's measuring
 * tool for lesson 06). One thread and one epoll loop, like the server it measures:
 *
 *   - IDLE connections (-i) are opened first; each sends one "\n" and waits for its echo
 *     (so the server has surely accepted it), then stays silent for the rest of the run;
 *   - ACTIVE connections (-c) then each send a request of -s bytes (printable bytes and a
 *     final "\n": a line), wait for the whole echo, compare it byte for byte with what was
 *     sent, record the latency and send the next, for -d seconds or -n rounds;
 *   - a HOG (--hog BYTES) sends BYTES and never reads a byte back.
 *
 * It prints one line of key=value figures: replies, lines per second, latency p50/p99 and,
 * with --pid, the server's resident size and the CPU time it spent per reply while the
 * replies were measured (not while the idle connections were opened). Any byte that differs, or a
 * connection the server closes, is an error: exit 1. With --until-closed it opens the idle
 * connections, prints "connected N" and waits until the server closes all of them (a shutdown
 * test).
 */
#define _GNU_SOURCE /* epoll: a Linux system call */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "diag.h"
#include "net.h"

static const char usage[] = "[-c CONNS] [-i IDLE] [-s BYTES] [-d SECS | -n ROUNDS] "
                            "[--hog BYTES] [--pid PID] [--until-closed] HOST PORT";

enum {
    CHUNK = 64 * 1024,         /* most bytes per read or send */
    PATTERN_LEN = 1024 * 1024, /* random printable bytes the requests are cut from */
    MAX_SIZE = 1024 * 1024,    /* largest request */
    BATCH = 1024,              /* epoll events per wake-up */
    HIST_LINEAR = 10000,       /* latency buckets of 1 us up to 10 ms ... */
    HIST_BUCKETS = 20000,      /* ... then of 1 ms up to 10 s */
    RSS_EVERY_MS = 100,        /* how often the server's resident size is sampled */
};

struct options {
    unsigned long active, idle, size, rounds, hog, pid;
    double seconds;
    bool until_closed;
    const char *host, *port;
};

enum role { ACTIVE, IDLE, HOG };

struct bconn {
    int fd;
    unsigned id;
    enum role role;
    bool open;      /* connected and not closed */
    bool busy;      /* a request is out and its echo not all back */
    uint64_t round; /* requests completed */
    size_t size;    /* bytes of the current request */
    size_t sent, received;
    const char *req; /* the current request: own (ACTIVE) or "\n" (IDLE) */
    char *own;       /* ACTIVE: the buffer each request is built in */
    bool in_epoll;
    long long start; /* ns: the request's first byte went out */
    uint32_t events; /* what epoll watches for */
};

struct bench {
    struct options opt;
    int epfd;
    struct sockaddr_storage addr; /* the server */
    socklen_t addrlen;
    int family;
    struct bconn *conns;
    size_t nconns;
    size_t waiting;   /* connections whose current phase is not over */
    uint64_t replies; /* active replies completed and verified while measuring */
    uint64_t hist[HIST_BUCKETS];
    unsigned long rss_peak;
    char pattern[PATTERN_LEN];
    char buf[CHUNK];
};

/* ---- small tools ---------------------------------------------------------------- */

static long long now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* splitmix64: a cheap, well-mixed 64-bit hash. */
static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* The server's resident size in KiB, from /proc/PID/status (0 when unknown). */
static unsigned long rss_kib(unsigned long pid)
{
    char path[64], line[256];
    unsigned long kib = 0;
    FILE *f;

    if (pid == 0)
        return 0;
    snprintf(path, sizeof path, "/proc/%lu/status", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = strtoul(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

/* CPU time (user + system, every thread) the process has used so far, in microseconds,
 * from /proc/PID/stat; -1 when unknown. */
static double cpu_us(unsigned long pid)
{
    char path[64], text[1024], *p;
    unsigned long long ticks = 0;
    size_t n;
    FILE *f;

    if (pid == 0)
        return -1;
    snprintf(path, sizeof path, "/proc/%lu/stat", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    /* "PID (NAME) STATE ...", NAME holding any byte: after its ')', utime and stime are the
     * 12th and 13th fields, in clock ticks. */
    p = strrchr(text, ')');
    if (p == NULL)
        return -1;
    for (int field = 1; field <= 13; field++) {
        p = strchr(p + 1, ' ');
        if (p == NULL)
            return -1;
        if (field >= 12)
            ticks += strtoull(p + 1, NULL, 10);
    }
    return (double)ticks * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

static void record_latency(struct bench *b, long long ns)
{
    long long us = ns / 1000;
    long long i = us < HIST_LINEAR ? us : HIST_LINEAR + (us - HIST_LINEAR) / 1000;

    if (i >= HIST_BUCKETS)
        i = HIST_BUCKETS - 1;
    b->hist[i < 0 ? 0 : i]++;
}

/* The latency (us) below which fraction q of the replies came. */
static unsigned long long percentile(const struct bench *b, double q)
{
    uint64_t total = 0, seen = 0;

    for (size_t i = 0; i < HIST_BUCKETS; i++)
        total += b->hist[i];
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        seen += b->hist[i];
        if (total > 0 && (double)seen >= q * (double)total)
            return i < HIST_LINEAR ? i : HIST_LINEAR + (i - HIST_LINEAR) * 1000;
    }
    return 0;
}

/* ---- the command line ------------------------------------------------------------ */

/* The value of option name, a count from min to max; else exit 2 saying so. */
static unsigned long parse_number(const char *name, const char *text, unsigned long min,
                                  unsigned long max)
{
    return (unsigned long)args_count(name, text, min, max, usage);
}

static void parse_args(int argc, char **argv, struct options *opt)
{
    static const struct option longopts[] = {
        {"conns", required_argument, NULL, 'c'},  {"idle", required_argument, NULL, 'i'},
        {"size", required_argument, NULL, 's'},   {"duration", required_argument, NULL, 'd'},
        {"rounds", required_argument, NULL, 'n'}, {"hog", required_argument, NULL, 'H'},
        {"pid", required_argument, NULL, 'p'},    {"until-closed", no_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int c;

    *opt = (struct options){.active = 100, .size = 64, .seconds = 3};
    opterr = 0; /* our own message and the usage line, not getopt's message */
    while ((c = getopt_long(argc, argv, ":c:i:s:d:n:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            opt->active = parse_number("-c", optarg, 0, 1000000);
            break;
        case 'i':
            opt->idle = parse_number("-i", optarg, 0, 1000000);
            break;
        case 's':
            opt->size = parse_number("-s", optarg, 1, MAX_SIZE);
            break;
        case 'd':
            opt->seconds = args_seconds("-d", optarg, 3600, usage);
            break;
        case 'n':
            opt->rounds = parse_number("-n", optarg, 1, 1000000000);
            break;
        case 'H':
            opt->hog = parse_number("--hog", optarg, 1, 1UL << 40);
            break;
        case 'p':
            opt->pid = parse_number("--pid", optarg, 1, 1UL << 22);
            break;
        case 'u':
            opt->until_closed = true;
            break;
        case 'h':
            diag_print_usage(usage);
            exit(EXIT_SUCCESS);
        default:
            die_bad_option(usage, c, argv, longopts);
        }
    }
    args_need(argc, argv, "HOST PORT", usage);
    args_port(argv[optind + 1], false, usage);
    opt->host = argv[optind];
    opt->port = argv[optind + 1];
}

/* ---- connecting ------------------------------------------------------------------- */

/* Whether a test connection to ai succeeds. */
static bool answers(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    int rc;

    if (fd < 0)
        return false;
    rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    close(fd);
    return rc == 0;
}

/* The server's address: the first that getaddrinfo returns and that accepts a connection
 * (so "localhost" works on ::1 or 127.0.0.1), copied into *addr. Exits on failure. */
static void find_server(const struct options *opt, struct sockaddr_storage *addr,
                        socklen_t *addrlen, int *family)
{
    struct addrinfo hints = {0}, *list;
    int rc;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(opt->host, opt->port, &hints, &list);
    if (rc != 0)
        die("cannot resolve %s: %s", opt->host, gai_strerror(rc));
    for (const struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
        if (answers(ai)) {
            memcpy(addr, ai->ai_addr, ai->ai_addrlen);
            *addrlen = ai->ai_addrlen;
            *family = ai->ai_family;
            freeaddrinfo(list);
            return;
        }
    }
    die("cannot connect to %s port %s:", opt->host, opt->port);
}

static void watch(struct bench *b, struct bconn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};

    if (c->in_epoll && events == c->events)
        return;
    if (epoll_ctl(b->epfd, c->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) < 0)
        die("epoll_ctl:");
    c->in_epoll = true;
    c->events = events;
}

/* A blocking connect (the server's backlog absorbs them), then non-blocking for the run. */
static void conn_connect(struct bench *b, struct bconn *c)
{
    c->fd = socket(b->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        die("socket (connection %u):", c->id);
    if (connect(c->fd, (const struct sockaddr *)&b->addr, b->addrlen) < 0)
        die("cannot connect to %s port %s (connection %u):", b->opt.host, b->opt.port, c->id);
    if (fcntl(c->fd, F_SETFL, O_NONBLOCK) < 0)
        die("fcntl:");
    c->open = true;
}

static void conn_close(struct bench *b, struct bconn *c)
{
    (void)b;
    if (c->open)
        close(c->fd);
    c->open = false;
}

/* ---- requests and replies ----------------------------------------------------------- */

static void fail_conn(const struct bconn *c, const char *what)
{
    die("connection %u, request %llu: %s after %zu of %zu bytes", c->id,
        (unsigned long long)c->round, what, c->received, c->size);
}

static void on_writable(struct bench *b, struct bconn *c)
{
    const char *from =
        c->role == HOG ? b->pattern + c->sent % (PATTERN_LEN - CHUNK) : c->req + c->sent;
    size_t len = c->size - c->sent;
    ssize_t n;

    if (len > CHUNK)
        len = CHUNK;
    n = send(c->fd, from, len, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        fail_conn(c, strerror(errno));
    }
    c->sent += (size_t)n;
    if (c->sent == c->size && c->in_epoll)
        watch(b, c, c->role == HOG ? 0 : EPOLLIN); /* all out: only the echo waits */
}

/* Begin the next request: cut it from the pattern, end it with "\n", send what goes. */
static void start_request(struct bench *b, struct bconn *c)
{
    if (c->role == ACTIVE) {
        size_t off =
            (size_t)(mix(((uint64_t)c->id << 32) ^ c->round) % (PATTERN_LEN - c->size + 1));
        memcpy(c->own, b->pattern + off, c->size - 1);
        c->own[c->size - 1] = '\n';
    }
    c->sent = c->received = 0;
    c->busy = true;
    c->start = now_ns();
    on_writable(b, c); /* usually the socket takes it all: no need to wait for EPOLLOUT */
    /* The echo is read while the request is still going out: a big request whose echo
     * were left unread would fill both directions and stall. The hog never reads. */
    watch(b, c, (c->role == HOG ? 0 : EPOLLIN) | (c->sent < c->size ? EPOLLOUT : 0));
}

/* The whole echo came back: count it, then the next request (or done). */
static void finish_request(struct bench *b, struct bconn *c, bool measuring)
{
    c->busy = false;
    c->round++;
    if (c->role == IDLE) {
        b->waiting--; /* set up: it stays silent from now on */
        return;
    }
    if (measuring) {
        b->replies++;
        record_latency(b, now_ns() - c->start);
    }
    if (b->opt.rounds > 0 && c->round >= b->opt.rounds) {
        b->waiting--;
        return;
    }
    start_request(b, c);
}

static void on_readable(struct bench *b, struct bconn *c, bool measuring)
{
    ssize_t n = read(c->fd, b->buf, sizeof b->buf);

    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        if (!b->opt.until_closed)
            fail_conn(c, strerror(errno));
        n = 0; /* a reset while waiting for the server to close counts as closed */
    }
    if (n == 0) {
        if (!b->opt.until_closed)
            fail_conn(c, "closed by the server");
        conn_close(b, c);
        b->waiting--;
        return;
    }
    if (!c->busy || c->received + (size_t)n > c->sent)
        fail_conn(c, "more bytes came back than were sent");
    if (c->role != HOG && memcmp(b->buf, c->req + c->received, (size_t)n) != 0)
        fail_conn(c, "the echo differs from the request");
    c->received += (size_t)n;
    if (c->received == c->size)
        finish_request(b, c, measuring);
}

/* Run the loop until no connection is waiting, or until deadline (ns; 0: none). */
static void run(struct bench *b, long long deadline, bool measuring)
{
    struct epoll_event events[BATCH];
    long long next_rss = 0;

    while (b->waiting > 0) {
        long long now = now_ns();
        int n, timeout = -1;

        if (b->opt.pid > 0 && measuring && now >= next_rss) {
            unsigned long kib = rss_kib(b->opt.pid);
            if (kib > b->rss_peak)
                b->rss_peak = kib;
            next_rss = now + RSS_EVERY_MS * 1000000LL;
        }
        if (deadline > 0) {
            if (now >= deadline)
                return;
            timeout = (int)((deadline - now) / 1000000 + 1);
            if (b->opt.pid > 0 && timeout > RSS_EVERY_MS)
                timeout = RSS_EVERY_MS;
        }
        n = epoll_wait(b->epfd, events, BATCH, timeout);
        if (n < 0 && errno != EINTR)
            die("epoll_wait:");
        for (int i = 0; i < n; i++) {
            struct bconn *c = events[i].data.ptr;
            if (c->open && (events[i].events & (EPOLLOUT | EPOLLERR)) && c->busy &&
                c->sent < c->size)
                on_writable(b, c);
            if (c->open && c->role != HOG && (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                on_readable(b, c, measuring);
        }
    }
}

/* ---- the phases of a run -------------------------------------------------------------- */

/* One descriptor per connection: take what the hard limit allows. */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void setup(struct bench *b)
{
    size_t hog = b->opt.hog > 0 ? 1 : 0;

    b->nconns = b->opt.idle + b->opt.active + hog;
    b->conns = calloc(b->nconns > 0 ? b->nconns : 1, sizeof *b->conns);
    if (b->conns == NULL)
        die("out of memory");
    for (size_t i = 0; i < b->nconns; i++) {
        struct bconn *c = &b->conns[i];
        c->id = (unsigned)i;
        c->fd = -1;
        c->role = i < b->opt.idle ? IDLE : i < b->opt.idle + b->opt.active ? ACTIVE : HOG;
        c->size = c->role == IDLE ? 1 : c->role == HOG ? b->opt.hog : b->opt.size;
        if (c->role == ACTIVE && (c->own = malloc(c->size)) == NULL)
            die("out of memory");
        c->req = c->role == ACTIVE ? c->own : "\n";
    }
    for (size_t i = 0; i < PATTERN_LEN; i++)
        b->pattern[i] = (char)('!' + mix(i) % 94); /* printable, never "\n" */
    b->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (b->epfd < 0)
        die("epoll_create1:");
}

/* Open the idle connections; each proves with one echoed "\n" that it was accepted. */
static void open_idle(struct bench *b)
{
    for (size_t i = 0; i < b->opt.idle; i++) {
        conn_connect(b, &b->conns[i]);
        start_request(b, &b->conns[i]);
        b->waiting++;
    }
    run(b, 0, false);
}

static void print_results(const struct bench *b, double seconds, unsigned long rss_start,
                          unsigned long rss_idle, unsigned long rss_before, double cpu)
{
    const struct options *o = &b->opt;

    printf("conns=%lu idle=%lu size=%lu seconds=%.2f replies=%llu lines_per_s=%.0f "
           "p50_us=%llu p99_us=%llu",
           o->active, o->idle, o->size, seconds, (unsigned long long)b->replies,
           seconds > 0 ? (double)b->replies / seconds : 0.0, percentile(b, 0.50),
           percentile(b, 0.99));
    if (o->pid > 0)
        printf(" rss_start_kib=%lu rss_idle_kib=%lu rss_before_kib=%lu rss_peak_kib=%lu", rss_start,
               rss_idle, rss_before, b->rss_peak);
    if (cpu >= 0 && b->replies > 0)
        printf(" server_cpu_us_per_line=%.1f", cpu / (double)b->replies);
    if (o->hog > 0)
        printf(" hog_sent=%zu", b->conns[b->nconns - 1].sent);
    printf("\n");
}

static void free_all(struct bench *b)
{
    for (size_t i = 0; i < b->nconns; i++) {
        conn_close(b, &b->conns[i]);
        free(b->conns[i].own);
    }
    free(b->conns);
    close(b->epfd);
}

/* Connect the active connections and the hog, start them all at once, measure. */
static void measure(struct bench *b, unsigned long rss_start, unsigned long rss_idle)
{
    unsigned long rss_before;
    long long t0, deadline = 0;
    double cpu_before, cpu_after;

    for (size_t i = b->opt.idle; i < b->nconns; i++)
        conn_connect(b, &b->conns[i]);
    rss_before = rss_kib(b->opt.pid);
    b->rss_peak = rss_before;
    cpu_before = cpu_us(b->opt.pid);
    t0 = now_ns();
    for (size_t i = b->opt.idle; i < b->nconns; i++) {
        start_request(b, &b->conns[i]);
        if (b->conns[i].role == ACTIVE)
            b->waiting++;
    }
    if (b->opt.rounds == 0)
        deadline = t0 + (long long)(b->opt.seconds * 1e9);
    run(b, deadline, true);
    cpu_after = cpu_us(b->opt.pid);
    print_results(b, (double)(now_ns() - t0) / 1e9, rss_start, rss_idle, rss_before,
                  cpu_before >= 0 && cpu_after >= 0 ? cpu_after - cpu_before : -1);
}

/* --until-closed: say the idle connections are open, wait until the server closes them. */
static void wait_closed(struct bench *b)
{
    printf("connected %lu\n", b->opt.idle);
    fflush(stdout);
    b->waiting = b->opt.idle;
    run(b, 0, false);
    printf("closed by the server: %lu\n", b->opt.idle);
}

int main(int argc, char **argv)
{
    static struct bench b; /* large (the pattern): static, not on the stack */
    unsigned long rss_start, rss_idle;

    diag_set_progname(argv[0]);
    parse_args(argc, argv, &b.opt);
    signal(SIGPIPE, SIG_IGN); /* a server that vanishes gives EPIPE, not death */
    raise_fd_limit();
    setup(&b);
    find_server(&b.opt, &b.addr, &b.addrlen, &b.family);
    rss_start = rss_kib(b.opt.pid);
    open_idle(&b);
    rss_idle = rss_kib(b.opt.pid);
    if (b.opt.until_closed)
        wait_closed(&b);
    else
        measure(&b, rss_start, rss_idle);
    free_all(&b);
    return fflush(stdout) == EOF ? EXIT_RUNTIME : EXIT_SUCCESS;
}
