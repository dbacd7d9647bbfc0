/* lines-split - cut stdin into lines with common/io.h and show each line exactly.
 *
 * The splitter (struct io_lines) is fed at most CHUNK bytes per read, so a
 * test decides where the reads split the stream: --chunk 1 feeds one byte at
 * a time, splitting every CRLF between its CR and its LF. --reader reads
 * through struct io_reader (io_read_line) instead, as blocking programs do.
 *
 * Output, one line per line found, bytes escaped so NULs and CRs are visible:
 *     line 3 [abc]        a line ended by LF, CRLF or CR (the ending is not shown)
 *     last 2 [ab]         the unterminated last line, returned at EOF
 * Bytes outside 0x20..0x7e print as \xHH, a backslash as "\\". With --reader
 * every line prints as "line": io_read_line() does not tell the two apart.
 * Exit 0 at EOF; exit 3 with "lines-split: line longer than MAX bytes" on stderr
 * when a line exceeds --max; exit 1 on any other failure.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "diag.h"
#include "io.h"

enum { EXIT_TOO_LONG = 3 };

static const char usage[] = "[--chunk N] [--max N] [--reader] < INPUT";

struct options {
    size_t chunk;    /* at most this many bytes per read */
    size_t max_line; /* the splitter's cap */
    int use_reader;  /* 1: io_read_line on fd 0 */
};

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
    static const struct option longopts[] = {{"chunk", required_argument, NULL, 'c'},
                                             {"max", required_argument, NULL, 'm'},
                                             {"reader", no_argument, NULL, 'r'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    struct options opt = {.chunk = 4096, .max_line = 1024, .use_reader = 0};
    int c;

    opterr = 0; /* one usage line from die_usage, not getopt's own message too */
    while ((c = getopt_long(argc, argv, "c:m:rh", longopts, NULL)) != -1) {
        if (c == 'c' && (opt.chunk = parse_count(optarg)) > 0)
            continue;
        if (c == 'm' && (opt.max_line = parse_count(optarg)) > 0)
            continue;
        if (c == 'r') {
            opt.use_reader = 1;
            continue;
        }
        if (c == 'h') {
            diag_print_usage(usage);
            exit(0);
        }
        die_usage(usage);
    }
    if (optind != argc)
        die_usage(usage);
    return opt;
}

/* ---- output ------------------------------------------------------------------ */

static void print_line(const char *kind, const char *line, size_t len)
{
    printf("%s %zu [", kind, len);
    for (size_t i = 0; i < len; i++) {
        unsigned char byte = (unsigned char)line[i];
        if (byte == '\\')
            fputs("\\\\", stdout);
        else if (byte >= 0x20 && byte <= 0x7e)
            putchar(byte);
        else
            printf("\\x%02x", byte);
    }
    puts("]");
}

/* The exit status for a splitter or reader failure (errno set). */
static int failure(const struct options *opt)
{
    if (errno == EMSGSIZE) {
        diag_warn("line longer than %zu bytes", opt->max_line);
        return EXIT_TOO_LONG;
    }
    diag_warn("read:");
    return EXIT_RUNTIME;
}

/* ---- the two ways to read lines ------------------------------------------------ */

/* Print every complete line the splitter holds. Returns 0, or -1 (errno EMSGSIZE). */
static int drain(struct io_lines *lines)
{
    char *line;
    size_t len;
    int rc;

    while ((rc = io_lines_next(lines, &line, &len)) == 1)
        print_line("line", line, len);
    return rc;
}

/* Read at most chunk bytes from stdin into the splitter. Returns the count, 0 at EOF, or -1
 * with errno set. */
static ssize_t feed(struct io_lines *lines, size_t chunk)
{
    size_t avail;
    char *space = io_lines_space(lines, &avail);
    ssize_t n;

    if (space == NULL)
        return -1;
    if (avail == 0) { /* only after a line too long, which drain() reports first */
        errno = EMSGSIZE;
        return -1;
    }
    do
        n = read(STDIN_FILENO, space, avail < chunk ? avail : chunk);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        io_lines_commit(lines, (size_t)n);
    return n;
}

/* Feed the splitter by hand, opt->chunk bytes at most per read. */
static int split_in_chunks(const struct options *opt)
{
    struct io_lines lines;
    char *line;
    size_t len;
    int status = 0;

    io_lines_init(&lines, opt->max_line);
    for (;;) {
        ssize_t n;

        if (drain(&lines) < 0 || (n = feed(&lines, opt->chunk)) < 0) {
            status = failure(opt);
            break;
        }
        if (n == 0) {
            if (io_lines_rest(&lines, &line, &len) == 1)
                print_line("last", line, len);
            break;
        }
    }
    io_lines_free(&lines);
    return status;
}

/* Let io_read_line do the reading (opt->chunk does not apply). */
static int read_with_reader(const struct options *opt)
{
    struct io_reader reader;
    char *line;
    size_t len;
    int rc;

    io_reader_init(&reader, STDIN_FILENO, opt->max_line);
    /* io_read_line does not say whether a line had an ending: all print as "line". */
    while ((rc = io_read_line(&reader, &line, &len)) == 1)
        print_line("line", line, len);
    io_reader_free(&reader);
    return rc < 0 ? failure(opt) : 0;
}

int main(int argc, char **argv)
{
    struct options opt;
    int status;

    diag_set_progname(argv[0]);
    opt = parse_args(argc, argv);
    status = opt.use_reader ? read_with_reader(&opt) : split_in_chunks(&opt);
    if (fflush(stdout) == EOF)
        die("stdout:");
    return status;
}
