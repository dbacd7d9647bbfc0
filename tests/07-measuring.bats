#!/usr/bin/env bats
# tests/07-measuring.bats - lesson 07: echo-load, in stages that follow the README: its usage
# (stage 1); one connection through echo-server (2); what the summary counts and over which
# time, against peers that never answer, answer half, or accept late (3); --csv and Ctrl-C
# (4); every echoed byte checked, against a peer that alters or swaps bytes (5); the window
# and many connections through the kit's servers (6); percentiles, against a peer whose
# delays are known (7); coordinated omission, against a peer that stalls (8); make bench
# in short mode (9); what can go wrong: an early close, a refused port, an unknown name (10).
#
# The misbehaving peers are one Python script (written by setup_file): each mode a fault
# whose timing the test controls.

# shellcheck disable=SC2030,SC2031 # each @test runs in a subshell: $output, $status are per test
load test_helper

USAGE="usage: echo-load [-c CONNS] [-n LINES | -d SECS] [-s BYTES] [-w WINDOW] [--timeout SECS] [--udp] [--csv] HOST PORT"
CSV_HEADER="connections,bytes,window,seconds,requests,requests_per_s,mb_per_s,p50_us,p90_us,p99_us,max_us,errors"

# The README's sections, for the hints.
S_RUN='Build and run'
S_LOAD='echo-load'
S_BYTES='What it sends, and how it checks every byte'
S_WINDOW='The window: request/reply or pipelined'
S_LATENCY='Latency, percentiles and the histogram'
S_CO='Coordinated omission'
S_BENCH='make bench'
S_WRONG='What can go wrong'

# ---- the scripted peer ------------------------------------------------------------------------

# peer.py MODE [ARG] - a server that prints the kit's "listening on" line, exits 0 on SIGTERM,
# serves each connection in a thread, and misbehaves on purpose (requests of 64 bytes):
#   alter N        echo everything, but flip bit 0x20 of stream byte N
#   swap           echo the first two requests in the wrong order, then the rest
#   close N        echo N bytes, then close the connection
#   silent         read everything, answer nothing
#   answer N       echo the first N bytes, then read on and answer nothing
#   delays D,D...  echo request i D[i] ms after it arrived, one at a time; then the rest
#   slow MS        echo every request MS ms after it arrived, one at a time
#   stall MS W     hold the first W requests MS ms, echo the first; echo the others once
#                  request W+1 has arrived (it is sent when the first echo opens the window)
#   backlog FILE   listen with a queue of one, filled by its own connection, so the kernel
#                  drops the SYNs of other clients; empty the queue once FILE exists
setup_file() {
    cat >"$BATS_FILE_TMPDIR/peer.py" <<'EOF'
import os, signal, socket, sys, threading, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
mode, args = sys.argv[1], sys.argv[2:]
SIZE = 64

def recv_exactly(c, count):
    data = b""
    while len(data) < count:
        more = c.recv(count - len(data))
        if not more:
            return None
        data += more
    return data

def echo_rest(c):
    while True:
        data = c.recv(65536)
        if not data:
            return
        c.sendall(data)

def serve(c):
    seen = 0
    if mode == "swap":
        two = recv_exactly(c, 2 * SIZE)  # echo-load -w 2 sends both before waiting
        if two is not None:
            c.sendall(two[SIZE:] + two[:SIZE])
    if mode == "delays":
        for ms in map(int, args[0].split(",")):
            request = recv_exactly(c, SIZE)
            if request is None:
                return c.close()
            time.sleep(ms / 1000)
            c.sendall(request)
    if mode == "slow":
        while True:
            request = recv_exactly(c, SIZE)
            if request is None:
                return c.close()
            time.sleep(int(args[0]) / 1000)
            c.sendall(request)
    if mode == "stall":
        ms, window = int(args[0]), int(args[1])
        held = recv_exactly(c, window * SIZE)
        if held is None:
            return c.close()
        time.sleep(ms / 1000)
        c.sendall(held[:SIZE])
        more = recv_exactly(c, SIZE)
        c.sendall(held[SIZE:] + (more or b""))
    n = int(args[0]) if mode in ("alter", "close", "answer") else 0
    while True:
        data = bytearray(c.recv(65536))
        if not data:
            break
        start, seen = seen, seen + len(data)  # this piece is stream bytes start..seen-1
        if mode == "alter" and start <= n < seen:
            data[n - start] ^= 0x20
        if mode == "close" and seen >= n:
            c.sendall(data[: n - start])
            break
        if mode == "answer":
            data = data[: max(0, n - start)]
        if mode != "silent" and data:
            c.sendall(data)
    c.close()

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(0 if mode == "backlog" else 64)
if mode == "backlog":
    filler = socket.create_connection(srv.getsockname())
print("listening on 127.0.0.1:%d" % srv.getsockname()[1], flush=True)
if mode == "backlog":
    while not os.path.exists(args[0]):
        time.sleep(0.01)
    srv.accept()[0].close()
    filler.close()
while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
EOF
}

