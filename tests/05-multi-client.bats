#!/usr/bin/env bats
# Lesson 05: kk-multi-server and echo-multi-server, one thread per client.
# The Knock Knock checks come from lib/kk_tests.bash, the echo checks from
# lib/echo_server_tests.bash: the same tests the one-at-a-time servers pass, plus the ones
# only a concurrent server can pass.

load test_helper
load lib/kk_tests
load lib/echo_server_tests
load lib/java_peers

# shellcheck disable=SC2034 # read by lib/kk_tests.bash and lib/echo_server_tests.bash
KK_SERVER=kk-multi-server
# shellcheck disable=SC2034
KK_SERVER_ARGS=(-q)
# shellcheck disable=SC2034
ECHO_SERVER=echo-multi-server
# shellcheck disable=SC2034
ECHO_SERVER_ARGS=(-q)

setup_file() {
    # The kit's Java Knock Knock peers (tests/peers/java), compiled once for the file.
    java_peers_build KnockPeerClient KnockPeerMultiServer
}

USAGE='usage: kk-multi-server [-b ADDR] [--max-clients N] [-q] PORT'

# ---- kk-multi-server: every check a Knock Knock server passes ---------------------------

@test "kk-multi-server: kk-client gets the 37-line transcript" { kk_test_transcript_37_lines; }
@test "kk-multi-server: speaks first" { kk_test_greeting_first; }
@test "kk-multi-server: tells a whole joke, byte for byte, and closes after Bye." { kk_test_whole_joke; }
@test "kk-multi-server: reprimands anything but Who's there? and keeps waiting" { kk_test_whos_there_reprimand; }
@test "kk-multi-server: a wrong who? gets the reprimand and the same joke again" { kk_test_clue_reprimand_restarts; }
@test "kk-multi-server: a missing ?, a trailing space, an empty line or a NUL do not match" { kk_test_near_misses; }
@test "kk-multi-server: matches without regard to ASCII case" { kk_test_case_insensitive; }
@test "kk-multi-server: CRLF and a lone CR end lines" { kk_test_line_endings; }
@test "kk-multi-server: yes is not y" { kk_test_yes_means_no; }
@test "kk-multi-server: after the fifth joke comes the first" { kk_test_wrap_to_first_joke; }
@test "kk-multi-server: a 5000-byte line closes that connection and the server goes on" { kk_test_long_line_closes; }
@test "kk-multi-server: a 4096-byte line is still a line" { kk_test_line_of_4096_accepted; }
@test "kk-multi-server: a client that resets mid-joke is forgotten quietly" { kk_test_reset_mid_joke; }
@test "kk-multi-server: a client that half-closes mid-joke gets its replies, then EOF" { kk_test_eof_mid_joke; }
@test "kk-multi-server: \"Bye.\" arrives although the client sent more than the server read" { kk_test_bye_survives_unread_input; }
@test "kk-multi-server: after \"Bye.\" it waits at most about a second for the client to close" { kk_test_linger_is_bounded; }

# ---- kk-multi-server: what only a concurrent server can do --------------------------------

@test "kk-multi-server: a client silent mid-joke does not delay another's whole joke" { kk_test_silent_client_does_not_block; }
@test "kk-multi-server: 200 clients at once each complete a joke, byte for byte" { kk_test_200_concurrent_jokes; }
@test "kk-multi-server: a client that resets does not disturb the others" { kk_test_reset_does_not_disturb_others; }
@test "kk-multi-server: --max-clients 2 turns the third client away, then takes the next" { kk_test_max_clients; }
@test "kk-multi-server: SIGTERM with 50 idle clients exits 0 within 2 s" { kk_test_sigterm_with_50_idle; }

# ---- kk-multi-server: its own behaviour --------------------------------------------------

@test "kk-multi-server: logs each connection and its end, and is quiet with -q" {
    start_server kk-multi-server 0
    kk_assert_served
    stop_server
    run cat "$SERVER_ERR"
    assert_output --regexp '^connection from 127\.0\.0\.1:[0-9]+
closed 127\.0\.0\.1:[0-9]+$'
}

@test "kk-multi-server: logs a refused client" {
    start_server kk-multi-server --max-clients 1 0
    run kk_peer open a expect a "$KK_KNOCK" open b expect b 'Server busy, try again later.\n' eof b
    assert_success
    stop_server
    run grep -c '^refused 127\.0\.0\.1:[0-9]*: too many clients$' "$SERVER_ERR"
    assert_output 1
}

@test "kk-multi-server: raises its open-file limit to the hard limit" {
    local hard soft
    kk_start
    hard=$(awk '/^Max open files/ { print $5 }' "/proc/$SERVER_PID/limits")
    soft=$(awk '/^Max open files/ { print $4 }' "/proc/$SERVER_PID/limits")
    assert_equal "$soft" "$hard"
    stop_server
}

