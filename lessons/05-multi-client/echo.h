/* echo.h - lesson 03's echo conversation, for the threads and for the processes.
 *
 * echo-multi-server runs it in a thread per client, echo-fork-server in a process per
 * client: the conversation is the same code, only the way it is run differs.
 */
#ifndef ECHO_H
#define ECHO_H

/* echo_serve - send back every byte fd sends, line or not, until the client closes its side.
 * Returns 0 at EOF, or -1 with errno set (ECONNRESET or EPIPE: the client vanished; EINTR: a
 * stop was requested). The caller owns and closes fd. */
int echo_serve(int fd);

/* echo_report - say on stderr why echo_serve() failed for peer ("127.0.0.1:54321"), given its
 * errno err; nothing for a client that vanished or a stop: that is no news. */
void echo_report(const char *peer, int err);

#endif
