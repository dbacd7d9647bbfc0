#!/usr/bin/env bats
# Lesson 06: echo-poll-server (one thread, poll), then echo-event-server and kk-event-server
# (one thread, one epoll loop each). The echo and Knock Knock checks shared with lessons 03
# to 05 live in lib/; this file runs those that do not depend on one-at-a-time service, on
# each server, then the lesson's own: many lines in one write, a line split byte by byte,
# backpressure, idle timeouts, --max-clients, out of descriptors, an odd accept() error,
# 1,000 concurrent connections and SIGTERM with 1,000 open.

load test_helper
load lib/echo_server_tests
load lib/kk_tests

# shellcheck disable=SC2034 # the four are read by lib/echo_server_tests.bash and lib/kk_tests.bash
ECHO_SERVER=echo-event-server
# shellcheck disable=SC2034
ECHO_SERVER_ARGS=(-q)
# shellcheck disable=SC2034
KK_SERVER=kk-event-server
# shellcheck disable=SC2034
KK_SERVER_ARGS=(-q)

# The lesson's load client (bench/echo-bench.c): a test tool, never run under valgrind.
BENCH=$(kit_program_dir "$KIT_ROOT/lessons/06-event-loop")/bench/echo-bench

# on_poll_server CHECK - run a shared echo check against echo-poll-server.
on_poll_server() {
    local ECHO_SERVER=echo-poll-server
    "$@"
}

# ---- echo-poll-server: the echo-server checks, through the shared functions ---------------

@test "echo-poll-server: echoes bytes that end without a newline at once" { on_poll_server echo_test_no_newline; }
@test "echo-poll-server: echoes one write holding many lines" { on_poll_server echo_test_many_lines_one_write; }
@test "echo-poll-server: echoes bytes sent one at a time" { on_poll_server echo_test_bytes_one_at_a_time; }
@test "echo-poll-server: round-trips 1 MiB of random binary (sha256)" { on_poll_server echo_test_binary_1mib; }
@test "echo-poll-server: round-trips random binary, 50 MiB (5 under valgrind), sha256" { on_poll_server echo_test_binary_50mib; }
@test "echo-poll-server: returns CRLF, lone CR, NUL and all 256 byte values unchanged" { on_poll_server echo_test_transparency; }
@test "echo-poll-server: sends everything pending after a half-close, then closes" { on_poll_server echo_test_half_close; }
@test "echo-poll-server: answers nc -N with the exact bytes, then closes" { on_poll_server echo_test_half_close_nc; }
@test "echo-poll-server: survives a reset mid-stream and serves the next client" { on_poll_server echo_test_rst_then_next_client; }
@test "echo-poll-server: logs the reason when a client resets mid-stream" { on_poll_server echo_test_rst_logged; }
@test "echo-poll-server: spends no CPU on a client that never reads, then serves the next" { on_poll_server echo_test_never_reads_then_leaves; }
@test "echo-poll-server: serves 100 clients one after another" { on_poll_server echo_test_sequential_100_clients; }
@test "echo-poll-server: -b ::1 serves IPv6 only" { on_poll_server echo_test_ipv6_bind; }
@test "echo-poll-server: -b :: serves both 127.0.0.1 and ::1" { on_poll_server echo_test_dual_stack_bind; }
@test "echo-poll-server: reports a port in use and exits 1" { on_poll_server echo_test_port_in_use; }
@test "echo-poll-server: binds again at once after a stop (SO_REUSEADDR)" { on_poll_server echo_test_restart_after_stop; }
@test "echo-poll-server: exits 0 on SIGTERM while a client is connected" { on_poll_server echo_test_sigterm_with_client; }
@test "echo-poll-server: skips a client whose accept() fails (EPROTO) and serves the next at once" { on_poll_server echo_test_accept_error_skipped; }
@test "echo-poll-server: serves a client while another never reads" { on_poll_server echo_test_never_reads_while_another_served; }
@test "echo-poll-server: out of descriptors, keeps serving and says so once" { on_poll_server echo_test_out_of_descriptors_serves_others; }
@test "echo-poll-server: clients refused by --max-clients after sending read the busy line, then EOF" { on_poll_server echo_test_refused_read_busy_line; }
@test "echo-poll-server: --once exits 0 after its first client leaves" { on_poll_server echo_test_once; }

