#!/usr/bin/env bats
# tests/06-event-loop-kk.bats - lesson 06: kk-event-server, lesson 04's Knock Knock on the
# epoll loop, in stages numbered on from echo-event-server's (06-event-loop-epoll.bats, 8 to
# 14): a joke per connection (15), lines in any packets (16), each client its own
# conversation (17), ending a conversation (18); then make bench runs (19). The Knock Knock
# checks shared with lessons 04 and 05 are in lib/kk_tests.bash.

load test_helper
load lib/kk_tests
load lib/echo_server_tests
load lib/event_loop_tests

# shellcheck disable=SC2034 # read by lib/kk_tests.bash and lib/event_loop_tests.bash
KK_SERVER=kk-event-server
# shellcheck disable=SC2034
KK_SERVER_ARGS=(-q)
# shellcheck disable=SC2034
ECHO_SERVER=kk-event-server
# shellcheck disable=SC2034
ECHO_SERVER_ARGS=(-q)

setup() {
    ev_setup kk-event-server
}

teardown() {
    ev_teardown
}

# The hints of the Knock Knock checks.
KK_HINT_PROTOCOL="the conversation is lesson 04's: kk_init() for each new connection, kk_reply() for each line, each reply sent with its \"\\n\""
KK_HINT_LINES="a read brings any number of lines, or part of one: feed the bytes to the connection's line splitter (io_lines) and answer every complete line before reading again; keep the rest for the next read"
KK_HINT_OWN="each connection has its own conversation: its protocol state and line splitter live in its own block (struct kk_conn, ev_state()), never in a global; and no client may make the others wait"
KK_HINT_END="a conversation ends with \"Bye.\", the client's EOF or a reset: after \"Bye.\", send what is queued, half-close and linger (ev_close_when_flushed); after an EOF, answer what came, then close; a reset closes quietly"

# ---- stage 15: a joke per connection ------------------------------------------------------------

@test "stage 15: kk-event-server: says \"listening on 127.0.0.1:PORT\" at once, exits 0 on SIGTERM" { ev_test_starts; }
@test "stage 15: kk-event-server: -h prints usage; bad usage says what was wrong, then usage, exit 2" { ev_test_usage kk-event-server; }
@test "stage 15: kk-event-server: speaks first" {
    ev_hinted "the server speaks first: on_open sends \"Knock! Knock!\\n\" as soon as the client is accepted" "$EV_S_STATE" kk_test_greeting_first
}
@test "stage 15: kk-event-server: tells a whole joke" {
    ev_hinted "$KK_HINT_PROTOCOL; after \"Bye.\", close the connection" "$EV_S_STATE" kk_test_whole_joke
}
@test "stage 15: kk-event-server: kk-client prints the 37-line transcript" {
    ev_hinted "$KK_HINT_PROTOCOL" "$EV_S_STATE" kk_test_transcript_37_lines
}
@test "stage 15: kk-event-server: reprimands, a wrong clue, near misses, any case, only y: as lesson 04 answers" {
    ev_hinted "$KK_HINT_PROTOCOL; a line is its bytes and their count: it may hold a NUL" "$EV_S_STATE" \
        kk_test_whos_there_reprimand
    kk_test_clue_reprimand_restarts
    kk_test_near_misses
    kk_test_case_insensitive
    kk_test_yes_means_no
}

# ---- stage 16: lines in any packets ---------------------------------------------------------

