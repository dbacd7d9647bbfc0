/* knock_protocol.c - the tutorial's KnockKnockProtocol, state by state, without I/O. */
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

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* True when line[0, len) equals want, ASCII case-insensitively and with the same length
 * (Java's equalsIgnoreCase). A NUL inside line never matches: want holds none. */
static bool matches(const char *line, size_t len, const char *want)
{
    if (len != strlen(want))
        return false;
    for (size_t i = 0; i < len; i++)
        if (ascii_lower((unsigned char)line[i]) != ascii_lower((unsigned char)want[i]))
            return false;
    return true;
}

/* ---- the state machine ----------------------------------------------------------- */

void kk_init(struct kk_protocol *kk)
{
    kk->state = KK_WAITING;
    kk->joke = 0;
}

const char *kk_greeting(struct kk_protocol *kk)
{
    kk->state = KK_SENT_KNOCK;
    return knock;
}

/* After "Knock! Knock!": the clue, or the reprimand and the same wait. */
static const char *after_knock(struct kk_protocol *kk, const char *line, size_t len)
{
    if (!matches(line, len, whos_there))
        return not_whos_there;
    kk->state = KK_SENT_CLUE;
    return jokes[kk->joke].clue;
}

/* After the clue: the punch line, or the reprimand and the same joke from the start. */
static const char *after_clue(struct kk_protocol *kk, const char *line, size_t len)
{
    const struct joke *joke = &jokes[kk->joke];

    if (!matches(line, len, joke->who)) {
        kk->state = KK_SENT_KNOCK;
        return joke->reprimand;
    }
    kk->state = KK_ANOTHER;
    return joke->punchline;
}

/* After the punch line: "y" or "Y" gives the next joke; anything else ends it. */
static const char *after_punchline(struct kk_protocol *kk, const char *line, size_t len, bool *done)
{
    if (!matches(line, len, "y")) {
        kk->state = KK_DONE;
        *done = true;
        return bye;
    }
    kk->joke = (kk->joke + 1) % NUM_JOKES;
    kk->state = KK_SENT_KNOCK;
    return knock;
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
