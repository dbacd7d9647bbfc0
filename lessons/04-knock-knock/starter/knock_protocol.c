/* knock_protocol.c - the tutorial's KnockKnockProtocol, state by state, without I/O.
 *
 * YOUR TURN: this is the starter. The jokes and the texts are here, byte for byte as the
 * tutorial has them, and so is kk_reply(), which hands each line to the function of the
 * current state. The state machine is yours to write, TODO(1) to TODO(5), in that order;
 * knock_protocol.h says what each function must do. After each, `make test-yours` shows
 * which stage passes now. The README's "Your turn" lists them.
 *
 * A stub marks what it does not use yet with (void)x, so that it builds without a
 * warning: delete those lines as you write the code that uses them.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "knock_protocol.h"

/* ---- the jokes ------------------------------------------------------------- */

/* One joke: what the server says, what the client must answer, and the texts that follow.
 * The reprimand is spelled out (not built at run time) so every reply is a static string. */
struct joke {
    const char *clue;
    const char *who;       /* the expected answer: "<clue> who?" */
    const char *punchline; /* the answer and the question, as the Java code joined them */
    const char *reprimand; /* the reply to any other answer */
};

static const struct joke jokes[] = {
    {"Turnip", "Turnip who?", "Turnip the heat, it's cold in here! Want another? (y/n)",
     "You're supposed to say \"Turnip who?\"! Try again. Knock! Knock!"},
    {"Little Old Lady", "Little Old Lady who?",
     "I didn't know you could yodel! Want another? (y/n)",
     "You're supposed to say \"Little Old Lady who?\"! Try again. Knock! Knock!"},
    {"Atch", "Atch who?", "Bless you! Want another? (y/n)",
     "You're supposed to say \"Atch who?\"! Try again. Knock! Knock!"},
    {"Who", "Who who?", "Is there an owl in here? Want another? (y/n)",
     "You're supposed to say \"Who who?\"! Try again. Knock! Knock!"},
    {"Who", "Who who?", "Is there an echo in here? Want another? (y/n)",
     "You're supposed to say \"Who who?\"! Try again. Knock! Knock!"},
};

enum { NUM_JOKES = sizeof jokes / sizeof jokes[0] };

static const char knock[] = "Knock! Knock!";
static const char whos_there[] = "Who's there?";
static const char not_whos_there[] =
    "You're supposed to say \"Who's there?\"! Try again. Knock! Knock!";
static const char bye[] = "Bye.";

/* ---- matching ---------------------------------------------------------------- */

/* True when line[0, len) equals want, ASCII case-insensitively and with the same length
 * (Java's equalsIgnoreCase). A NUL inside line never matches: want holds none. */
static bool matches(const char *line, size_t len, const char *want)
{
    /* TODO(2): the whole line, not a prefix: false unless len == strlen(want); then compare
     * byte by byte, an ASCII letter 'A'..'Z' counting as its lowercase (tolower() would
     * depend on the locale, and line may hold any byte). README: "The protocol".
     * Checked by: stage 1, stage 2. */
    (void)line;
    (void)len;
    (void)want;
    return false;
}

/* ---- the state machine ----------------------------------------------------------- */

void kk_init(struct kk_protocol *kk)
{
    kk->state = KK_WAITING;
    kk->joke = 0;
}

const char *kk_greeting(struct kk_protocol *kk)
{
    /* TODO(1): the server speaks first: move to KK_SENT_KNOCK (now it waits for "Who's
     * there?") and return knock. README: "The protocol". Checked by: stage 1. */
    (void)kk;
    (void)knock;
    return "TODO(1): the greeting";
}

/* After "Knock! Knock!": the clue, or the reprimand and the same wait. */
static const char *after_knock(struct kk_protocol *kk, const char *line, size_t len)
{
    /* TODO(3): "Who's there?" (matches(line, len, whos_there)) gets the clue of the current
     * joke, jokes[kk->joke].clue, and moves to KK_SENT_CLUE; anything else gets
     * not_whos_there, and the state stays. README: "The protocol".
     * Checked by: stage 1, stage 2. */
    (void)line;
    (void)len;
    (void)matches;
    (void)whos_there;
    (void)not_whos_there;
    (void)jokes[kk->joke].clue;
    return "TODO(3): after Knock! Knock!";
}

/* After the clue: the punch line, or the reprimand and the same joke from the start. */
static const char *after_clue(struct kk_protocol *kk, const char *line, size_t len)
{
    /* TODO(4): the joke's own answer, jokes[kk->joke].who ("Turnip who?"), gets its punch
     * line and moves to KK_ANOTHER; anything else gets that joke's reprimand, which ends in
     * "Knock! Knock!": back to KK_SENT_KNOCK, the same joke. README: "The protocol".
     * Checked by: stage 1, stage 2. */
    (void)line;
    (void)len;
    (void)jokes[kk->joke].who;
    (void)jokes[kk->joke].punchline;
    (void)jokes[kk->joke].reprimand;
    return "TODO(4): after the clue";
}

/* After the punch line: "y" or "Y" gives the next joke; anything else ends it. */
static const char *after_punchline(struct kk_protocol *kk, const char *line, size_t len, bool *done)
{
    /* TODO(5): "y" (the whole line, any case) moves to the next joke, the fifth wrapping to
     * the first (NUM_JOKES), back in KK_SENT_KNOCK, and returns knock; anything else, "yes"
     * too, moves to KK_DONE, sets *done and returns bye. README: "The protocol".
     * Checked by: stage 1, stage 2. */
    (void)kk;
    (void)line;
    (void)len;
    (void)bye;
    *done = true;
    return "TODO(5): after the punch line";
}

const char *kk_reply(struct kk_protocol *kk, const char *line, size_t len, bool *done)
{
    *done = false;
    switch (kk->state) {
    case KK_WAITING:
        return kk_greeting(kk);
    case KK_SENT_KNOCK:
        return after_knock(kk, line, len);
    case KK_SENT_CLUE:
        return after_clue(kk, line, len);
    case KK_ANOTHER:
        return after_punchline(kk, line, len, done);
    case KK_DONE:
        break;
    }
    *done = true;
    return bye;
}
