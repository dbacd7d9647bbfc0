/* stream.c - each connection's request stream: generated on the fly, checked on the fly. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

/* A prime period: requests k and k + 1 start at different table offsets, and so do the same
 * request number on different connections (unless they collide by chance, 1 in 65521). */
enum { TABLE_PERIOD = 65521, TAG_DIGITS = 8 };

static const char digits[] = "0123456789abcdefghijklmnopqrstuv";

int stream_init(struct stream *s, size_t size)
{
    uint64_t x = 0x9e3779b97f4a7c15u; /* a fixed seed: every run sends the same bytes */

    s->size = size;
    s->tag_len = size - 1 < TAG_DIGITS ? size - 1 : TAG_DIGITS;
    s->table_len = TABLE_PERIOD + size;
    s->table = malloc(s->table_len);
    if (s->table == NULL) {
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; i < s->table_len; i++) {
        x ^= x << 13; /* xorshift64: fast, and good enough to make bytes unpredictable */
        x ^= x >> 7;
        x ^= x << 17;
        s->table[i] = (char)('!' + (x >> 32) % ('~' - '!' + 1)); /* printable, never '\n' */
    }
    return 0;
}

void stream_free(struct stream *s)
{
    free(s->table);
    s->table = NULL;
}

/* ---- one request, in at most three pieces ------------------------------- */

/* The piece of request k (on connection conn) that holds offset r: sets *piece to its bytes
 * from r on and returns how many there are. tag is scratch space for the sequence number. */
static size_t piece_at(const struct stream *s, uint32_t conn, uint64_t k, size_t r,
                       char tag[TAG_DIGITS], const char **piece)
{
    size_t body = s->size - 1, tag_len = s->tag_len; /* body: all but the '\n' */

    if (r >= body) {
        *piece = "\n";
        return 1;
    }
    if (r >= tag_len) { /* the table, from an offset set by (conn, k) */
        uint64_t base = ((uint64_t)conn * 7919u + k * 104729u) % TABLE_PERIOD;
        *piece = s->table + base + (r - tag_len);
        return body - r;
    }
    for (size_t i = 0; i < tag_len; i++) /* the sequence number, most significant digit first */
        tag[i] = digits[(k >> (5 * (tag_len - 1 - i))) & 31];
    *piece = tag + r;
    return tag_len - r;
}

void stream_fill(const struct stream *s, uint32_t conn, uint64_t pos, char *buf, size_t len)
{
    char tag[TAG_DIGITS];

    while (len > 0) {
        const char *piece;
        size_t n = piece_at(s, conn, pos / s->size, (size_t)(pos % s->size), tag, &piece);
        if (n > len)
            n = len;
        memcpy(buf, piece, n);
        buf += n;
        pos += n;
        len -= n;
    }
}

size_t stream_verify(const struct stream *s, uint32_t conn, uint64_t pos, const char *buf,
                     size_t len)
{
    char tag[TAG_DIGITS];
    size_t done = 0;

    while (done < len) {
        const char *piece;
        size_t n = piece_at(s, conn, pos / s->size, (size_t)(pos % s->size), tag, &piece);
        if (n > len - done)
            n = len - done;
        if (memcmp(buf + done, piece, n) != 0) { /* rare: find the exact byte */
            size_t i = 0;
            while (buf[done + i] == piece[i])
                i++;
            return done + i;
        }
        done += n;
        pos += n;
    }
    return len;
}

char stream_byte(const struct stream *s, uint32_t conn, uint64_t pos)
{
    char c;

    stream_fill(s, conn, pos, &c, 1);
    return c;
}

int stream_sequence(const struct stream *s, const char *buf, size_t len, uint64_t *k)
{
    uint64_t value = 0;

    if (len < s->tag_len)
        return -1;
    for (size_t i = 0; i < s->tag_len; i++) {
        const char *digit = buf[i] != '\0' ? strchr(digits, buf[i]) : NULL;
        if (digit == NULL)
            return -1;
        value = value << 5 | (uint64_t)(digit - digits);
    }
    *k = value;
    return 0;
}