# ---- echo-event-server: the echo-server checks, through the shared functions --------------

@test "echo-event-server: echoes bytes that end without a newline at once" { echo_test_no_newline; }
@test "echo-event-server: echoes one write holding many lines" { echo_test_many_lines_one_write; }
@test "echo-event-server: echoes bytes sent one at a time" { echo_test_bytes_one_at_a_time; }
@test "echo-event-server: round-trips 1 MiB of random binary (sha256)" { echo_test_binary_1mib; }
@test "echo-event-server: round-trips random binary, 50 MiB (5 under valgrind), sha256" { echo_test_binary_50mib; }
@test "echo-event-server: returns CRLF, lone CR, NUL and all 256 byte values unchanged" { echo_test_transparency; }
@test "echo-event-server: sends everything pending after a half-close, then closes" { echo_test_half_close; }
@test "echo-event-server: answers nc -N with the exact bytes, then closes" { echo_test_half_close_nc; }
@test "echo-event-server: survives a reset mid-stream and serves the next client" { echo_test_rst_then_next_client; }
@test "echo-event-server: spends no CPU on a client that never reads, then serves the next" { echo_test_never_reads_then_leaves; }
@test "echo-event-server: serves 100 clients one after another" { echo_test_sequential_100_clients; }
@test "echo-event-server: -b ::1 serves IPv6 only" { echo_test_ipv6_bind; }
@test "echo-event-server: -b :: serves both 127.0.0.1 and ::1" { echo_test_dual_stack_bind; }
@test "echo-event-server: reports a port in use and exits 1" { echo_test_port_in_use; }
@test "echo-event-server: binds again at once after a stop (SO_REUSEADDR)" { echo_test_restart_after_stop; }
@test "echo-event-server: exits 0 on SIGTERM while a client is connected" { echo_test_sigterm_with_client; }
@test "echo-event-server: skips a client whose accept() fails (EPROTO) and serves the next at once" { echo_test_accept_error_skipped; }
@test "echo-event-server: serves a client while another never reads" { echo_test_never_reads_while_another_served; }
@test "echo-event-server: clients refused by --max-clients after sending read the busy line, then EOF" { echo_test_refused_read_busy_line; }
# Listed for one-at-a-time servers, but --once means the same here: one client, then exit 0.
@test "echo-event-server: --once exits 0 after its first client leaves" { echo_test_once; }

# ---- the Knock Knock checks, through the shared functions -------------------------------

@test "kk-event-server: kk-client prints the 37-line transcript" { kk_test_transcript_37_lines; }
@test "kk-event-server: speaks first" { kk_test_greeting_first; }
@test "kk-event-server: tells a whole joke" { kk_test_whole_joke; }
@test "kk-event-server: reprimands anything but \"Who's there?\"" { kk_test_whos_there_reprimand; }
@test "kk-event-server: a wrong clue answer restarts the joke" { kk_test_clue_reprimand_restarts; }
@test "kk-event-server: near misses do not match" { kk_test_near_misses; }
@test "kk-event-server: matches case-insensitively" { kk_test_case_insensitive; }
@test "kk-event-server: CRLF and lone CR end lines like LF" { kk_test_line_endings; }
@test "kk-event-server: only y or Y means another joke" { kk_test_yes_means_no; }
@test "kk-event-server: wraps to the first joke after the fifth" { kk_test_wrap_to_first_joke; }
@test "kk-event-server: closes on a 5000-byte line and serves the next client" { kk_test_long_line_closes; }
@test "kk-event-server: accepts a line of exactly 4096 bytes" { kk_test_line_of_4096_accepted; }
@test "kk-event-server: a reset mid-joke is no error" { kk_test_reset_mid_joke; }
@test "kk-event-server: a half-close mid-joke gets its replies, then EOF" { kk_test_eof_mid_joke; }
@test "kk-event-server: \"Bye.\" arrives although the client sent more than the server read" { kk_test_bye_survives_unread_input; }
@test "kk-event-server: after \"Bye.\" it waits at most about a second for the client to close" { kk_test_linger_is_bounded; }
@test "kk-event-server: a silent client does not block another" { kk_test_silent_client_does_not_block; }
@test "kk-event-server: 200 clients at once each complete a joke" { kk_test_200_concurrent_jokes; }
@test "kk-event-server: a reset does not disturb the other clients" { kk_test_reset_does_not_disturb_others; }
@test "kk-event-server: --max-clients 2 turns the third client away" { kk_test_max_clients; }
@test "kk-event-server: exits 0 within 2 s on SIGTERM with 50 idle clients" { kk_test_sigterm_with_50_idle; }