# start_peer MODE [ARG...] - start the scripted peer with start_server (SERVER_PORT, ...).
start_peer() {
    start_server python3 "$BATS_FILE_TMPDIR/peer.py" "$@"
}

# ---- running echo-load, and saying what went wrong -----------------------------------------

# run_load SECS ARGS... - run echo-load ARGS under a time limit of SECS (scaled), stdout and
# stderr apart; RAN keeps the command line for a failure message.
run_load() {
    local secs=$1
    shift
    RAN="echo-load $*"
    run --separate-stderr timeout "$(tmo "$secs")" echo-load "$@"
}

# why LINE... - fail the test: print LINEs (what is wrong), then the command that ran, its
# exit status, and what it printed (12 lines of stdout, 5 of stderr at most).
why() {
    local n
    printf '%s\n' "$@"
    printf 'ran: %s\nexit status: %s\n' "$RAN" "$status"
    n=$(wc -l <<<"$output")
    if [ -z "$output" ]; then
        echo "stdout: (nothing)"
    else
        echo "stdout:"
        head -n 12 <<<"$output" | sed 's/^/  /'
        [ "$n" -le 12 ] || echo "  ... ($n lines in all)"
    fi
    # shellcheck disable=SC2154 # stderr: set by bats' run --separate-stderr
    if [ -n "${stderr:-}" ]; then
        n=$(wc -l <<<"$stderr")
        echo "stderr:"
        head -n 5 <<<"$stderr" | sed 's/^/  /'
        [ "$n" -le 5 ] || echo "  ... ($n lines in all)"
    fi
    return 1
}

# expect_exit N - echo-load exited N, and was not ended by the time limit.
expect_exit() {
    [ "$status" -ne 124 ] || why "it did not finish within the time limit: it hangs"
    [ "$status" -eq "$1" ] || why "it should exit $1, not $status"
}

# read_summary - $output must be the summary, six lines; sets CONNS REQUESTS SECS RPS MBS P50
# P90 P99 MAX (latencies in µs) ERRORS WRONG (connections that echoed wrong bytes) INTERRUPTED.
read_summary() {
    local want
    [ "${#lines[@]}" -ge 6 ] ||
        why "expected the summary on stdout: six lines, connections to errors"
    want='^connections  ([0-9]+)$'
    [[ ${lines[0]} =~ $want ]] || why "line 1 should be \"connections  N\", not \"${lines[0]}\""
    CONNS=${BASH_REMATCH[1]}
    want='^requests     ([0-9]+) in ([0-9]+\.[0-9]{2}) s( \(interrupted\))?$'
    [[ ${lines[1]} =~ $want ]] ||
        why "line 2 should be \"requests     N in T.TT s\", not \"${lines[1]}\""
    REQUESTS=${BASH_REMATCH[1]} SECS=${BASH_REMATCH[2]} INTERRUPTED=${BASH_REMATCH[3]}
    want='^requests/s   ([0-9]+)$'
    [[ ${lines[2]} =~ $want ]] || why "line 3 should be \"requests/s   N\", not \"${lines[2]}\""
    RPS=${BASH_REMATCH[1]}
    want='^MB/s         ([0-9]+\.[0-9]{2})$'
    [[ ${lines[3]} =~ $want ]] || why "line 4 should be \"MB/s         N.NN\", not \"${lines[3]}\""
    MBS=${BASH_REMATCH[1]}
    want='^latency µs   p50 ([0-9]+)  p90 ([0-9]+)  p99 ([0-9]+)  max ([0-9]+)$'
    [[ ${lines[4]} =~ $want ]] ||
        why "line 5 should be \"latency µs   p50 N  p90 N  p99 N  max N\", not \"${lines[4]}\""
    P50=${BASH_REMATCH[1]} P90=${BASH_REMATCH[2]} P99=${BASH_REMATCH[3]} MAX=${BASH_REMATCH[4]}
    want='^errors       ([0-9]+)( \(([0-9]+) echoed wrong bytes\))?$'
    [[ ${lines[5]} =~ $want ]] ||
        why "line 6 should be \"errors       N\" (or \"errors       N (M echoed wrong bytes)\"), not \"${lines[5]}\""
    ERRORS=${BASH_REMATCH[1]} WRONG=${BASH_REMATCH[3]:-0}
}

