/* multi.h - what every server of this lesson shares, threads or processes.
 *
 * The command line [-b ADDR] [--max-clients N] [-q] PORT, the listening line, the connection
 * log, the accept loop's errors, and the one line a client gets when the server is full.
 * mt_server.c (a thread per client) and echo-fork-server.c (a process per client) differ
 * only in what they do with a client once it is accepted.
 */
#ifndef MULTI_H
#define MULTI_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

enum { MULTI_DEFAULT_MAX_CLIENTS = 1024, MULTI_LARGEST_MAX_CLIENTS = 1000000 };

/* How long a refused client may take to read the busy line and close (see multi_refuse). */
enum { MULTI_REFUSE_LINGER_MS = 200 };

struct multi_options {
    const char *addr; /* -b: where to listen (default 127.0.0.1) */
    const char *port;
    size_t max_clients; /* --max-clients: more are told "Server busy" */
    bool quiet;         /* -q: no connection events */
};

/* multi_parse_args - parse [-b ADDR] [--max-clients N] [-q] PORT into opt; prints the usage
 * and exits 0 for -h, exits 2 with what was wrong on bad usage. */
void multi_parse_args(int argc, char **argv, struct multi_options *opt);

/* multi_listen - listen on opt's address and port and print "listening on ADDR:PORT",
 * flushed. Returns the listening fd; dies ("cannot listen on ...") on failure. */
int multi_listen(const struct multi_options *opt);

/* multi_log - one connection event on stderr ("closed 127.0.0.1:54321" and an optional note),
 * unless -q. One stdio call per line: lines from several threads or processes never mix. */
void multi_log(const struct multi_options *opt, const char *event, const char *peer,
               const char *note);

/* multi_accept - wait (stop-aware) for the next client and accept it, filling peer. An error
 * that concerns that client only is logged and the next one accepted; a shortage (EMFILE...)
 * is said once and retried every NET_ACCEPT_RETRY_MS. Returns the new fd, or -1 once a stop
 * was requested. Dies on any other error. */
int multi_accept(int listen_fd, struct sockaddr_storage *peer);

/* multi_refuse - tell a client the server is full ("Server busy, try again later.") and close
 * fd, without a reset that could destroy the line. */
void multi_refuse(int fd);

#endif