# ---- the contract: usage, the listening line, the log ---------------------------------------

USAGE_TAIL="[-b ADDR] [--idle-timeout SECS] [--max-clients N] [--once] [-q] PORT"

@test "echo-poll-server, echo-event-server, kk-event-server: -h prints usage on stdout and exits 0" {
    local prog
    for prog in echo-poll-server echo-event-server kk-event-server; do
        run "$prog" -h
        assert_success
        assert_output "usage: $prog $USAGE_TAIL"
    done
}

@test "echo-poll-server, echo-event-server, kk-event-server: bad usage says what was wrong, prints the usage line and exits 2" {
    local prog
    for prog in echo-poll-server echo-event-server kk-event-server; do
        assert_usage_errors "$prog" "usage: $prog $USAGE_TAIL" <<'EOF'
-	missing PORT
1 2	unexpected argument: 2
x	port must be a number from 0 to 65535: x
65536	port must be a number from 0 to 65535: 65536
-x 0	unknown option: -x
--idle-timeout x 0	--idle-timeout must be a number from 0 to 86400: x
--idle-timeout -1 0	--idle-timeout must be a number from 0 to 86400: -1
--idle-timeout 86401 0	--idle-timeout must be at most 86400: 86401
--max-clients 0 0	--max-clients must be at least 1: 0
--max-clients 2x 0	--max-clients must be a number from 1 to 10000000: 2x
-b	option -b needs a value
EOF
    done
}

# log_lines SERVER - the server logs one line when a client comes, one when it leaves.
log_lines() {
    local port
    start_server "$1" 0
    assert_equal "$SERVER_ENDPOINT" "127.0.0.1:$SERVER_PORT"
    port=$(free_port)
    run timeout "$(tmo 5)" socat -t "$(tmo 5)" - "TCP:127.0.0.1:$SERVER_PORT,sourceport=$port,reuseaddr" <<<"logged"
    assert_success
    assert_output "logged"
    stop_server
    assert_equal "$(cat "$SERVER_OUT")" "listening on 127.0.0.1:$SERVER_PORT"
    assert_equal "$(cat "$SERVER_ERR")" "connection from 127.0.0.1:$port
closed 127.0.0.1:$port"
}

# sigint_idle SERVER - SIGINT stops the server as SIGTERM does.
sigint_idle() {
    local status=0
    start_server "$1" -q 0
    kill -INT "$SERVER_PID"
    wait_exit "$SERVER_PID" 5 || status=$?
    assert_equal "$status" 0
}

@test "echo-poll-server: logs 'connection from' and 'closed' with the client's address" { log_lines echo-poll-server; }
@test "echo-event-server: logs 'connection from' and 'closed' with the client's address" { log_lines echo-event-server; }
@test "echo-event-server: logs the reason when a client resets mid-stream" { echo_test_rst_logged; }
@test "echo-poll-server: exits 0 on SIGINT with nothing connected" { sigint_idle echo-poll-server; }
@test "echo-event-server: exits 0 on SIGINT with nothing connected" { sigint_idle echo-event-server; }

# ---- lines and packets ----------------------------------------------------------------------

@test "kk-event-server: answers every line of one write, in order" {
    local input expected
    # The 18 lines of the whole transcript in a single send: 19 answers, in order, then EOF.
    input=$(kk_transcript_input | sed 's/$/\\n/' | tr -d '\n')
    expected=$(kk_transcript_output | sed -n 's/^Server: \(.*\)$/\1\\n/p' | tr -d '\n')
    kk_start
    run kk_peer open a send a "$input" expect a "$expected" eof a
    assert_success
    stop_server
}

