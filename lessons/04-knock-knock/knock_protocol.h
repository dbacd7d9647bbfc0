/* knock_protocol.h - the Knock Knock protocol as a pure state machine: lines in, lines out.
 *
 * This is the tutorial's KnockKnockProtocol with the transport taken out: no sockets, no
 * reads, no writes, no heap. A server (blocking, threaded or event-driven) owns one
 * struct kk_protocol per connection, sends kk_greeting() first, then sends kk_reply() for
 * every line the client sends, each followed by "\n", and closes after the reply for which
 * *done became true ("Bye.").
 *
 * Every string returned is static and lives for the whole program (the reprimands that
 * name a clue are spelled out in a table, one per joke), so a caller may keep the pointer
 * and write it later, as an event loop does when the socket is not writable yet.
 *
 * Lines are given without their ending (LF, CRLF or a lone CR already stripped) and may
 * hold any bytes, NUL included: matching uses len, is ASCII case-insensitive and exact
 * in length ("Who's there" without '?', or with a trailing space, does not match).
 */
#ifndef KK_KNOCK_PROTOCOL_H
#define KK_KNOCK_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>

/* Longest client line a Knock Knock server accepts (ending excluded); longer ones close
 * the connection. */
enum { KK_MAX_LINE = 4096 };

/* Where the conversation stands; the names are the Java ones. */
enum kk_state {
    KK_WAITING,    /* nothing said yet: the server speaks first */
    KK_SENT_KNOCK, /* "Knock! Knock!" sent: waiting for "Who's there?" */
    KK_SENT_CLUE,  /* the clue sent: waiting for "<clue> who?" */
    KK_ANOTHER,    /* the punch line sent: waiting for y or n */
    KK_DONE        /* "Bye." sent: the conversation is over */
};

struct kk_protocol {
    enum kk_state state;
    unsigned joke; /* index of the current joke, 0..4; advances on "y", wraps to 0 */
};

/* kk_init - a fresh conversation: state KK_WAITING, first joke. */
void kk_init(struct kk_protocol *kk);

/* kk_greeting - the server's first line, "Knock! Knock!"; moves to KK_SENT_KNOCK.
 * Returns a static string without "\n". */
const char *kk_greeting(struct kk_protocol *kk);

/* kk_reply - the server's answer to one client line of len bytes (ending stripped); sets
 * *done to true when the answer is "Bye." and the connection should close, else false.
 * Returns a static string without "\n", never NULL. (In KK_WAITING it answers as
 * kk_greeting does, as Java's processInput did; after KK_DONE it answers "Bye." again.) */
const char *kk_reply(struct kk_protocol *kk, const char *line, size_t len, bool *done);

#endif
