#!/usr/bin/env bats
# tests/07-measuring.bats - lesson 07: echo-load against the kit's echo servers, against a
# raw peer that echoes wrong (one altered byte, two requests swapped, an early close), against
# a port where nothing listens; its usage and CSV contract; and `make bench` in short mode.

# shellcheck disable=SC2154 # $stderr is set by bats' run --separate-stderr
load test_helper

USAGE="usage: echo-load [-c CONNS] [-n LINES | -d SECS] [-s BYTES] [-w WINDOW] [--csv] HOST PORT"
CSV_HEADER="connections,bytes,window,seconds,requests,requests_per_s,mb_per_s,p50_us,p90_us,p99_us,max_us,errors"

# ---- helpers ------------------------------------------------------------------------------

# load_bad_peer MODE [N] - start a raw Python echo peer that misbehaves on purpose, with
# start_server (it prints the kit's "listening on" line and exits 0 on SIGTERM). MODE:
#   alter N  echo everything, but flip bit 0x20 of stream byte N (each connection)
#   swap     echo the first two 64-byte requests in the wrong order, then the rest
#   close N  echo N bytes, then close the connection
load_bad_peer() {
    local peer=$BATS_TEST_TMPDIR/bad_peer.py
    cat >"$peer" <<'EOF'
import signal, socket, sys, threading
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
mode, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0

def recv_exactly(c, count):
    data = b""
    while len(data) < count:
        more = c.recv(count - len(data))
        if not more:
            return None
        data += more
    return data

def serve(c):
    seen = 0
    if mode == "swap":
        two = recv_exactly(c, 128)  # echo-load -w 2 sends both before waiting
        if two is None:
            return c.close()
        c.sendall(two[64:] + two[:64])
    while True:
        data = bytearray(c.recv(65536))
        if not data:
            break
        if mode == "alter" and seen <= n < seen + len(data):
            data[n - seen] ^= 0x20
        if mode == "close" and seen + len(data) >= n:
            c.sendall(data[: n - seen])
            break
        seen += len(data)
        c.sendall(data)
    c.close()

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(64)
print("listening on 127.0.0.1:%d" % srv.getsockname()[1], flush=True)
while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
EOF
    start_server python3 "$peer" "$@"
}

# assert_summary CONNS REQUESTS [SUFFIX] - the summary's six lines, with errors 0; REQUESTS
# and SUFFIX (after "in N.NN s") may be regexes. Also checks p50 <= p90 <= p99 <= max.
assert_summary() {
    assert_line --index 0 --regexp "^connections  $1\$"
    assert_line --index 1 --regexp "^requests     $2 in [0-9]+\.[0-9]{2} s${3:-}\$"
    assert_line --index 2 --regexp '^requests/s   [0-9]+$'
    assert_line --index 3 --regexp '^MB/s         [0-9]+\.[0-9]{2}$'
    assert_line --index 4 --regexp '^latency µs   p50 [0-9]+  p90 [0-9]+  p99 [0-9]+  max [0-9]+$'
    assert_line --index 5 'errors       0'
    read -r _ _ _ p50 _ p90 _ p99 _ max <<<"${lines[4]}"
    [ "$p50" -le "$p90" ] && [ "$p90" -le "$p99" ] && [ "$p99" -le "$max" ]
}

# ---- against the kit's servers ---------------------------------------------------------------

@test "echo-load: 1000 requests through echo-server: every summary field, no errors, exit 0" {
    start_server echo-server -q 0
    run timeout "$(tmo 10)" echo-load -n 1000 127.0.0.1 "$SERVER_PORT"
    assert_success
    assert_summary 1 1000
    assert_equal "${#lines[@]}" 6
    stop_server
}

@test "echo-load: 50 connections with 4 requests in flight each through echo-event-server" {
    start_server echo-event-server -q 0
    run timeout "$(tmo 10)" echo-load -c 50 -w 4 -n 20000 127.0.0.1 "$SERVER_PORT"
    assert_success
    assert_summary 50 20000
    stop_server
}