# check_summary CONNS REQUESTS [interrupted] - the summary of a run without errors: CONNS
# connections, REQUESTS requests (a regex), p50 <= p90 <= p99 <= max, exit 0.
check_summary() {
    expect_exit 0
    read_summary
    [ "$ERRORS" -eq 0 ] || why "no connection failed, so errors should be 0"
    [ -z "$stderr" ] || why "nothing should go to stderr when all goes well"
    [ "$CONNS" -eq "$1" ] || why "connections should say $1, as asked with -c"
    [[ $REQUESTS =~ ^($2)$ ]] || why "requests should be $2 (every one sent came back)"
    [ -n "$INTERRUPTED" ] || [ "${3:-}" != interrupted ] ||
        why "the run was ended by SIGINT: line 2 should end with \" (interrupted)\""
    if [ "$P50" -gt "$P90" ] || [ "$P90" -gt "$P99" ] || [ "$P99" -gt "$MAX" ]; then
        why "percentiles can only grow: p50 <= p90 <= p99 <= max"
    fi
}

# between VALUE LOW HIGH - LOW <= VALUE < HIGH, decimals allowed.
between() {
    awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v < hi) }'
}

# ms_since START - milliseconds since START (date +%s%N).
ms_since() {
    echo $((($(date +%s%N) - $1) / 1000000))
}

# ---- stage 1: the command line ----------------------------------------------------------------

@test "stage 1: echo-load: -h prints usage on stdout and exits 0" {
    hint "-h or --help: the usage line, then what each option means, on stdout; exit 0" "$S_LOAD"
    run echo-load -h
    assert_success
    assert_line --index 0 "$USAGE"
    run echo-load --help
    assert_success
    assert_line --index 0 "$USAGE"
}

@test "stage 1: echo-load: bad usage says what was wrong, prints the usage line and exits 2" {
    local d='must be seconds, more than 0 and at most 86400 ("2", "0.5")'
    hint "every bad option or argument: one line saying what was wrong, the usage line, exit 2" "$S_LOAD"
    assert_usage_errors echo-load "$USAGE" <<EOF
-	missing HOST and PORT
h	missing PORT
h 1 2	unexpected argument: 2
h 0	port must be a number from 1 to 65535: 0
h 65536	port must be a number from 1 to 65535: 65536
h x	port must be a number from 1 to 65535: x
-c 0 h 1	-c must be at least 1: 0
-c 50001 h 1	-c must be at most 50000: 50001
-c x h 1	-c must be a number from 1 to 50000: x
-n 0 h 1	-n must be at least 1: 0
-n 1 -d 1 h 1	-n and -d exclude each other: give one, or neither
-d 0 h 1	-d $d: 0
-d x h 1	-d $d: x
-d -1 h 1	-d $d: -1
-s 0 h 1	-s must be at least 1: 0
-s 1048577 h 1	-s must be at most 1048576: 1048577
-w 0 h 1	-w must be at least 1: 0
-w 1025 h 1	-w must be at most 1024: 1025
--timeout 0 h 1	--timeout $d: 0
--timeout 1x h 1	--timeout $d: 1x
--bogus h 1	unknown option: --bogus
-c	option -c needs a value
EOF
}

# ---- stage 2: one connection, request and reply -------------------------------------------------

