/* quotes.c - the quote list: built in, or read from a file; handed out in turn. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quotes.h"

/* The kit's own one-liners (the tutorial's file is not ours to copy). */
static const char *const builtin[] = {
    "A datagram is a letter, not a phone call.",
    "UDP keeps your message boundaries and nothing else.",
    "No reply is an answer too: try again, but not for ever.",
    "Every datagram travels alone.",
    "Tag your requests, or a late reply will fool you.",
    "Loopback never loses a packet, until it does.",
    "Multicast: one send, every listener.",
};

enum { FILE_MAX = 16 << 20 }; /* a quote file larger than 16 MiB is a mistake */

int quotes_builtin(struct quotes *q)
{
    size_t n = sizeof builtin / sizeof builtin[0];

    memset(q, 0, sizeof *q);
    q->list = calloc(n, sizeof *q->list);
    if (q->list == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        q->list[i] = (struct quote){.text = builtin[i], .len = strlen(builtin[i])};
    q->count = n;
    return 0;
}

/* ---- reading a file ------------------------------------------------------------------ */

/* The whole file at path into a new buffer; sets *len. Returns NULL with err set. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, used = 0;

    if (f == NULL) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (used == cap) {
            size_t bigger_cap = cap > 0 ? cap * 2 : 4096;
            char *bigger = cap < FILE_MAX ? realloc(buf, bigger_cap) : NULL;
            if (bigger == NULL) {
                snprintf(err, errlen, "cannot read %s: %s", path,
                         cap >= FILE_MAX ? "16 MiB or more" : strerror(ENOMEM));
                break;
            }
            buf = bigger;
            cap = bigger_cap;
        }
        size_t n = fread(buf + used, 1, cap - used, f);
        used += n;
        if (n == 0 && ferror(f)) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (n == 0) { /* end of file */
            fclose(f);
            *len = used;
            return buf;
        }
    }
    fclose(f);
    free(buf);
    return NULL;
}

/* Call fn on each line of buf (its ending stripped: LF, or CR LF), with its number from 1.
 * Stops and returns -1 when fn does. */
static int each_line(const char *buf, size_t len,
                     int (*fn)(void *ctx, const char *line, size_t n, size_t number), void *ctx)
{
    size_t start = 0, number = 0;

    while (start < len) {
        const char *nl = memchr(buf + start, '\n', len - start);
        size_t end = nl != NULL ? (size_t)(nl - buf) : len, n = end - start;

        if (n > 0 && buf[start + n - 1] == '\r')
            n--;
        if (fn(ctx, buf + start, n, ++number) < 0)
            return -1;
        start = end + 1;
    }
    return 0;
}

struct loading {
    struct quotes *q;
    const char *path;
    char *err;
    size_t errlen;
};

/* Check one line; with q->list allocated, also store it. Blank lines are no quotes. */
static int take_line(void *ctx, const char *line, size_t n, size_t number)
{
    struct loading *l = ctx;

    if (n > QUOTE_MAX) {
        snprintf(l->err, l->errlen, "%s line %zu: %zu bytes, more than a datagram carries (%d)",
                 l->path, number, n, QUOTE_MAX);
        return -1;
    }
    if (n == 0)
        return 0;
    if (l->q->list != NULL)
        l->q->list[l->q->count] = (struct quote){.text = line, .len = n};
    l->q->count++;
    return 0;
}

int quotes_load(struct quotes *q, const char *path, char *err, size_t errlen)
{
    struct loading l = {.q = q, .path = path, .err = err, .errlen = errlen};
    size_t len = 0;

    memset(q, 0, sizeof *q);
    q->storage = read_file(path, &len, err, errlen);
    if (q->storage == NULL)
        return -1;
    /* Two passes: count and check, then store into a list of the right size. */
    if (each_line(q->storage, len, take_line, &l) < 0)
        goto fail;
    if (q->count == 0) {
        snprintf(err, errlen, "%s holds no quotes", path);
        goto fail;
    }
    q->list = calloc(q->count, sizeof *q->list);
    if (q->list == NULL) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(ENOMEM));
        goto fail;
    }
    q->count = 0;
    each_line(q->storage, len, take_line, &l);
    return 0;
fail:
    quotes_free(q);
    return -1;
}

const struct quote *quotes_next(struct quotes *q, size_t *number)
{
    const struct quote *quote = &q->list[q->next];

    *number = q->next + 1;
    q->next = (q->next + 1) % q->count;
    return quote;
}

void quotes_free(struct quotes *q)
{
    free(q->list);
    free(q->storage);
    memset(q, 0, sizeof *q);
}
