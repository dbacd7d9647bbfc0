#!/usr/bin/env bats
# tests/05-multi-client.bats - lesson 05, the tutorial's KKMultiServer: kk-multi-server, a
# thread per client, in the stages the README teaches (numbered after echo-fork-server's 1 to
# 7 in tests/05-multi-client-fork.bats): lesson 04's conversation, one client at a time (8), a
# thread per client (10), threads that end and close (11), the stop (12), --max-clients (13),
# accept errors (14). echo-multi-server, the same skeleton with lesson 03's echo, has stages
# 9 to 14 in tests/05-multi-client-echo.bats. The Knock Knock checks shared with lessons 04
# and 06 live in lib/kk_tests.bash, lesson 05's own helpers in lib/multi_client.bash.

load test_helper
load lib/kk_tests
load lib/echo_server_tests
load lib/multi_client
load lib/java_peers

# shellcheck disable=SC2034 # read by lib/kk_tests.bash and test_helper.bash
{
    KK_SERVER=kk-multi-server
    KK_SERVER_ARGS=(-q)
    STOP_HINT_SECTION=$M_S_STOP_THREADS
    STOP_HINT_IGNORED="SIGTERM must end the server: the main thread waits for clients only in sig_wait_fd() (through multi_accept), which returns on a stop; then it closes the listener and registry_stop() shuts down every client socket and joins the reaper, which ends once the stop has begun and every client thread is joined (a reaper never told of the stop keeps main waiting)"
}

setup_file() {
    # The kit's Java Knock Knock peers (tests/peers/java), compiled once for the file.
    java_peers_build KnockPeerClient KnockPeerMultiServer
}

USAGE='usage: kk-multi-server [-b ADDR] [--max-clients N] [-q] PORT'

# ---- stage 8: lesson 04's conversation, one client at a time ---------------------------------

@test "stage 8: kk-multi-server: kk-client gets the 37-line transcript" { kk_test_transcript_37_lines; }
@test "stage 8: kk-multi-server: speaks first" { kk_test_greeting_first; }
@test "stage 8: kk-multi-server: tells a whole joke, byte for byte, and closes after Bye." { kk_test_whole_joke; }
@test "stage 8: kk-multi-server: reprimands anything but Who's there? and keeps waiting" { kk_test_whos_there_reprimand; }
@test "stage 8: kk-multi-server: a wrong who? gets the reprimand and the same joke again" { kk_test_clue_reprimand_restarts; }
@test "stage 8: kk-multi-server: a missing ?, a trailing space, an empty line or a NUL do not match" { kk_test_near_misses; }
@test "stage 8: kk-multi-server: matches without regard to ASCII case" { kk_test_case_insensitive; }
@test "stage 8: kk-multi-server: CRLF and a lone CR end lines" { kk_test_line_endings; }
@test "stage 8: kk-multi-server: answers every line of one write holding 18, in order" { kk_test_one_write_many_lines; }
@test "stage 8: kk-multi-server: yes is not y" { kk_test_yes_means_no; }
@test "stage 8: kk-multi-server: after the fifth joke comes the first" { kk_test_wrap_to_first_joke; }
@test "stage 8: kk-multi-server: a 5000-byte line closes that connection and the server goes on" { kk_test_long_line_closes; }
@test "stage 8: kk-multi-server: a 4096-byte line is still a line" { kk_test_line_of_4096_accepted; }
@test "stage 8: kk-multi-server: a client that resets mid-joke is forgotten quietly" { kk_test_reset_mid_joke; }
@test "stage 8: kk-multi-server: a client that half-closes mid-joke gets its replies, then EOF" { kk_test_eof_mid_joke; }
@test "stage 8: kk-multi-server: \"Bye.\" arrives although the client sent more than the server read" { kk_test_bye_survives_unread_input; }
@test "stage 8: kk-multi-server: after \"Bye.\" it waits at most about a second for the client to close" { kk_test_linger_is_bounded; }

@test "stage 8: kk-multi-server: logs each connection and its end, and is quiet with -q" {
    hint "log \"connection from ADDR:PORT\" once a client is accepted and \"closed ADDR:PORT\" once its socket is closed, one line each on stderr (multi_log), nothing with -q" "$M_S_RUN"
    start_server kk-multi-server 0
    kk_assert_served
    stop_server
    run cat "$SERVER_ERR"
    assert_output --regexp '^connection from 127\.0\.0\.1:[0-9]+
closed 127\.0\.0\.1:[0-9]+$'
}

