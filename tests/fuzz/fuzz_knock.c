/* fuzz_knock.c - libFuzzer target for lesson 04's Knock Knock state machine (knock_protocol.h).
 *
 * The input is a conversation: client lines separated by '\n' (a line may hold any other
 * byte, CR and NUL included). Each line is copied into a heap block of exactly its length,
 * with no terminating NUL, so AddressSanitizer stops any read past the end.
 *
 * The oracle is a second, independent model of the protocol, written from the text
 * (the tutorial's wording byte for byte): every reply must equal the model's, must be one
 * of the protocol's lines, and *done must be true exactly when the reply is "Bye.". An
 * input starting with 0xFF skips kk_greeting(), to check that a conversation that begins
 * with a client line is greeted all the same.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "knock_protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_knock: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* ---- the protocol's lines, from the issue ------------------------------------------------- */

enum { JOKES = 5, REPRIMAND_LEN = 128 };

static const char *const clues[JOKES] = {"Turnip", "Little Old Lady", "Atch", "Who", "Who"};
static const char *const answers[JOKES] = {
    "Turnip the heat, it's cold in here! Want another? (y/n)",
    "I didn't know you could yodel! Want another? (y/n)",
    "Bless you! Want another? (y/n)",
    "Is there an owl in here? Want another? (y/n)",
    "Is there an echo in here? Want another? (y/n)",
};
static const char knock[] = "Knock! Knock!";
static const char bye[] = "Bye.";
static const char whos_there_reprimand[] =
    "You're supposed to say \"Who's there?\"! Try again. Knock! Knock!";

/* "<clue> who?" and its reprimand, built once. */
static char who[JOKES][REPRIMAND_LEN];
static char reprimands[JOKES][REPRIMAND_LEN];

static void build_texts(void)
{
    static bool built;

    if (built)
        return;
    for (int j = 0; j < JOKES; j++) {
        snprintf(who[j], sizeof who[j], "%s who?", clues[j]);
        snprintf(reprimands[j], sizeof reprimands[j],
                 "You're supposed to say \"%s\"! Try again. Knock! Knock!", who[j]);
    }
    built = true;
}

/* Every line a Knock Knock server may send. */
static bool is_protocol_line(const char *reply)
{
    if (strcmp(reply, knock) == 0 || strcmp(reply, bye) == 0 ||
        strcmp(reply, whos_there_reprimand) == 0)
        return true;
    for (int j = 0; j < JOKES; j++)
        if (strcmp(reply, clues[j]) == 0 || strcmp(reply, answers[j]) == 0 ||
            strcmp(reply, reprimands[j]) == 0)
            return true;
    return false;
}

/* ---- the model -------------------------------------------------------------------------- */

enum model_state { M_KNOCKED, M_CLUE_SENT, M_ANSWERED, M_OVER };

struct model {
    enum model_state state;
    int joke;
};

/* Exact length, ASCII case-insensitive, and no NUL inside (the expected texts hold none). */
static bool same_text(const char *line, size_t len, const char *want)
{
    char copy[REPRIMAND_LEN];

    if (len != strlen(want) || memchr(line, '\0', len) != NULL)
        return false;
    memcpy(copy, line, len);
    copy[len] = '\0';
    return strcasecmp(copy, want) == 0;
}

/* What the server must answer to line; sets *over when the answer ends the talk. */
static const char *model_reply(struct model *m, const char *line, size_t len, bool *over)
{
    *over = false;
    switch (m->state) {
    case M_KNOCKED:
        if (!same_text(line, len, "Who's there?"))
            return whos_there_reprimand;
        m->state = M_CLUE_SENT;
        return clues[m->joke];
    case M_CLUE_SENT:
        m->state = M_KNOCKED;
        if (!same_text(line, len, who[m->joke]))
            return reprimands[m->joke];
        m->state = M_ANSWERED;
        return answers[m->joke];
    case M_ANSWERED:
        if (len == 1 && (line[0] == 'y' || line[0] == 'Y')) {
            m->joke = (m->joke + 1) % JOKES;
            m->state = M_KNOCKED;
            return knock;
        }
        break;
    case M_OVER:
        break;
    }
    m->state = M_OVER;
    *over = true;
    return bye;
}

/* ---- one conversation ------------------------------------------------------------------- */

/* Feed one line, in a block of exactly len bytes, and compare with the model. */
static void exchange(struct kk_protocol *kk, struct model *m, const uint8_t *bytes, size_t len)
{
    char *line = malloc(len > 0 ? len : 1);
    bool done = true, over;

    CHECK(line != NULL);
    if (len > 0)
        memcpy(line, bytes, len);
    const char *reply = kk_reply(kk, line, len, &done);
    const char *want = model_reply(m, line, len, &over);
    free(line);
    CHECK(reply != NULL);
    CHECK(is_protocol_line(reply));
    if (strcmp(reply, want) != 0) {
        fprintf(stderr, "fuzz_knock: replied \"%s\", the protocol says \"%s\"\n", reply, want);
        abort();
    }
    CHECK(done == over);
    CHECK(done == (strcmp(reply, bye) == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kk_protocol kk;
    struct model m = {M_KNOCKED, 0};
    size_t pos = 0;

    build_texts();
    kk_init(&kk);
    if (size > 0 && data[0] == 0xFF) { /* no greeting: the first line is answered with it */
        bool done = true;
        const char *reply = kk_reply(&kk, "", 0, &done);
        CHECK(reply != NULL && strcmp(reply, knock) == 0 && !done);
        pos = 1;
    } else {
        const char *greeting = kk_greeting(&kk);
        CHECK(greeting != NULL && strcmp(greeting, knock) == 0);
    }
    while (pos < size) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl != NULL ? (size_t)(nl - (data + pos)) : size - pos;
        exchange(&kk, &m, data + pos, len);
        pos += len + 1;
    }
    return 0;
}