@test "kk-event-server: answers a line sent one byte per write only at its end" {
    local steps=() i line="Who's there?"
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

# ---- backpressure ---------------------------------------------------------------------------------

# hog_held_at_bound - the server stops reading a client whose echo it cannot send
hog_held_at_bound() {
    echo_start
    # The hog sends 100 MiB and never reads; one other client does request/reply meanwhile.
    # The server stops reading the hog once its 64 KiB output buffer is full: the hog gets
    # no further than the kernel's socket buffers, and the server's memory does not grow.
    local out hog replies before peak
    out=$(timeout "$(tmo 20)" "$BENCH" -c 1 -d 0.3 --hog $((100 << 20)) --pid "$SERVER_PID" \
        127.0.0.1 "$SERVER_PORT" 2>&1 3>&-) || fail "echo-bench failed: $out"
    hog=$(grep -o 'hog_sent=[0-9]*' <<<"$out" | cut -d= -f2)
    replies=$(grep -o ' replies=[0-9]*' <<<"$out" | cut -d= -f2)
    before=$(grep -o 'rss_before_kib=[0-9]*' <<<"$out" | cut -d= -f2)
    peak=$(grep -o 'rss_peak_kib=[0-9]*' <<<"$out" | cut -d= -f2)
    assert [ "$hog" -gt 0 ]
    assert [ "$hog" -lt $((100 << 20)) ]
    assert [ "$replies" -gt 10 ]
    # Resident size is meaningless under valgrind (the server runs inside it).
    if [ -z "$VALGRIND" ] && [ -z "$KIT_VARIANT" ]; then
        assert [ $((peak - before)) -le 1024 ]
    fi
    stop_server
}

@test "echo-poll-server: holds a client sending 100 MiB without reading to its buffer bound" { on_poll_server hog_held_at_bound; }
@test "echo-event-server: holds a client sending 100 MiB without reading to its buffer bound" { hog_held_at_bound; }

# ---- idle timeout, --max-clients, out of descriptors ---------------------------------------

# idle_timeout_closes_silent - --idle-timeout 1: a silent client closed after about 1 s, an active one never
idle_timeout_closes_silent() {
    start_server "$ECHO_SERVER" --idle-timeout 1 0
    # A says nothing; B sends a line every 0.2 s for 2.2 s. A must be closed after about
    # 1 s (well before B is done), B never.
    run timeout "$(tmo 15)" python3 -c '
import socket, sys, time
addr = ("127.0.0.1", int(sys.argv[1]))
a = socket.create_connection(addr)
b = socket.create_connection(addr)
a.setblocking(False)
start = time.monotonic()
a_closed = None
for i in range(11):
    b.sendall(b"tick %d\n" % i)
    b.settimeout(5)
    want = b"tick %d\n" % i
    got = b""
    while len(got) < len(want):
        chunk = b.recv(len(want) - len(got))
        if not chunk:
            sys.exit("B was closed after %.1f s" % (time.monotonic() - start))
        got += chunk
    assert got == want, got
    try:
        if a_closed is None and a.recv(1) == b"":
            a_closed = time.monotonic() - start
    except BlockingIOError:
        pass
    time.sleep(0.2)
if a_closed is None:
    sys.exit("A was not closed")
print("A closed after %d s, B served to the end" % round(a_closed))
' "$SERVER_PORT" 3>&-
    assert_success
    assert_output 'A closed after 1 s, B served to the end'
    stop_server
    run grep -c '^idle for 1 s: 127\.0\.0\.1:[0-9]*$' "$SERVER_ERR"
    assert_output 1
}

@test "echo-poll-server: --idle-timeout closes a silent client and not an active one" { on_poll_server idle_timeout_closes_silent; }
@test "echo-event-server: --idle-timeout closes a silent client and not an active one" { idle_timeout_closes_silent; }

# max_clients_two - --max-clients 2: the third client is told so and closed; a freed slot serves again
max_clients_two() {
    local out=$BATS_TEST_TMPDIR/second.out second
    echo_start --max-clients 2
    echo_hold_client $'first\n'
    # The second client is served too, then stays connected (killed below, by PID).
    timeout "$(tmo 20)" python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"second\n")
print(s.recv(100).decode(), end="", flush=True)
time.sleep(30)
' "$SERVER_PORT" >"$out" 3>&- 4>&- &
    second=$!
    echo_wait_output "$out" '^second$'
    # The third is accepted, told so, and closed at once: no echo.
    run timeout "$(tmo 5)" socat -t "$(tmo 5)" - "TCP:127.0.0.1:$SERVER_PORT" <<<"third"
    assert_success
    assert_output 'Server busy, try again later.'
    # When one leaves, its slot is free for the next client.
    echo_release_client
    run echo_text_round_trip 127.0.0.1 $'after a slot freed\n'
    assert_success
    kill "$second"
    wait "$second" 2>/dev/null || true
    stop_server
}