@test "stage 8: kk-multi-server: -h prints usage, bad usage exits 2" {
    hint "the command line is multi.c's (multi_parse_args), as the starter gives it" "$M_S_RUN"
    run kk-multi-server -h
    assert_success
    assert_output "$USAGE"
    assert_usage_errors kk-multi-server "$USAGE" <<'EOF'
-	missing PORT
--once 0	unknown option: --once
--max-clients 0 0	--max-clients must be at least 1: 0
--max-clients x 0	--max-clients must be a number from 1 to 1000000: x
--max-clients -1 0	--max-clients must be a number from 1 to 1000000: -1
--max-clients 5000000 0	--max-clients must be at most 1000000: 5000000
--max-clients	option --max-clients needs a value
65536	port must be a number from 0 to 65535: 65536
1 2	unexpected argument: 2
EOF
}

@test "stage 8: kk-multi-server: a port in use is a one-line failure" {
    hint "when bind() fails, end with one line, \"PROG: cannot listen on ADDR port PORT: \" and strerror(errno), and exit status 1 (multi_listen)" "$M_S_WRONG"
    kk_start
    run timeout "$(tmo 5)" kk-multi-server -q "$SERVER_PORT"
    assert_failure 1
    assert_output "kk-multi-server: cannot listen on 127.0.0.1 port $SERVER_PORT: Address already in use"
    stop_server
}

@test "stage 8: a Java Knock Knock client (KnockPeerClient) against kk-multi-server: the same 37 lines" {
    need_java_peers
    hint "Java's socket classes are one more client: each server line must end in \"\\n\", which BufferedReader.readLine() waits for" "$M_S_JAVA"
    kk_start
    run timeout "$(tmo 20)" "${JAVA_PEER[@]}" KnockPeerClient 127.0.0.1 "$SERVER_PORT" \
        < <(kk_transcript_input)
    assert_success
    assert_output "$(kk_transcript_output)"
    stop_server
}

@test "stage 8: kk-multi-server closes after Bye.; KnockPeerMultiServer, missing it as the tutorial's server does, keeps the connection" {
    local port
    need_java_peers
    hint "after \"Bye.\" the conversation is over: end it because the protocol says so (kk_reply sets done), not by comparing the reply with a text (the tutorial compares with \"Bye\", which never comes)" "$M_S_BYE"
    port=$(free_port)
    java_peer_server 30 KnockPeerMultiServer "$port"
    # Java (KnockPeerMultiServer, like the tutorial's KKMultiServer): after "Bye." the
    # connection stays open (silent for half a second); a next line even gets a new
    # "Knock! Knock!" (the protocol started over).
    SERVER_PORT=$port run kk_peer open a expect a "$KK_KNOCK" send a "Who's there?\\n" \
        expect a 'Turnip\n' send a 'Turnip who?\n' expect a "$KK_TURNIP_PUNCH" send a 'n\n' \
        expect a "$KK_BYE" silent a 0.5 send a 'hello\n' expect a "$KK_KNOCK" close a
    kill -TERM "$JAVA_PEER_PID"
    wait "$JAVA_PEER_PID" || true
    assert_success
    kk_start
    run kk_peer open a expect a "$KK_KNOCK" send a "Who's there?\\n" expect a 'Turnip\n' \
        send a 'Turnip who?\n' expect a "$KK_TURNIP_PUNCH" send a 'n\n' expect a "$KK_BYE" eof a
    kk_peer_passed
    stop_server
}

# ---- stage 10: a thread per client ---------------------------------------------------------

@test "stage 10: kk-multi-server: a client silent mid-joke does not delay another's whole joke" {
    hint "after accept(), start a thread for the client (pthread_create) and go back to accept() at once: a server that holds the conversation itself serves one client at a time, and a silent one holds up everyone" "$M_S_JAVA"
    kk_test_silent_client_does_not_block
}

@test "stage 10: kk-multi-server: 200 clients at once each complete a joke, byte for byte" {
    hint "each of 200 clients connected at once needs its own thread, started as soon as it is accepted" "$M_S_JAVA"
    kk_test_200_concurrent_jokes
}

