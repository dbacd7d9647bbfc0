/* kk-protocol - the Knock Knock protocol without a network: your lines in, its lines out.
 *
 * It prints the server's first line, then one reply for every line read from stdin, and
 * stops after "Bye.". Because knock_protocol.c does no I/O, this is the whole program:
 * the same state machine kk-server drives over a socket, driven here by a terminal.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "diag.h"
#include "io.h"
#include "knock_protocol.h"

static const char usage[] = "< CLIENT-LINES";

static void parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;

    opterr = 0; /* our own message and the usage line, not getopt's message */
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c != 'h')
            die_bad_option(usage, c, argv, longopts);
        diag_print_usage(usage);
        exit(EXIT_SUCCESS);
    }
    args_need(argc, argv, "", usage);
}

/* Print one server line, flushed so a terminal or a pipe sees it at once. */
static void say(const char *text)
{
    puts(text);
    fflush(stdout);
}

/* Answer every stdin line until "Bye." or the end of input. Returns the exit status. */
static int converse(struct kk_protocol *kk, struct io_reader *input)
{
    bool done = false;
    char *line;
    size_t len;
    int rc = 1;

    say(kk_greeting(kk));
    while (!done && (rc = io_read_line(input, &line, &len)) > 0)
        say(kk_reply(kk, line, len, &done));
    if (rc < 0 && errno == EMSGSIZE) {
        diag_warn("input: line longer than %d bytes", KK_MAX_LINE);
        return EXIT_RUNTIME;
    }
    if (rc < 0) {
        diag_warn("input:");
        return EXIT_RUNTIME;
    }
    return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
    struct kk_protocol kk;
    struct io_reader input;
    int status;

    diag_set_progname(argv[0]);
    parse_args(argc, argv);
    kk_init(&kk);
    io_reader_init(&input, STDIN_FILENO, KK_MAX_LINE);
    status = converse(&kk, &input);
    io_reader_free(&input);
    return status;
}
