/* quotes.h - the quotes a server hands out: a built-in list or the lines of a file, cycling.
 *
 * The tutorial's QuoteServer reads one-liners.txt, sends the date once the file runs out,
 * and stops. Ours cycles through the lines for ever: a server that ends after N requests
 * is a demo, not a service.
 */
#ifndef QUOTES_H
#define QUOTES_H

#include <stddef.h>

struct quote {
    const char *text; /* not NUL-terminated: a line may hold any byte but LF */
    size_t len;
};

struct quotes {
    struct quote *list;
    size_t count;
    size_t next;   /* index of the quote quotes_next() returns next */
    char *storage; /* the file's bytes, when loaded from a file */
};

/* A quote fits in one datagram over IPv6 (65,527 bytes); over IPv4 one of more than 65,507
 * bytes, its tag included, cannot be sent ("Message too long"). */
enum { QUOTE_MAX = 65527 };

/* quotes_builtin - the built-in list. Returns 0, or -1 with errno ENOMEM. */
int quotes_builtin(struct quotes *q);

/* quotes_load - every non-empty line of the file at path (LF or CRLF endings, at most
 * QUOTE_MAX bytes each). Returns 0, or -1 with err set ("cannot read FILE: reason",
 * "FILE line N: ...", "FILE holds no quotes"). */
int quotes_load(struct quotes *q, const char *path, char *err, size_t errlen);

/* quotes_next - the next quote, cycling; sets *number to its place in the list (from 1). */
const struct quote *quotes_next(struct quotes *q, size_t *number);

/* quotes_free - release everything quotes_builtin or quotes_load allocated. */
void quotes_free(struct quotes *q);

#endif