@test "echo-poll-server: --max-clients 2 turns the third client away at once" { on_poll_server max_clients_two; }
@test "echo-event-server: --max-clients 2 turns the third client away at once" { max_clients_two; }

@test "echo-event-server: out of descriptors, keeps serving and says so once" { echo_test_out_of_descriptors_serves_others; }

# ---- many connections -------------------------------------------------------------------------

# thousand_concurrent - 1,000 connections at once, each echoing 64 KiB (100 under valgrind)
thousand_concurrent() {
    # 1,000 connections, or 100 under valgrind (about 20 times slower there).
    local conns=1000
    [ -z "$VALGRIND" ] || conns=100
    echo_start
    run timeout "$(tmo 20)" "$BENCH" -c "$conns" -s 65536 -n 1 127.0.0.1 "$SERVER_PORT" 3>&-
    assert_success
    assert_output --regexp "^conns=$conns idle=0 size=65536 .* replies=$conns "
    stop_server
}

@test "echo-poll-server: 1,000 concurrent connections each echo 64 KiB, every byte checked" { on_poll_server thousand_concurrent; }
@test "echo-event-server: 1,000 concurrent connections each echo 64 KiB, every byte checked" { thousand_concurrent; }

# sigterm_with_thousand - SIGTERM with 1,000 connections open: exit 0 within 2 s, each one closed
sigterm_with_thousand() {
    local out=$BATS_TEST_TMPDIR/bench.out pid n=0 start elapsed status=0
    echo_start
    "$BENCH" -c 0 -i 1000 --until-closed 127.0.0.1 "$SERVER_PORT" >"$out" 2>&1 3>&- &
    pid=$!
    until grep -q '^connected 1000$' "$out"; do
        kill -0 "$pid" 2>/dev/null || fail "echo-bench: $(cat "$out")"
        [ $((n += 1)) -le $((200 * KIT_SLOW)) ] || fail "1,000 connections not open in time"
        sleep 0.05
    done
    start=$(date +%s%N)
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID" 2 || status=$?
    elapsed=$((($(date +%s%N) - start) / 1000000))
    assert_equal "$status" 0
    assert [ "$elapsed" -lt $((2000 * KIT_SLOW)) ]
    wait_exit "$pid" 5
    run cat "$out"
    assert_output $'connected 1000\nclosed by the server: 1000'
}

@test "echo-poll-server: exits 0 within 2 s on SIGTERM with 1,000 connections open" { on_poll_server sigterm_with_thousand; }
@test "echo-event-server: exits 0 within 2 s on SIGTERM with 1,000 connections open" { sigterm_with_thousand; }

# ---- make bench (a measurement: its figures are not judged here, only that it runs) --------

@test "make bench: a short run prints every figure, and the 1 GiB hog grows nothing" {
    [ -z "$KIT_VARIANT" ] && [ -z "$VALGRIND" ] || skip "make bench runs the normal build"
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
    assert_line --regexp '^  server CPU per line +[0-9.]+ +[0-9.]+ +[0-9.]+$'
    # The socat figure is stated, without a target: see the README.
    assert_line --regexp '^event loop / socat, lines/s: +[0-9.]+$'
    for server in echo-poll-server echo-event-server; do
        assert_line --regexp "^$server: resident size with 200 idle: .*\(target <= 64 MiB: met\)\$"
        # The server's buffer is bounded: what the hog sends waits in the kernel's buffers.
        assert_line --regexp "^$server, 1 GiB hog: .* resident size grew [0-9]+ KiB \(target <= 1024: met\)\$"
    done
    assert_line --regexp '^  echo-event-server +100,64,1,[0-9.]+,[0-9]+,.*,0$'
}

@test "make bench: a bad BENCH_SECONDS or BENCH_IDLE is one line and exit 2, before any run" {
    local bench=$KIT_ROOT/lessons/06-event-loop/bench/run
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