@test "stage 2: echo-load: 1000 requests through echo-server: every summary field, no errors, exit 0" {
    hint "send a request, read its whole echo and check it, count it, send the next; when all are back, print the summary" "$S_RUN"
    start_server echo-server -q 0
    run_load 10 -n 1000 127.0.0.1 "$SERVER_PORT"
    check_summary 1 1000
    [ "${#lines[@]}" -eq 6 ] || why "the summary is six lines, and nothing else on stdout"
    [ "$MBS" != 0.00 ] || why "1000 requests of 64 bytes came back: MB/s cannot be 0.00"
    stop_server
}

# ---- stage 3: what the summary counts, and over which time ---------------------------------------

@test "stage 3: echo-load: counts replies, not requests sent: a peer that reads and never answers gives 0 requests" {
    hint "count a request when the last byte of its echo has come back and been checked, never when it is sent" "$S_LOAD"
    start_peer silent
    run_load 10 -c 2 -w 4 -d 0.5 127.0.0.1 "$SERVER_PORT"
    expect_exit 0
    read_summary
    [ "$REQUESTS" -eq 0 ] ||
        why "the peer read every request and answered none, yet echo-load counted $REQUESTS." \
            "It counts requests sent (2 connections x 4 in flight = 8), not replies received?"
    [ "$MBS" = 0.00 ] || why "nothing came back, so MB/s (bytes echoed and checked) must be 0.00, not $MBS"
    [ "$P50 $P90 $P99 $MAX" = "0 0 0 0" ] ||
        why "no request was answered: there is no latency to report (0 0 0 0), not \"$P50 $P90 $P99 $MAX\""
    [ "$ERRORS" -eq 0 ] ||
        why "a silence shorter than --timeout (10 s) at the end of a -d run is not an error"
    stop_server
}

@test "stage 3: echo-load: a peer that answers 5 requests, then goes silent: 5 requests; --timeout names it, exit 1" {
    local want="echo-load: connection 1: no echo for 1 s after echoing 320 of 384 bytes"
    hint "requests counts whole echoes checked; a connection owed echoes that hears nothing for --timeout fails: one line, and exit 1" "$S_LOAD"
    start_peer answer 320
    run_load 10 -n 10 --timeout 1 127.0.0.1 "$SERVER_PORT"
    [ "$status" -ne 124 ] ||
        why "the peer stopped answering after 5 requests, and echo-load waited for ever." \
            "With --timeout 1, a connection that has requests in flight and hears nothing for" \
            "1 s fails: a load generator never hangs."
    expect_exit 1
    read_summary
    [ "$REQUESTS" -eq 5 ] ||
        why "the peer echoed 5 requests (320 bytes) of the 6 sent, then nothing: requests should" \
            "be 5, not $REQUESTS. Does it count requests sent instead of replies received?"
    [ "$ERRORS" -eq 1 ] || why "the silent connection failed: errors should be 1, not $ERRORS"
    [ "$stderr" = "$want" ] || why "expected on stderr exactly: \"$want\""
    stop_server
}

@test "stage 3: echo-load: starts the clock once the connections are made: a connect held back 1 s is not timed" {
    local release=$BATS_TEST_TMPDIR/release out=$BATS_TEST_TMPDIR/load.out
    local err=$BATS_TEST_TMPDIR/load.err pid n=0
    hint "open every connection first, then start the clock: connecting is not the server's request rate" "$S_LOAD"
    start_peer backlog "$release"
    RAN="echo-load -n 4 127.0.0.1 $SERVER_PORT   (the peer's listen queue is full: the kernel drops the first SYN, and the connection is made when the SYN is resent, 1 s later)"
    timeout "$(tmo 10)" echo-load -n 4 127.0.0.1 "$SERVER_PORT" >"$out" 2>"$err" 3>&- &
    pid=$!
    # Once its SYN waits (dropped, to be resent), let the peer take connections again.
    until ss -Htn state syn-sent "( dport = :$SERVER_PORT )" | grep -q .; do
        if ! kill -0 "$pid" 2>/dev/null || [ $((n += 1)) -gt $((100 * KIT_SLOW)) ]; then
            wait "$pid" || status=$?
            output=$(cat "$out") stderr=$(cat "$err")
            why "echo-load should be connecting (SYN-SENT) to the peer, whose queue is full"
        fi
        sleep 0.05
    done
    touch "$release"
    wait_exit "$pid" 10 && status=0 || status=$?
    output=$(cat "$out") stderr=$(cat "$err")
    mapfile -t lines <<<"$output"
    check_summary 1 4
    between "$SECS" 0 0.5 ||
        why "the connection took about a second to be made (the SYN was resent), then the 4" \
            "echoes came back in a few milliseconds; echo-load reported \"in $SECS s\"." \
            "Was the clock started before the connections were made?"
    stop_server
}

