/* quote_batch.h - quote-server --batch: many datagrams per system call (Linux only). */
#ifndef QUOTE_BATCH_H
#define QUOTE_BATCH_H

#include <stddef.h>

struct server;

/* serve_batch - answer requests with recvmmsg() and sendmmsg(), up to SERVE_BATCH datagrams
 * per call, until a stop is requested. Returns 0, or -1 with err set when waiting fails. */
int serve_batch(struct server *srv, char *err, size_t errlen);

#endif