@test "stage 10: kk-multi-server: a client that resets does not disturb the others" {
    hint "a reset (ECONNRESET) ends that client's conversation and thread only: the other threads go on" "$M_S_THREADS"
    kk_test_reset_does_not_disturb_others
}

# Client a is at its second joke when client b connects and starts its first: each must get
# the answers of its own place in the jokes. One protocol state for every client (a static
# or a global struct kk_protocol) is moved by both, and b's greeting starts a's over.
@test "stage 10: kk-multi-server: each client has its own place in the jokes" {
    hint "each client needs a protocol state of its own (struct kk_protocol), on its own thread's stack: one state for all, a static or a global, lets one client's lines move another client's joke" "$M_S_THREADS"
    kk_start
    run kk_peer open a expect a "$KK_KNOCK" send a "Who's there?\\nTurnip who?\\ny\\n" \
        expect a "Turnip\\n$KK_TURNIP_PUNCH$KK_KNOCK" \
        open b expect b "$KK_KNOCK" \
        send a "Who's there?\\n" expect a 'Little Old Lady\n' \
        send b "Who's there?\\n" expect b 'Turnip\n' \
        send a 'Little Old Lady who?\n' expect a "$KK_LADY_PUNCH" \
        send b 'Turnip who?\n' expect b "$KK_TURNIP_PUNCH" send b 'n\n' expect b "$KK_BYE" eof b \
        send a 'n\n' expect a "$KK_BYE" eof a
    kk_peer_passed
    stop_server
}

# ---- stage 11: threads that end, close and are joined -------------------------------------

@test "stage 11: kk-multi-server: no descriptor more after 100 clients, one after another" { kk_test_descriptors_after_100_clients; }

# ---- stage 12: the stop ----------------------------------------------------------------------

@test "stage 12: kk-multi-server: SIGTERM with 50 idle clients: each is closed and logged, exit 0 within 2 s" {
    # shellcheck disable=SC2034 # read by kk_start
    local -a KK_SERVER_ARGS=() # the log on: each client's "closed" line is checked
    hint "on SIGTERM: close the listener, shutdown() every live client socket (that wakes a thread blocked in read()), then wait until every thread has closed its socket, logged \"closed\" and been joined, and only then return from main" "$M_S_STOP_THREADS"
    kk_test_sigterm_with_50_idle
    multi_assert_all_logged_closed 50 "main must wait for every client thread (join) before it returns"
}

# ---- stage 13: --max-clients -------------------------------------------------------------

@test "stage 13: kk-multi-server: --max-clients 2 turns the third client away, then takes the next" {
    hint "count the conversations under way in the registry, under its mutex: with --max-clients of them the next client gets \"Server busy, try again later.\" and is closed (multi_refuse); a slot is free again once a conversation is over" "$M_S_CAP"
    kk_test_max_clients
}

@test "stage 13: kk-multi-server: logs a refused client" {
    hint "a client turned away is logged \"refused ADDR:PORT: too many clients\" (multi_log), not \"connection from\"" "$M_S_CAP"
    start_server kk-multi-server --max-clients 1 0
    run kk_peer open a expect a "$KK_KNOCK" open b expect b 'Server busy, try again later.\n' eof b
    kk_peer_passed
    stop_server
    run grep -c '^refused 127\.0\.0\.1:[0-9]*: too many clients$' "$SERVER_ERR"
    assert_output 1
}

@test "stage 13: kk-multi-server: raises its open-file limit to the hard limit" {
    local hard soft
    hint "one descriptor per client: raise the soft limit of open files (RLIMIT_NOFILE) to the hard limit at start (setrlimit), or clients are turned away long before memory runs out" "$M_S_STRESS"
    kk_start
    hard=$(awk '/^Max open files/ { print $5 }' "/proc/$SERVER_PID/limits")
    soft=$(awk '/^Max open files/ { print $4 }' "/proc/$SERVER_PID/limits")
    assert_equal "$soft" "$hard"
    stop_server
}

# ---- stage 14: what can go wrong ---------------------------------------------------------------

# kk_three_greeted - three clients, one after another, are greeted.
kk_three_greeted() {
    run kk_peer open a expect a "$KK_KNOCK" open b expect b "$KK_KNOCK" open c expect c "$KK_KNOCK"
    kk_peer_passed
}

@test "stage 14: kk-multi-server: an accept() error that concerns one client is logged, and the server goes on" { multi_test_accept_error_is_one_clients kk-multi-server kk_three_greeted; }