@test "echo-load: 20 connections through echo-multi-server (a thread each)" {
    start_server echo-multi-server -q 0
    run timeout "$(tmo 10)" echo-load -c 20 -n 5000 127.0.0.1 "$SERVER_PORT"
    assert_success
    assert_summary 20 5000
    stop_server
}

@test "echo-load: streams 64 KiB requests, 64 in flight, through echo-event-server" {
    local n=800 # 50 MiB; 5 MiB under valgrind, which runs about 20 times slower
    [ -z "$VALGRIND" ] || n=80
    start_server echo-event-server -q 0
    run timeout "$(tmo 20)" echo-load -s 65536 -w 64 -n "$n" 127.0.0.1 "$SERVER_PORT"
    assert_success
    assert_summary 1 "$n"
    stop_server
}

@test "echo-load: loads a server over IPv6 (::1), and by the name localhost when it is ::1" {
    need_ipv6_localhost
    start_server echo-event-server -q -b ::1 0
    run timeout "$(tmo 10)" echo-load -c 3 -n 300 ::1 "$SERVER_PORT"
    assert_success
    assert_summary 3 300
    run as_ipv6_localhost timeout "$(tmo 10)" echo-load -c 3 -n 300 localhost "$SERVER_PORT"
    assert_success
    assert_summary 3 300
    stop_server
}

@test "echo-load: raises its descriptor limit for 600 connections (soft limit 256)" {
    [ -z "$VALGRIND" ] || skip "valgrind keeps the descriptor limit it started with"
    start_server echo-event-server -q 0
    run timeout "$(tmo 15)" bash -c 'ulimit -Sn 256 && exec echo-load -c 600 -n 1200 "$@"' \
        _ 127.0.0.1 "$SERVER_PORT"
    assert_success
    assert_summary 600 1200
    stop_server
}

# ---- against peers that echo wrong -------------------------------------------------------------