@test "stage 3: echo-load: -d 1 stops after about a second" {
    local start elapsed
    hint "with -d SECS, stop when SECS have passed since the clock started, and report the time measured" "$S_LOAD"
    start_peer slow 20 # 50 requests a second on each connection: a second's run, little CPU
    start=$(date +%s%N)
    run_load 10 -c 2 -d 1 127.0.0.1 "$SERVER_PORT"
    elapsed=$(ms_since "$start")
    check_summary 2 '[0-9]+'
    [[ $SECS == 1.* ]] || why "asked for -d 1, echo-load reported \"in $SECS s\""
    [ "$REQUESTS" -gt 0 ] || why "the peer answers every request in 20 ms: a second gives more than 0"
    # At least the second it was asked for; well under the 10 s limit (valgrind: scaled).
    [ "$elapsed" -ge 1000 ] && [ "$elapsed" -lt $((3000 * KIT_SLOW)) ] ||
        why "it ran for $elapsed ms, asked for one second"
    stop_server
}

# ---- stage 4: the output's other forms ----------------------------------------------------------

@test "stage 4: echo-load: --csv prints one header and one row of 12 fields" {
    hint "--csv: the header line, then the same figures as the summary in one row, nothing else" "$S_LOAD"
    start_server echo-event-server -q 0
    run_load 10 --csv -c 3 -s 100 -w 2 -n 300 127.0.0.1 "$SERVER_PORT"
    expect_exit 0
    [ "${#lines[@]}" -eq 2 ] || why "expected exactly two lines: the header and one row"
    [ "${lines[0]}" = "$CSV_HEADER" ] || why "the header should be exactly: $CSV_HEADER"
    [[ ${lines[1]} =~ ^3,100,2,[0-9]+\.[0-9]{3},300,[0-9]+,[0-9]+\.[0-9]{2},[0-9]+,[0-9]+,[0-9]+,[0-9]+,0$ ]] ||
        why "expected the row 3,100,2,SECONDS,300,REQUESTS_PER_S,MB_PER_S,P50,P90,P99,MAX,0"
    [ -z "$stderr" ] || why "nothing should go to stderr"
    stop_server
}

@test "stage 4: echo-load: SIGINT prints the summary so far, marked (interrupted), and exits 0" {
    local pid out=$BATS_TEST_TMPDIR/load.out err=$BATS_TEST_TMPDIR/load.err n=0
    hint "SIGINT or SIGTERM ends the run at once: print the summary of what came back so far, then exit 0" "$S_LOAD"
    start_peer slow 20
    RAN="echo-load -d 60 127.0.0.1 $SERVER_PORT, then SIGINT"
    echo-load -d 60 127.0.0.1 "$SERVER_PORT" >"$out" 2>"$err" 3>&- &
    pid=$!
    # Wait (bounded) until the connection is made, so the run is under way.
    until ss -Htn state established "( dport = :$SERVER_PORT )" | grep -q .; do
        [ $((n += 1)) -le $((100 * KIT_SLOW)) ] || fail "echo-load never connected"
        sleep 0.05
    done
    sleep 0.3 # let requests complete (how many depends on the machine: any count is right)
    kill -INT "$pid"
    wait_exit "$pid" 5 && status=0 || status=$?
    output=$(cat "$out") stderr=$(cat "$err")
    mapfile -t lines <<<"$output"
    [ "$status" -ne 124 ] || why "SIGINT did not end it within 5 s"
    check_summary 1 '[0-9]+' interrupted
    stop_server
}

# ---- stage 5: every byte checked -------------------------------------------------------------------