@test "stage 16: kk-event-server: answers every line of one write, in order" {
    local input expected
    hint "$KK_HINT_LINES: bytes after the first line of a read are lines too" "$EV_S_STATE"
    # The 18 lines of the whole transcript in a single send: 19 answers, in order, then EOF.
    input=$(kk_transcript_input | sed 's/$/\\n/' | tr -d '\n')
    expected=$(kk_transcript_output | sed -n 's/^Server: \(.*\)$/\1\\n/p' | tr -d '\n')
    kk_start
    run kk_peer open a send a "$input" expect a "$expected" eof a
    assert_success
    stop_server
}
@test "stage 16: kk-event-server: answers a line sent one byte per write only at its end" {
    local steps=() i line="Who's there?"
    hint "$KK_HINT_LINES: a line that came in pieces is answered once, at its end" "$EV_S_STATE"
    for ((i = 0; i < ${#line}; i++)); do
        # Each byte alone, then 20 ms of silence: no answer may come before the "\n".
        steps+=(send a "${line:i:1}" silent a 0.02)
    done
    kk_start
    run kk_peer open a expect a "$KK_KNOCK" "${steps[@]}" send a '\n' expect a 'Turnip\n' \
        shut a eof a
    assert_success
    stop_server
}
@test "stage 16: kk-event-server: CRLF and lone CR end lines like LF" {
    ev_hinted "$KK_HINT_LINES; a line ends at LF, CRLF or a lone CR" "$EV_S_STATE" kk_test_line_endings
}
@test "stage 16: kk-event-server: wraps to the first joke after the fifth" {
    ev_hinted "$KK_HINT_LINES" "$EV_S_STATE" kk_test_wrap_to_first_joke
}
@test "stage 16: kk-event-server: closes on a 5000-byte line and serves the next client" {
    ev_hinted "a line longer than 4096 bytes closes that connection, with one line on stderr: give the splitter a limit of 4096 (KK_MAX_LINE), and when it says EMSGSIZE, say so and return -1" "$EV_S_WRONG" kk_test_long_line_closes
}
@test "stage 16: kk-event-server: accepts a line of exactly 4096 bytes" {
    ev_hinted "4096 bytes and the \"\\n\" is still a line: the limit counts the line without its ending" "$EV_S_WRONG" kk_test_line_of_4096_accepted
}

# ---- stage 17: each client its own conversation ----------------------------------------------------

@test "stage 17: kk-event-server: a silent client does not block another" {
    ev_hinted "$KK_HINT_OWN" "$EV_S_STATE" kk_test_silent_client_does_not_block
}
@test "stage 17: kk-event-server: 200 clients at once each complete a joke" {
    ev_hinted "$KK_HINT_OWN" "$EV_S_STATE" kk_test_200_concurrent_jokes
}
@test "stage 17: kk-event-server: a reset does not disturb the other clients" {
    ev_hinted "$KK_HINT_OWN; a reset ends only its own connection" "$EV_S_STATE" kk_test_reset_does_not_disturb_others
}
@test "stage 17: kk-event-server: --max-clients 2 turns the third client away" {
    ev_hinted "--max-clients N: client N+1 gets \"Server busy, try again later.\\n\" and the end of the stream, never the greeting; a client that leaves frees its slot" "$EV_S_RUN" kk_test_max_clients
}

# ---- stage 18: ending a conversation ------------------------------------------------------------------

@test "stage 18: kk-event-server: a half-close mid-joke gets its replies, then EOF" {
    ev_hinted "$KK_HINT_END" "$EV_S_WRONG" kk_test_eof_mid_joke
}
@test "stage 18: kk-event-server: a reset mid-joke is no error" {
    ev_hinted "$KK_HINT_END" "$EV_S_WRONG" kk_test_reset_mid_joke
}
@test "stage 18: kk-event-server: \"Bye.\" arrives although the client sent more than the server read" {
    ev_hinted "$KK_HINT_END: close() with the client's bytes unread sends a reset, which destroys \"Bye.\"" "$EV_S_WRONG" kk_test_bye_survives_unread_input
}
@test "stage 18: kk-event-server: after \"Bye.\" it waits at most about a second for the client to close" {
    ev_hinted "$KK_HINT_END: the linger has a limit (NET_LINGER_MS), on the loop's clock" "$EV_S_WRONG" kk_test_linger_is_bounded
}
@test "stage 18: kk-event-server: survives a client that resets before its greeting is sent (SIGPIPE)" { ev_test_sigpipe; }
@test "stage 18: kk-event-server: exits 0 within 2 s on SIGTERM with 50 idle clients" {
    ev_hinted "SIGTERM with clients connected: close them all, exit 0, at once" "$EV_S_LOOP" kk_test_sigterm_with_50_idle
}

# ---- stage 19: make bench (a measurement: its figures are not judged here, only that it runs) ----

@test "stage 19: make bench: a short run prints every figure, and the 1 GiB hog grows nothing" {
    [ -z "$KIT_VARIANT" ] && [ -z "$VALGRIND" ] || skip "make bench runs the normal build"
    hint "make bench runs the kit's own programs (not yours): this stage checks the kit" "Measured: poll against epoll, one thread against a thread per client"
    run timeout 90 make --no-print-directory -s -C "$KIT_ROOT/lessons/06-event-loop" bench \
        BENCH_SECONDS=0.1 BENCH_IDLE=200
    assert_success
    local run server
    for run in 'socat \(fork per client\), 100 active' \
        'echo-multi-server \(thread per client\), 100' \
        'echo-poll-server, 100 active' 'echo-event-server, 100 active' \
        'echo-poll-server, 20 idle \+ 100 active' 'echo-event-server, 20 idle \+ 100 active' \
        'echo-poll-server, 200 idle \+ 100 active' 'echo-event-server, 200 idle \+ 100 active' \
        'echo-event-server, 100 active \(again\)' \
        'echo-poll-server, 100 active \+ 1 GiB hog' 'echo-event-server, 100 active \+ 1 GiB hog'; do
        assert_line --regexp "^$run +[1-9][0-9]* +[0-9]+ +[0-9]+ +[0-9.]+/line\$"
    done
    assert_line --regexp '^poll / epoll, 100 active beside: +0 idle +20 idle +200 idle$'
    assert_line --regexp '^  lines/s +[0-9.]+ +[0-9.]+ +[0-9.]+$'
    # A run this short may measure no CPU tick at all for a server: its ratio is then n/a.
    assert_line --regexp '^  server CPU per line +([0-9.]+|n/a) +([0-9.]+|n/a) +([0-9.]+|n/a)$'
    # The socat figure is stated, without a target: see the README.
    assert_line --regexp '^event loop / socat, lines/s: +[0-9.]+$'
    for server in echo-poll-server echo-event-server; do
        assert_line --regexp "^$server: resident size with 200 idle: .*\(target <= 64 MiB: met\)\$"
        # The server's buffer is bounded: what the hog sends waits in the kernel's buffers.
        assert_line --regexp "^$server, 1 GiB hog: .* resident size grew [0-9]+ KiB \(target <= 1024: met\)\$"
    done
    assert_line --regexp '^  echo-event-server +100,64,1,[0-9.]+,[0-9]+,.*,0$'
}

@test "stage 19: make bench: a bad BENCH_SECONDS or BENCH_IDLE is one line and exit 2, before any run" {
    local bench=$KIT_ROOT/lessons/06-event-loop/bench/run
    hint "make bench checks its settings before it runs anything" "Measured: poll against epoll, one thread against a thread per client"
    run --separate-stderr env BENCH_SECONDS=1e3 "$bench"
    [ "$status" -eq 2 ]
    assert_output ''
    # shellcheck disable=SC2154 # $stderr is set by bats' run --separate-stderr
    [ "$stderr" = "bench: BENCH_SECONDS must be seconds above 0, at most 3600 (3, 0.5), not '1e3'" ]
    run --separate-stderr env BENCH_IDLE=many "$bench"
    [ "$status" -eq 2 ]
    assert_output ''
    [ "$stderr" = "bench: BENCH_IDLE must be a count from 0 to 100000, not 'many'" ]
}