@test "echo-load: names a byte a peer altered (connection, offset, expected, got) and exits 1" {
    local want got
    load_bad_peer alter 100
    run --separate-stderr timeout "$(tmo 10)" echo-load -n 10 127.0.0.1 "$SERVER_PORT"
    assert_failure 1
    assert_line --index 5 'errors       1 (1 echoed wrong bytes)'
    # Byte 100 is byte 36 of request 1 (64-byte requests, counted from 0).
    [[ $stderr =~ ^echo-load:\ connection\ 1:\ wrong\ byte\ at\ offset\ 100\ \(request\ 1,\ byte\ 36\):\ expected\ 0x([0-9a-f]{2})[^,]*,\ got\ 0x([0-9a-f]{2}) ]]
    want=$((16#${BASH_REMATCH[1]})) got=$((16#${BASH_REMATCH[2]}))
    assert_equal "$((want ^ 0x20))" "$got"
    assert_equal "$(wc -l <<<"$stderr")" 1
    stop_server
}

@test "echo-load: notices two requests echoed in the wrong order" {
    load_bad_peer swap
    run --separate-stderr timeout "$(tmo 10)" echo-load -w 2 -n 2 127.0.0.1 "$SERVER_PORT"
    assert_failure 1
    # Each request starts with its sequence number: request 1's came back first.
    assert_equal "$stderr" "echo-load: connection 1: wrong byte at offset 7 (request 0, byte 7): expected 0x30 '0', got 0x31 '1'"
    stop_server
}

@test "echo-load: counts and names a connection the peer closed early" {
    load_bad_peer close 1000
    run --separate-stderr timeout "$(tmo 10)" echo-load -c 2 -n 100 127.0.0.1 "$SERVER_PORT"
    assert_failure 1
    assert_line --index 5 'errors       2'
    assert_equal "$(grep -c 'the server closed the connection after echoing 1000 of ' <<<"$stderr")" 2
    stop_server
}

@test "echo-load: counts and names every connection refused where nothing listens, exit 1" {
    local port
    port=$(free_port)
    run --separate-stderr timeout "$(tmo 10)" echo-load -c 3 -n 10 127.0.0.1 "$port"
    assert_failure 1
    assert_line --index 0 'connections  3'
    assert_line --index 1 --regexp '^requests     0 in '
    assert_line --index 5 'errors       3'
    assert_equal "$stderr" "echo-load: connection 1: cannot connect to 127.0.0.1 port $port: Connection refused
echo-load: connection 2: cannot connect to 127.0.0.1 port $port: Connection refused
echo-load: connection 3: cannot connect to 127.0.0.1 port $port: Connection refused"
}

@test "echo-load: a name that does not resolve is one error line, exit 1" {
    run --separate-stderr timeout "$(tmo 10)" echo-load -n 1 nosuch.invalid 7
    assert_failure 1
    assert_output ''
    [[ $stderr == "echo-load: cannot resolve nosuch.invalid port 7: "* ]]
}

# ---- the output contract -------------------------------------------------------------------------

@test "echo-load: --csv prints one header and one row of 12 fields" {
    start_server echo-event-server -q 0
    run --separate-stderr timeout "$(tmo 10)" echo-load --csv -c 3 -s 100 -w 2 -n 300 127.0.0.1 "$SERVER_PORT"
    assert_success
    assert_equal "${#lines[@]}" 2
    assert_line --index 0 "$CSV_HEADER"
    assert_line --index 1 --regexp '^3,100,2,[0-9]+\.[0-9]{3},300,[0-9]+,[0-9]+\.[0-9]{2},[0-9]+,[0-9]+,[0-9]+,[0-9]+,0$'
    assert_equal "$stderr" ''
    stop_server
}

@test "echo-load: -d 1 stops after about a second" {
    local start elapsed_ms
    start_server echo-event-server -q 0
    start=$(date +%s%N)
    run timeout "$(tmo 10)" echo-load -c 2 -d 1 127.0.0.1 "$SERVER_PORT"
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    assert_success
    assert_summary 2 '[0-9]+'
    assert_line --index 1 --regexp ' in 1\.[0-9]{2} s$'
    # At least the second it was asked for; well under the 10 s limit (valgrind: scaled).
    [ "$elapsed_ms" -ge 1000 ] && [ "$elapsed_ms" -lt $((3000 * KIT_SLOW)) ]
    stop_server
}

@test "echo-load: SIGINT prints the summary so far and exits 0" {
    local pid out=$BATS_TEST_TMPDIR/load.out n=0
    start_server echo-event-server 0
    echo-load -d 60 127.0.0.1 "$SERVER_PORT" >"$out" 2>&1 3>&- &
    pid=$!
    # Wait (bounded) until the server has seen the connection, so the run is under way.
    until grep -q '^connection from ' "$SERVER_ERR"; do
        [ $((n += 1)) -le $((100 * KIT_SLOW)) ] || fail "echo-load never connected"
        sleep 0.05
    done
    sleep 0.5 # let requests complete (how many depends on the machine: any count is right)
    kill -INT "$pid"
    wait_exit "$pid" "$(tmo 5)"
    run cat "$out"
    assert_summary 1 '[0-9]+' ' \(interrupted\)'
    stop_server
}

@test "echo-load: -h prints usage on stdout and exits 0" {
    run echo-load -h
    assert_success
    assert_line --index 0 "$USAGE"
    run echo-load --help
    assert_success
    assert_line --index 0 "$USAGE"
}

@test "echo-load: bad usage says what was wrong, prints the usage line and exits 2" {
    local d='must be seconds, more than 0 and at most 86400 ("2", "0.5")'
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
--bogus h 1	unknown option: --bogus
-c	option -c needs a value
EOF
}

# ---- make bench ------------------------------------------------------------------------------------

@test "make bench: a short run writes a CSV row for every server and valid SVG plots" {
    [ -z "$KIT_VARIANT" ] || skip "make bench runs the normal build, checked in the normal run"
    local out=$BATS_TEST_TMPDIR/bench server
    run timeout 60 make --no-print-directory -s -C "$KIT_ROOT/lessons/07-measuring" bench \
        BENCH_SECONDS=0.3 BENCH_CONNS="1 10" OUT_DIR="$out"
    assert_success
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