@test "stage 5: echo-load: names a byte a peer altered (connection, offset, expected, got) and exits 1" {
    local want got re
    hint "compare every byte that comes back with the byte sent at that offset (stream_verify); name the first wrong one, fail that connection, exit 1" "$S_BYTES"
    start_peer alter 100
    run_load 10 -n 10 127.0.0.1 "$SERVER_PORT"
    [ "$status" -ne 0 ] ||
        why "the peer changed byte 100 of the stream (bit 0x20 flipped), yet echo-load exited 0:" \
            "it counted replies without comparing their bytes with what was sent."
    expect_exit 1
    read_summary
    [ "$ERRORS $WRONG" = "1 1" ] ||
        why "one connection echoed a wrong byte: the last line should be \"errors       1 (1 echoed wrong bytes)\""
    # Byte 100 is byte 36 of request 1 (64-byte requests, counted from 0).
    re='^echo-load: connection 1: wrong byte at offset 100 \(request 1, byte 36\): expected 0x([0-9a-f]{2})[^,]*, got 0x([0-9a-f]{2})'
    [[ $stderr =~ $re ]] ||
        why "expected on stderr one line: \"echo-load: connection 1: wrong byte at offset 100" \
            "(request 1, byte 36): expected 0xNN 'C', got 0xNN 'c'\""
    want=$((16#${BASH_REMATCH[1]})) got=$((16#${BASH_REMATCH[2]}))
    [ "$((want ^ 0x20))" -eq "$got" ] ||
        why "the peer flipped bit 0x20: expected and got should differ by exactly that bit"
    [ "$(wc -l <<<"$stderr")" -eq 1 ] || why "one failure, one line on stderr"
    [ "$REQUESTS" -eq 1 ] ||
        why "request 0 came back right, request 1 wrong: requests should be 1, not $REQUESTS"
    stop_server
}

@test "stage 5: echo-load: notices two requests echoed in the wrong order" {
    local want="echo-load: connection 1: wrong byte at offset 7 (request 0, byte 7): expected 0x30 '0', got 0x31 '1'"
    hint "each request starts with its number: check the echo against the request sent at that offset, not against any request" "$S_BYTES"
    start_peer swap
    run_load 10 -w 2 -n 2 127.0.0.1 "$SERVER_PORT"
    [ "$status" -ne 0 ] ||
        why "the peer echoed request 1 before request 0, yet echo-load exited 0: every byte" \
            "must equal the one sent at the same offset of the stream."
    expect_exit 1
    [ "$stderr" = "$want" ] || why "expected on stderr exactly: \"$want\""
    stop_server
}

# ---- stage 6: the window, many connections --------------------------------------------------------

@test "stage 6: echo-load: 20 connections through echo-multi-server (a thread each)" {
    hint "every connection keeps its own window, offsets and send times; the -n budget is shared" "$S_WINDOW"
    start_server echo-multi-server -q 0
    run_load 10 -c 20 -n 5000 127.0.0.1 "$SERVER_PORT"
    check_summary 20 5000
    stop_server
}

@test "stage 6: echo-load: 50 connections with 4 requests in flight each through echo-event-server" {
    hint "with -w 4, keep 4 requests on the wire: send the next as soon as one echo is complete" "$S_WINDOW"
    start_server echo-event-server -q 0
    run_load 10 -c 50 -w 4 -n 20000 127.0.0.1 "$SERVER_PORT"
    check_summary 50 20000
    stop_server
}

@test "stage 6: echo-load: streams 64 KiB requests, 64 in flight, through echo-event-server" {
    local n=800 # 50 MiB; 5 MiB under valgrind, which runs about 20 times slower
    [ -z "$VALGRIND" ] || n=80
    hint "4 MiB in flight does not fit a socket buffer: send() sends part; keep the rest for EPOLLOUT, and read meanwhile" "$S_WINDOW"
    start_server echo-event-server -q 0
    run_load 20 -s 65536 -w 64 -n "$n" 127.0.0.1 "$SERVER_PORT"
    check_summary 1 "$n"
    stop_server
}

@test "stage 6: echo-load: loads a server over IPv6 (::1), and by the name localhost when it is ::1" {
    need_ipv6_localhost
    hint "try every address getaddrinfo() gives, IPv6 too (AF_UNSPEC)" "$S_LOAD"
    start_server echo-event-server -q -b ::1 0
    run_load 10 -c 3 -n 300 ::1 "$SERVER_PORT"
    check_summary 3 300
    RAN="echo-load -c 3 -n 300 localhost $SERVER_PORT   (localhost is ::1 first, then 127.0.0.1)"
    run --separate-stderr as_ipv6_localhost timeout "$(tmo 10)" echo-load -c 3 -n 300 localhost "$SERVER_PORT"
    check_summary 3 300
    stop_server
}

@test "stage 6: echo-load: raises its descriptor limit for 600 connections (soft limit 256)" {
    [ -z "$VALGRIND" ] || skip "valgrind keeps the descriptor limit it started with"
    hint "one descriptor per connection: raise the soft RLIMIT_NOFILE toward the hard limit" "$S_WRONG"
    start_server echo-event-server -q 0
    RAN="echo-load -c 600 -n 1200 127.0.0.1 $SERVER_PORT   (under ulimit -Sn 256)"
    run --separate-stderr timeout "$(tmo 15)" bash -c 'ulimit -Sn 256 && exec echo-load -c 600 -n 1200 "$@"' \
        _ 127.0.0.1 "$SERVER_PORT"
    check_summary 600 1200
    stop_server
}

# ---- stage 7: percentiles ---------------------------------------------------------------------------

@test "stage 7: echo-load: percentiles of known latencies (200, 0, 300, 100 ms): p50 100 ms, p90 = p99 = max = 300 ms" {
    local slack=$((150000 * KIT_SLOW)) rate
    hint "time each request from its own send() to the last byte of its echo; pN is the smallest latency that N % of the requests did not exceed: the ceil(N/100 x count)-th, counting from 1" "$S_LATENCY"
    start_peer delays 200,0,300,100
    run_load 10 -n 4 127.0.0.1 "$SERVER_PORT"
    check_summary 1 4
    [ "$MAX" -ge 300000 ] && [ "$MAX" -lt $((300000 + slack)) ] ||
        why "the slowest request took 300 ms (a little more with the round trip), not $MAX µs:" \
            "is each latency the time from its request's send() to the end of its echo?"
    [ "$P50" -lt 200000 ] ||
        why "the peer answered the 4 requests in 200, 0, 300 and 100 ms. p50 is the 2nd smallest" \
            "of 4 (half the requests took at most that): 100 ms, but echo-load said $P50 µs." \
            "Off by one: the 3rd (200 ms)?"
    [ "$P50" -ge 100000 ] ||
        why "the peer answered the 4 requests in 200, 0, 300 and 100 ms: p50, the 2nd smallest," \
            "is 100 ms, but echo-load said $P50 µs. Are the latencies sorted before one is picked?"
    [ "$P90" -eq "$MAX" ] && [ "$P99" -eq "$MAX" ] ||
        why "of 4 latencies, p90 and p99 are the 4th (ceil(3.6) and ceil(3.96)): the maximum," \
            "$MAX µs. echo-load said p90 $P90, p99 $P99."
    between "$SECS" 0.6 "$(awk -v k="$KIT_SLOW" 'BEGIN { print 0.6 + 0.15 * k }')" ||
        why "the four requests, one after the other, took 0.6 s and a little more, not $SECS s"
    rate=$(awk -v s="$SECS" 'BEGIN { printf "%d", 4 / s + 0.5 }')
    [ $((RPS - rate)) -le 1 ] && [ $((rate - RPS)) -le 1 ] ||
        why "requests/s is requests divided by the time measured: 4 / $SECS = about $rate, not $RPS"
    stop_server
}

# ---- stage 8: coordinated omission --------------------------------------------------------------------

@test "stage 8: echo-load: a request that waits in the window behind a stalled one is timed from its own send" {
    hint "keep one send time per request in flight (a slot per place in the window), and time each echo from its own request's send" "$S_CO"
    start_peer stall 400 3
    run_load 10 -w 3 -n 4 127.0.0.1 "$SERVER_PORT"
    check_summary 1 4
    [ "$P50" -ge 400000 ] ||
        why "requests 0, 1 and 2 went out together (-w 3), and the peer held all three 400 ms:" \
            "3 of the 4 latencies are 400 ms or more, so p50 is too; echo-load said $P50 µs." \
            "Request 3 was sent when the first echo came back; were requests 1 and 2 timed from" \
            "that send (one send time per connection) instead of their own?"
    [ "$MAX" -lt $((400000 + 150000 * KIT_SLOW)) ] ||
        why "the peer held the requests 400 ms, and max says $MAX µs: more than the stall"
    stop_server
}

# ---- stage 9: make bench, in short --------------------------------------------------------------------

@test "stage 9: make bench: a short run writes a CSV row for every server and valid SVG plots" {
    local out=$BATS_TEST_TMPDIR/bench server
    hint "bench.sh takes echo-load's --csv rows: the header and a row of 12 fields, errors 0" "$S_BENCH"
    RAN="BENCH_SECONDS=0.3 BENCH_CONNS=\"1 10\" lessons/07-measuring/bench/bench.sh"
    # The bench script with the echo-load under test (ECHO_LOAD); the servers are the kit's.
    run timeout "$(tmo 60)" env ECHO_LOAD="$(command -v echo-load)" BENCH_SECONDS=0.3 \
        BENCH_CONNS="1 10" OUT_DIR="$out" "$KIT_ROOT/lessons/07-measuring/bench/bench.sh"
    expect_exit 0
    assert_line --regexp '^echo-server +10 +skipped: it serves one client at a time'
    assert [ -s "$out/results.csv" ]
    run cat "$out/results.csv"
    assert_line --index 0 "server,$CSV_HEADER"
    assert_equal "${#lines[@]}" 8 # the header; echo-server at 1; the others at 1 and 10
    for server in socat echo-multi-server echo-event-server; do
        assert_line --regexp "^$server,1,64,1,[0-9.]+,[0-9]+,.*,0\$"
        assert_line --regexp "^$server,10,64,1,[0-9.]+,[0-9]+,.*,0\$"
    done
    assert_line --regexp '^echo-server,1,64,1,[0-9.]+,[0-9]+,.*,0$'
    xmllint --noout "$out/throughput.svg" "$out/latency.svg"
    grep -q 'echo-event-server' "$out/throughput.svg"
}

# ---- stage 10: what can go wrong ----------------------------------------------------------------------

@test "stage 10: echo-load: counts and names a connection the peer closed early" {
    hint "recv() returning 0 while echoes are owed: the server closed early; name the connection and how far it got" "$S_WRONG"
    start_peer close 1000
    run_load 10 -c 2 -n 100 127.0.0.1 "$SERVER_PORT"
    expect_exit 1
    read_summary
    [ "$ERRORS" -eq 2 ] || why "both connections were closed early: errors should be 2, not $ERRORS"
    [ "$(grep -c '^echo-load: connection [12]: the server closed the connection after echoing 1000 of [0-9]* bytes$' <<<"$stderr")" -eq 2 ] ||
        why "expected two lines on stderr, one per connection:" \
            "\"echo-load: connection N: the server closed the connection after echoing 1000 of M bytes\""
    stop_server
}

@test "stage 10: echo-load: counts and names every connection refused where nothing listens, exit 1" {
    local port want
    hint "a connection that fails is counted and named on stderr; the others go on; any failure: exit 1" "$S_WRONG"
    port=$(free_port)
    want="echo-load: connection 1: cannot connect to 127.0.0.1 port $port: Connection refused
echo-load: connection 2: cannot connect to 127.0.0.1 port $port: Connection refused
echo-load: connection 3: cannot connect to 127.0.0.1 port $port: Connection refused"
    run_load 10 -c 3 -n 10 127.0.0.1 "$port"
    expect_exit 1
    read_summary
    [ "$CONNS $REQUESTS $ERRORS" = "3 0 3" ] ||
        why "3 connections asked, 0 requests, 3 errors: the summary is printed all the same"
    [ "$stderr" = "$want" ] || why "expected on stderr exactly:" "$want"
}

@test "stage 10: echo-load: a name that does not resolve is one error line, exit 1" {
    hint "when getaddrinfo() fails, the run cannot start: one line with its reason, exit 1, no summary" "$S_WRONG"
    run_load 20 -n 1 nosuch.invalid 7
    expect_exit 1
    [ -z "$output" ] || why "nothing should go to stdout: the run never started"
    [[ $stderr == "echo-load: cannot resolve nosuch.invalid port 7: "* ]] ||
        why "expected on stderr one line: \"echo-load: cannot resolve nosuch.invalid port 7: REASON\""
}
