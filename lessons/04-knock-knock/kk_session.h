/* kk_session.h - one Knock Knock conversation over a connected, blocking socket.
 *
 * The transport half of the tutorial's KnockKnockServer: it reads lines, asks the
 * protocol (knock_protocol.h) what to answer and writes the answers. kk-server runs it
 * for one client after another; kk-multi-server (lesson 05) runs it in a thread per client.
 */
#ifndef KK_SESSION_H
#define KK_SESSION_H

/* kk_session_run - greet, then answer every line until "Bye." or the client leaves; the
 * caller owns and closes fd. Returns 0 when the conversation ended (after "Bye.", or the
 * client closed its side), or -1 with errno set: EMSGSIZE for a line longer than
 * KK_MAX_LINE, ECONNRESET or EPIPE when the client vanished, EINTR when a stop was
 * requested (see sig.h). */
int kk_session_run(int fd);

/* kk_session_report - say on stderr why a conversation with peer ("127.0.0.1:54321") failed,
 * given kk_session_run's errno err: one line for a line too long or an unexpected error;
 * nothing for a client that left early (ECONNRESET, EPIPE) or a stop (EINTR). */
void kk_session_report(const char *peer, int err);

#endif
