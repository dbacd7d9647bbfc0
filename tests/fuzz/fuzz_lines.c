/* fuzz_lines.c - libFuzzer target for common/io: the line splitter (struct io_lines) fed in
 * chunks of random sizes, and, for one input in eight, io_read_line() reading a pipe.
 *
 * Input layout: byte 0 picks the line cap (often tiny, so the cap is hit), bytes 1-2 seed
 * the chunk sizes, byte 3 picks the mode; the rest is the byte stream to split.
 *
 * The oracle is a reference splitter written the obvious way, over the whole stream at
 * once: a line ends at LF, CRLF or a lone CR; bytes after the last ending are an
 * unterminated last line. The code under test must return exactly the reference's lines,
 * in order, each NUL-terminated, none holding CR or LF, none longer than the cap, and must
 * fail with EMSGSIZE exactly when the reference's next line is longer than the cap. So the
 * lines plus the endings the reference saw reproduce the input byte for byte.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a crash libFuzzer records, with the reason on stderr. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_lines: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

enum { HEADER = 4 };

/* ---- chunk sizes: a small PRNG seeded by the input -------------------------------------- */

static uint32_t rng_next(uint32_t *state)
{
    uint32_t x = *state; /* xorshift32: never 0 when seeded non-zero */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

/* The next chunk: 1 byte, 2 bytes, up to 16, or all the room there is; never past the input. */
static size_t chunk_size(uint32_t *rng, size_t avail, size_t left)
{
    uint32_t r = rng_next(rng);
    size_t k;

    switch (r & 3u) {
    case 0:
        k = 1;
        break;
    case 1:
        k = 2;
        break;
    case 2:
        k = 1 + (r >> 2) % 16;
        break;
    default:
        k = avail;
        break;
    }
    if (k > avail)
        k = avail;
    return k < left ? k : left;
}

/* ---- the reference splitter --------------------------------------------------------------- */

struct ref {
    const uint8_t *in;
    size_t n;
    size_t pos; /* first byte of the next line */
};

enum { REF_END = 0, REF_TERMINATED = 1, REF_UNTERMINATED = 2 };

/* The next line of the stream: sets *start and *len, moves past its ending. Returns
 * REF_TERMINATED, REF_UNTERMINATED (the last line, no ending), or REF_END. */
static int ref_next(struct ref *ref, size_t *start, size_t *len)
{
    size_t i = ref->pos;

    if (i >= ref->n)
        return REF_END;
    *start = i;
    while (i < ref->n && ref->in[i] != '\n' && ref->in[i] != '\r')
        i++;
    *len = i - *start;
    if (i == ref->n) {
        ref->pos = i;
        return REF_UNTERMINATED;
    }
    if (ref->in[i] == '\r' && i + 1 < ref->n && ref->in[i + 1] == '\n')
        i++; /* CRLF is one ending */
    ref->pos = i + 1;
    return REF_TERMINATED;
}

/* A line the code under test returned must be the reference's next line (kind: the
 * reference's verdict expected, or -1 for either). */
static void expect_line(struct ref *ref, const char *line, size_t len, size_t max_line, int kind)
{
    size_t start = 0, ref_len = 0;
    int rc = ref_next(ref, &start, &ref_len);

    CHECK(rc != REF_END);
    CHECK(kind < 0 || rc == kind);
    CHECK(len <= max_line);
    CHECK(len == ref_len);
    CHECK(memcmp(line, ref->in + start, len) == 0);
    CHECK(line[len] == '\0');
    CHECK(memchr(line, '\n', len) == NULL && memchr(line, '\r', len) == NULL);
}

/* EMSGSIZE is right only when the next line really is longer than the cap. */
static void expect_overlong(struct ref *ref, size_t max_line)
{
    size_t start = 0, len = 0;

    CHECK(ref_next(ref, &start, &len) != REF_END);
    CHECK(len > max_line);
}

/* ---- mode 1: the splitter, fed by hand as an event loop feeds it ----------------------------- */

static void run_splitter(struct ref *ref, size_t max_line, uint32_t *rng)
{
    struct io_lines lines;
    size_t fed = 0;
    char *line;
    size_t len;

    io_lines_init(&lines, max_line);
    for (;;) {
        int rc;
        while ((rc = io_lines_next(&lines, &line, &len)) == 1)
            expect_line(ref, line, len, max_line, REF_TERMINATED);
        if (rc < 0) {
            CHECK(errno == EMSGSIZE);
            expect_overlong(ref, max_line);
            io_lines_free(&lines);
            return;
        }
        CHECK(io_lines_pending(&lines) <= max_line + 1);
        if (fed == ref->n)
            break;
        if (rng_next(rng) % 4 == 0) /* an event loop drops idle buffers now and then */
            io_lines_release_if_idle(&lines);
        size_t avail = 0;
        char *space = io_lines_space(&lines, &avail);
        CHECK(space != NULL);
        CHECK(avail > 0); /* no line is too long yet, so there is room */
        size_t k = chunk_size(rng, avail, ref->n - fed);
        memcpy(space, ref->in + fed, k);
        io_lines_commit(&lines, k);
        fed += k;
    }
    if (io_lines_rest(&lines, &line, &len) == 1)
        expect_line(ref, line, len, max_line, REF_UNTERMINATED);
    CHECK(io_lines_rest(&lines, &line, &len) == 0);
    size_t start, ref_len;
    CHECK(ref_next(ref, &start, &ref_len) == REF_END);
    io_lines_free(&lines);
}

/* ---- mode 2: io_read_line() on a pipe, one chunk written whenever the reader runs dry ----------
 */

static void run_reader(struct ref *ref, size_t max_line, uint32_t *rng)
{
    struct io_reader reader;
    int fds[2];
    size_t fed = 0;

    if (pipe(fds) < 0)
        return; /* out of descriptors is not the code's fault */
    io_reader_init(&reader, fds[0], max_line);
    reader.timeout_ms = 0; /* never block: ETIMEDOUT means "write the next chunk" */
    for (;;) {
        char *line;
        size_t len;
        int rc = io_read_line(&reader, &line, &len);
        if (rc == 1) {
            expect_line(ref, line, len, max_line, -1);
            continue;
        }
        if (rc == 0) {
            size_t start, ref_len;
            CHECK(fds[1] < 0); /* EOF only after we closed the pipe */
            CHECK(ref_next(ref, &start, &ref_len) == REF_END);
            break;
        }
        if (errno == EMSGSIZE) {
            expect_overlong(ref, max_line);
            break;
        }
        CHECK(errno == ETIMEDOUT && fds[1] >= 0);
        if (fed == ref->n) {
            close(fds[1]);
            fds[1] = -1;
            continue;
        }
        size_t k = chunk_size(rng, ref->n - fed, ref->n - fed);
        CHECK(write(fds[1], ref->in + fed, k) == (ssize_t)k); /* far below a pipe's capacity */
        fed += k;
    }
    io_reader_free(&reader);
    close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HEADER)
        return 0;
    /* Caps 0..39 most of the time (lines hit them), else 64..4096. */
    size_t max_line = data[0] < 200 ? data[0] % 40u : (size_t)64 << (data[0] % 7u);
    uint32_t rng = ((uint32_t)data[1] << 8 | data[2]) + 1u;
    struct ref ref = {data + HEADER, size - HEADER, 0};

    if (data[3] % 8 == 0)
        run_reader(&ref, max_line, &rng);
    else
        run_splitter(&ref, max_line, &rng);
    return 0;
}