@test "kk-multi-server: -h prints usage, bad usage exits 2" {
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

@test "kk-multi-server: a port in use is a one-line failure" {
    kk_start
    run timeout "$(tmo 5)" kk-multi-server -q "$SERVER_PORT"
    assert_failure 1
    assert_output "kk-multi-server: cannot listen on 127.0.0.1 port $SERVER_PORT: Address already in use"
    stop_server
}

@test "a Java Knock Knock client (KnockPeerClient) against kk-multi-server: the same 37 lines" {
    need_java_peers
    kk_start
    run timeout "$(tmo 20)" "${JAVA_PEER[@]}" KnockPeerClient 127.0.0.1 "$SERVER_PORT" \
        < <(kk_transcript_input)
    assert_success
    assert_output "$(kk_transcript_output)"
    stop_server
}

@test "kk-multi-server closes after Bye.; KnockPeerMultiServer, missing it as the tutorial's server does, keeps the connection" {
    local port
    need_java_peers
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
    assert_success
    stop_server
}

# ---- echo-multi-server: the echo-server checks that do not need one-at-a-time service -----

@test "echo-multi-server: echoes bytes without a newline at once" { echo_test_no_newline; }
@test "echo-multi-server: echoes many lines sent in one write" { echo_test_many_lines_one_write; }
@test "echo-multi-server: echoes bytes sent one at a time, in order" { echo_test_bytes_one_at_a_time; }
@test "echo-multi-server: round-trips 1 MiB of random bytes" { echo_test_binary_1mib; }
@test "echo-multi-server: round-trips 50 MiB of random bytes" { echo_test_binary_50mib; }
@test "echo-multi-server: CRLF, lone CR, NUL and all 256 byte values come back unchanged" { echo_test_transparency; }
@test "echo-multi-server: after a half-close all pending echo arrives" { echo_test_half_close; }
@test "echo-multi-server: nc -N gets the exact transcript" { echo_test_half_close_nc; }
@test "echo-multi-server: a client that resets mid-stream does not stop the next" { echo_test_rst_then_next_client; }
@test "echo-multi-server: a client that never reads costs no CPU and is served once it leaves" { echo_test_never_reads_then_leaves; }
@test "echo-multi-server: serves 100 clients one after another" { echo_test_sequential_100_clients; }
@test "echo-multi-server: -b ::1 serves IPv6 only" { echo_test_ipv6_bind; }
@test "echo-multi-server: -b :: serves IPv4 and IPv6" { echo_test_dual_stack_bind; }
@test "echo-multi-server: a port in use is a one-line failure" { echo_test_port_in_use; }
@test "echo-multi-server: a restarted server binds the same port at once" { echo_test_restart_after_stop; }
@test "echo-multi-server: out of descriptors, keeps serving and says so once" { echo_test_out_of_descriptors_serves_others; }
@test "echo-multi-server: SIGTERM with a client connected exits 0" { echo_test_sigterm_with_client; }

@test "echo-multi-server: a stop waits for a client thread still closing its socket" {
    [ -z "$KIT_VARIANT" ] || skip "a sanitizer's runtime must be loaded first: no LD_PRELOAD"
    # slow-close.so makes a client thread's close() of its socket take 500 ms: the thread
    # has left the registry and not yet logged "closed". SIGTERM lands in that window; the
    # server must still wait for the thread (its "closed" line, exit 0, nothing leaked).
    start_server env LD_PRELOAD="$KIT_ROOT/build/tests/slow-close.so" echo-multi-server 0
    run timeout "$(tmo 5)" python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"hi\n")
print(s.recv(10).decode(), end="")
' "$SERVER_PORT"
    assert_output hi
    sleep 0.1 # into the 500 ms the thread spends in close()
    stop_server
    run cat "$SERVER_ERR"
    assert_line --regexp '^closed 127\.0\.0\.1:[0-9]+$'
}
@test "echo-multi-server: a client that never reads does not stop another being served" { echo_test_never_reads_while_another_served; }

@test "echo-multi-server: 100 clients at once each round-trip 1 MiB, sha256 compared" {
    # 1 MiB each normally; 128 KiB under valgrind, which runs the server ~20x slower.
    local bytes=$((1024 * 1024))
    [ -z "$VALGRIND" ] || bytes=$((128 * 1024))
    echo_start
    run timeout "$(tmo 60)" python3 -c '
import hashlib, os, socket, sys, threading
port, count, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
results = [None] * count

def client(i):
    data = os.urandom(size)
    s = socket.create_connection(("127.0.0.1", port), timeout=float(sys.argv[4]))
    sender = threading.Thread(target=s.sendall, args=(data,))
    sender.start()
    got = hashlib.sha256()
    n = 0
    while n < size:
        chunk = s.recv(65536)
        if not chunk:
            break
        got.update(chunk)
        n += len(chunk)
    sender.join()
    s.close()
    results[i] = (n == size and got.digest() == hashlib.sha256(data).digest())

threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("%d of %d clients got their %d bytes back intact" % (results.count(True), count, size))
' "$SERVER_PORT" 100 "$bytes" "$(tmo 30)" 3>&-
    assert_success
    assert_output "100 of 100 clients got their $bytes bytes back intact"
    stop_server
}

@test "echo-multi-server: -h prints usage naming echo-multi-server" {
    run echo-multi-server -h
    assert_success
    assert_output 'usage: echo-multi-server [-b ADDR] [--max-clients N] [-q] PORT'
}
