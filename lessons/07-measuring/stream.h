/* stream.h - the bytes each connection sends, made so that every echoed byte can be checked.
 *
 * Connection c sends an endless stream cut into requests of `size` bytes. Request k is its
 * sequence number k as up to 8 base-32 digits ("0000000b"), then bytes of a fixed table of
 * random printable characters starting at an offset that depends on c and k, then '\n'. So a
 * byte that is altered, lost, duplicated or reordered, or a request answered on the wrong
 * connection, shows up as a difference at a known offset. Nothing is stored per request: any
 * stretch of any connection's stream is regenerated from (c, offset), for sending and for
 * checking alike. Requests are lines without '\r', so line-based echo servers work too.
 */
#ifndef LOAD_STREAM_H
#define LOAD_STREAM_H

#include <stddef.h>
#include <stdint.h>

enum { STREAM_MAX_SIZE = 1 << 20 }; /* the largest request, in bytes */

struct stream {
    size_t size;    /* bytes per request, '\n' included */
    size_t tag_len; /* digits of the sequence number at its start (fewer in tiny requests) */
    char *table;    /* the random printable characters, table_len bytes */
    size_t table_len;
};

/* stream_init - a stream of requests of size bytes (1..STREAM_MAX_SIZE). Returns 0, or -1 with
 * errno ENOMEM. */
int stream_init(struct stream *s, size_t size);

/* stream_free - release the table. */
void stream_free(struct stream *s);

/* stream_fill - write len bytes of connection conn's stream, from offset pos, into buf. */
void stream_fill(const struct stream *s, uint32_t conn, uint64_t pos, char *buf, size_t len);

/* stream_verify - compare buf with connection conn's stream from offset pos. Returns the index
 * of the first byte that differs, or len when all len bytes are right. */
size_t stream_verify(const struct stream *s, uint32_t conn, uint64_t pos, const char *buf,
                     size_t len);

/* stream_byte - the byte at offset pos of connection conn's stream. */
char stream_byte(const struct stream *s, uint32_t conn, uint64_t pos);

/* stream_sequence - read the sequence number at the start of a request (its tag_len base-32
 * digits) into *k: the request's number modulo 32^tag_len. Returns 0, or -1 when buf (len
 * bytes) does not start with tag_len such digits. */
int stream_sequence(const struct stream *s, const char *buf, size_t len, uint64_t *k);

#endif
