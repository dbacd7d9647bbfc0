# tests/lib/echo_server_tests.bash - the echo-server tests, as functions any echo server runs.
#
# Lesson 03 (echo-server), lesson 05 (echo-multi-server) and lesson 06 (echo-event-server)
# run the same checks without copies:
#
#   ECHO_SERVER=echo-multi-server        # program name on PATH (default: echo-server)
#   ECHO_SERVER_ARGS=(-q)                # extra options before PORT (default: (-q))
#   load test_helper
#   load lib/echo_server_tests
#   @test "echo-multi-server: echoes bytes without a newline" { echo_test_no_newline; }
#
# Every function takes no arguments, starts the server itself with
# `start_server "$ECHO_SERVER" "${ECHO_SERVER_ARGS[@]}" [-b ADDR] 0`, runs its check with
# bats-assert, and stops it with stop_server (which fails unless the server exits 0).
# ECHO_SERVER_ARGS defaults to (-q): these checks never read the connection log, so the
# log is silenced (the server-specific bats file tests the log lines itself).
#
# Valid for ANY echo server (iterative, threaded or event loop):
#   echo_test_no_newline             "abc" without newline comes back at once, no EOF needed
#   echo_test_many_lines_one_write   one write holding many lines comes back byte for byte
#   echo_test_bytes_one_at_a_time    bytes sent one per write, with pauses, come back in order
#   echo_test_binary_1mib            1 MiB of random bytes, sha256 compared, read concurrently
#   echo_test_binary_50mib           50 MiB likewise (5 MiB under VALGRIND)
#   echo_test_transparency           CRLF, lone CR, NUL and all 256 byte values unchanged
#   echo_test_half_close             client shuts down its write side: all pending echo arrives
#   echo_test_half_close_nc          the same with nc -N, exact transcript
#   echo_test_rst_then_next_client   a client resets mid-stream (SO_LINGER 0); next is served
#   echo_test_rst_logged             the same with the log on: the reset client's "closed"
#                                    line gives the reason, the next client's gives none
#   echo_test_never_reads_then_leaves  a client that never reads blocks the server's write
#                                    with no CPU spent; when it leaves, the next is served
#   echo_test_sequential_100_clients 100 socat clients one after another, each echoed
#   echo_test_ipv6_bind              -b ::1 serves ::1 and not 127.0.0.1
#   echo_test_dual_stack_bind        -b :: serves both 127.0.0.1 and ::1
#   echo_test_port_in_use            "PROG: cannot listen on 127.0.0.1 port N: Address
#                                    already in use", exit 1
#   echo_test_restart_after_stop     a restarted server binds the same port at once, with
#                                    the old connection in TIME_WAIT
#   echo_test_sigterm_with_client    SIGTERM while a client is connected: exit 0
#   echo_test_accept_error_skipped   accept() fails with EPROTO for the third client (an
#                                    LD_PRELOAD shim breaks that connection off): one line
#                                    "PROG: accept: Protocol error: skipping that
#                                    connection", every other client served at once (no
#                                    pause), exit 0 on SIGTERM
#
# Valid only for CONCURRENT servers (lessons 05, 06):
#   echo_test_never_reads_while_another_served  a client that never reads does not stop
#                                    another client from being served meanwhile
#   echo_test_out_of_descriptors_serves_others  with room for 12 descriptors and 30 clients: the
#                                    connected ones are served, accept's EMFILE is logged
#                                    once, and a client from the backlog is served later
#   echo_test_refused_read_busy_line  --max-clients 1: 20 clients refused after sending a
#                                    line each read "Server busy, try again later." and
#                                    then EOF, not a reset
#
# Valid only for ONE-AT-A-TIME servers (lesson 03):
#   echo_test_out_of_descriptors_waits  with no descriptor left for a client: EMFILE said
#                                    once (also with -q), the server waits (no exit),
#                                    SIGTERM exits 0
#   echo_test_second_client_queued   a second client waits in the backlog and is served
#                                    right after the first leaves
#   echo_test_once                   --once: exits 0 after its first client leaves
#
# The raw peers live in tests/peers/ (python3; usage in each file's header).
# shellcheck shell=bash

: "${ECHO_SERVER:=echo-server}"
if ! declare -p ECHO_SERVER_ARGS >/dev/null 2>&1; then
    ECHO_SERVER_ARGS=(-q)
fi
ECHO_PEERS=$KIT_ROOT/tests/peers

# ---- helpers (echo_ prefix: shared with other lessons' files) --------------------------

# echo_start [OPTIONS...] - start $ECHO_SERVER with its args, OPTIONS, port 0.
echo_start() {
    start_server "$ECHO_SERVER" "${ECHO_SERVER_ARGS[@]}" "$@" 0
}

# echo_peer NAME ARGS... - run a raw peer from tests/peers/.
echo_peer() {
    local name=$1
    shift
    python3 "$ECHO_PEERS/$name.py" "$@"
}

# echo_has_ipv6 - true when ::1 can be bound here (some containers have no IPv6).
echo_has_ipv6() {
    python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null
}

# echo_exchange_file HOST FILE [PEER OPTIONS...] - send FILE's bytes through the server at
# HOST:$SERVER_PORT with the exchange peer; the echo must equal FILE byte for byte.
echo_exchange_file() {
    local host=$1 file=$2
    shift 2
    timeout "$(tmo 10)" python3 "$ECHO_PEERS/exchange.py" "$@" "$host" "$SERVER_PORT" "$file" \
        >"$BATS_TEST_TMPDIR/echoed" 3>&-
    cmp "$file" "$BATS_TEST_TMPDIR/echoed"
}

# echo_big_bytes MIB - MIB, or a tenth of it under valgrind (about 20x slower there).
echo_big_bytes() {
    local mib=$1
    if [ -n "$VALGRIND" ] && [ "$mib" -ge 10 ]; then
        mib=$((mib / 10))
    fi
    echo $((mib * 1024 * 1024))
}

# echo_stream_check BYTES - stream BYTES random bytes through the server while reading
# concurrently; the sha256 received must equal the sha256 sent.
# shellcheck disable=SC2154 # output: set by bats' run
echo_stream_check() {
    local bytes=$1 sent received
    run timeout "$(tmo 30)" python3 "$ECHO_PEERS/stream.py" 127.0.0.1 "$SERVER_PORT" "$bytes" 3>&-
    assert_success
    sent=$(sed -n 's/^sent //p' <<<"$output")
    received=$(sed -n 's/^received //p' <<<"$output")
    assert [ -n "$sent" ]
    assert_equal "$received" "$sent"
    assert_equal "${sent%% *}" "$bytes"
}

# echo_wait_output FILE PATTERN [SECS] - wait (bounded, scaled) until FILE holds a line
# matching PATTERN (grep -E).
echo_wait_output() {
    local file=$1 pattern=$2 n=0 limit=$((${3:-10} * 20 * KIT_SLOW))
    until grep -qE "$pattern" "$file" 2>/dev/null; do
        if [ $((n += 1)) -gt "$limit" ]; then
            echo "# timed out waiting for /$pattern/ in $file" >&3
            return 1
        fi
        sleep 0.05
    done
}

# echo_hold_client TEXT - connect an exchange peer that sends TEXT, gets it back and then holds
# the connection until echo_release_client (or until the server closes). Sets HOLD_PID and
# HOLD_OUT (the echo it received); the FIFO that drives it is open on fd 4.
echo_hold_client() {
    local fifo=$BATS_TEST_TMPDIR/hold.fifo
    printf '%s' "$1" >"$BATS_TEST_TMPDIR/hold.in"
    HOLD_OUT=$BATS_TEST_TMPDIR/hold.out
    rm -f "$fifo"
    mkfifo "$fifo"
    timeout "$(tmo 20)" python3 "$ECHO_PEERS/exchange.py" --hold 127.0.0.1 "$SERVER_PORT" \
        "$BATS_TEST_TMPDIR/hold.in" <"$fifo" >"$HOLD_OUT" 3>&- &
    HOLD_PID=$!
    exec 4>"$fifo"
    echo_wait_output "$HOLD_OUT" "^${1%$'\n'}\$"
}

# echo_release_client - let the held client go (EOF on its stdin); it must exit 0.
echo_release_client() {
    exec 4>&-
    wait_exit "$HOLD_PID" 10
}

# echo_cpu_ticks PID - user + system CPU time of PID so far, in clock ticks.
echo_cpu_ticks() {
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# echo_text_round_trip HOST TEXT - TEXT through the server at HOST:$SERVER_PORT comes back.
echo_text_round_trip() {
    printf '%s' "$2" >"$BATS_TEST_TMPDIR/text.in"
    echo_exchange_file "$1" "$BATS_TEST_TMPDIR/text.in"
}

# ---- valid for any echo server ---------------------------------------------------------

echo_test_no_newline() {
    echo_start
    printf 'abc' >"$BATS_TEST_TMPDIR/in"
    # The peer neither sends a newline nor half-closes: the echo must come anyway.
    run echo_exchange_file 127.0.0.1 "$BATS_TEST_TMPDIR/in"
    assert_success
    assert_equal "$(cat "$BATS_TEST_TMPDIR/echoed")" abc
    stop_server
}

echo_test_many_lines_one_write() {
    echo_start
    seq -f 'line %g of a single write' 1 2000 >"$BATS_TEST_TMPDIR/in"
    run echo_exchange_file 127.0.0.1 "$BATS_TEST_TMPDIR/in"
    assert_success
    stop_server
}

echo_test_bytes_one_at_a_time() {
    echo_start
    printf 'one byte\nat a time\r\n' >"$BATS_TEST_TMPDIR/in"
    run echo_exchange_file 127.0.0.1 "$BATS_TEST_TMPDIR/in" --chunk 1 --delay 0.005
    assert_success
    assert_equal "$(cat "$BATS_TEST_TMPDIR/echoed")" $'one byte\nat a time\r'
    stop_server
}

echo_test_binary_1mib() {
    echo_start
    echo_stream_check $((1024 * 1024))
    stop_server
}

# 50 MiB, or 5 MiB under valgrind (echo_big_bytes): valgrind runs the server ~20x slower.
echo_test_binary_50mib() {
    echo_start
    echo_stream_check "$(echo_big_bytes 50)"
    stop_server
}

echo_test_transparency() {
    local in=$BATS_TEST_TMPDIR/in
    echo_start
    python3 -c 'import sys; sys.stdout.buffer.write(b"crlf\r\nlone cr\rnul\0in a line\n" + bytes(range(256)) + b"\r")' >"$in"
    run echo_exchange_file 127.0.0.1 "$in" # compares with cmp, byte for byte
    assert_success
    stop_server
}

echo_test_half_close() {
    echo_start
    # 200 KB sent in one go and the write side shut at once: the echo of most of it is
    # still pending when the server sees EOF; all of it must come back before it closes.
    seq -f 'half-close line %g' 1 10000 >"$BATS_TEST_TMPDIR/in"
    run echo_exchange_file 127.0.0.1 "$BATS_TEST_TMPDIR/in" --half-close
    assert_success
    stop_server
}

echo_test_half_close_nc() {
    echo_start
    # nc -N shuts down its write side at stdin EOF, then prints until the server closes.
    run timeout "$(tmo 5)" nc -N 127.0.0.1 "$SERVER_PORT" < <(printf 'one\n\ntwo\r\nno newline')
    assert_success
    assert_output $'one\n\ntwo\r\nno newline'
    stop_server
}

echo_test_rst_then_next_client() {
    echo_start
    # 8 MiB and no reading: the server blocks writing the echo, then gets the RST.
    run timeout "$(tmo 10)" python3 "$ECHO_PEERS/rst.py" 127.0.0.1 "$SERVER_PORT" $((8 << 20))
    assert_success
    assert_output --regexp '^sent [1-9][0-9]* bytes, then reset$'
    run echo_text_round_trip 127.0.0.1 $'after the reset\n'
    assert_success
    stop_server
}

# Starts the server without ECHO_SERVER_ARGS: this check reads the connection log.
echo_test_rst_logged() {
    start_server "$ECHO_SERVER" 0
    run timeout "$(tmo 10)" python3 "$ECHO_PEERS/rst.py" 127.0.0.1 "$SERVER_PORT" $((8 << 20))
    assert_success
    run echo_text_round_trip 127.0.0.1 $'next\n'
    assert_success
    stop_server
    run cat "$SERVER_ERR"
    assert_line --index 0 --regexp '^connection from 127\.0\.0\.1:[0-9]+$'
    assert_line --index 1 --regexp '^closed 127\.0\.0\.1:[0-9]+: (Connection reset by peer|Broken pipe)$'
    assert_line --index 2 --regexp '^connection from 127\.0\.0\.1:[0-9]+$'
    assert_line --index 3 --regexp '^closed 127\.0\.0\.1:[0-9]+$'
    # shellcheck disable=SC2154 # lines: set by bats' run
    assert_equal "${#lines[@]}" 4
}

# The blocked server must sleep in the kernel: less than 0.2 s of CPU in a 1 s window.
echo_test_never_reads_then_leaves() {
    local fifo=$BATS_TEST_TMPDIR/noread.fifo out=$BATS_TEST_TMPDIR/noread.out pid before after
    echo_start
    mkfifo "$fifo"
    timeout "$(tmo 30)" python3 "$ECHO_PEERS/noread.py" 127.0.0.1 "$SERVER_PORT" <"$fifo" >"$out" 3>&- &
    pid=$!
    exec 5>"$fifo"
    echo_wait_output "$out" '^blocked after [1-9][0-9]* bytes$'
    before=$(echo_cpu_ticks "$SERVER_PID")
    sleep 1 # the measuring window, not a readiness wait
    after=$(echo_cpu_ticks "$SERVER_PID")
    assert [ $((after - before)) -lt 20 ]
    exec 5>&-
    wait_exit "$pid" 10
    run echo_text_round_trip 127.0.0.1 $'after the silent client\n'
    assert_success
    stop_server
}

echo_test_sequential_100_clients() {
    local i out
    echo_start
    for i in $(seq 1 100); do
        out=$(printf 'client %d\n' "$i" |
            timeout "$(tmo 5)" socat -t "$(tmo 5)" - "TCP:127.0.0.1:$SERVER_PORT" 3>&-) ||
            fail "client $i failed"
        assert_equal "$out" "client $i"
    done
    stop_server
}

echo_test_ipv6_bind() {
    echo_has_ipv6 || skip "no IPv6 loopback (::1) on this machine"
    echo_start -b ::1
    assert_equal "$SERVER_ENDPOINT" "[::1]:$SERVER_PORT"
    run echo_text_round_trip ::1 $'over IPv6\n'
    assert_success
    run timeout "$(tmo 5)" nc -z 127.0.0.1 "$SERVER_PORT"
    assert_failure
    stop_server
}

echo_test_dual_stack_bind() {
    echo_has_ipv6 || skip "no IPv6 loopback (::1) on this machine"
    echo_start -b ::
    assert_equal "$SERVER_ENDPOINT" "[::]:$SERVER_PORT"
    run echo_text_round_trip ::1 $'over IPv6\n'
    assert_success
    run echo_text_round_trip 127.0.0.1 $'over IPv4\n'
    assert_success
    stop_server
}

echo_test_port_in_use() {
    echo_start
    run timeout "$(tmo 5)" "$ECHO_SERVER" "${ECHO_SERVER_ARGS[@]}" "$SERVER_PORT" 3>&-
    assert_failure 1
    assert_output "$ECHO_SERVER: cannot listen on 127.0.0.1 port $SERVER_PORT: Address already in use"
    stop_server
}

echo_test_restart_after_stop() {
    local port
    echo_start
    port=$SERVER_PORT
    # The server closes first (it is stopped with a client connected), so its side of that
    # connection goes to TIME_WAIT: without SO_REUSEADDR the restart would fail to bind.
    echo_hold_client $'before the restart\n'
    stop_server
    echo_release_client
    # Where ss lists TIME_WAIT at all, insist that this port has one (bounded wait: the
    # client's FIN may still be on its way).
    if ss -Htan state time-wait 2>/dev/null | grep -q .; then
        local n=0
        until ss -Htan state time-wait "( sport = :$port )" | grep -q .; do
            [ $((n += 1)) -le $((40 * KIT_SLOW)) ] || fail "no TIME_WAIT connection on port $port"
            sleep 0.05
        done
    fi
    start_server "$ECHO_SERVER" "${ECHO_SERVER_ARGS[@]}" "$port"
    assert_equal "$SERVER_PORT" "$port"
    run echo_text_round_trip 127.0.0.1 $'after the restart\n'
    assert_success
    stop_server
}

echo_test_sigterm_with_client() {
    echo_start
    echo_hold_client $'still connected\n'
    stop_server
    echo_release_client
}

# Exactly the third accept call fails (accept or accept4, whichever the server uses), and
# only in the kernel's answer: strace's injection skips the call, so the connection stays
# in the backlog, and a server that goes on accepting at once serves that client too. A
# server that pauses after the error instead (as for EMFILE) makes one client wait: each of
# the six round trips must take less than 0.8 s. The stop signal goes to the server itself,
# strace's child: strace would hold it while it waits.
# ---- valid only for concurrent servers ---------------------------------------------------

echo_test_never_reads_while_another_served() {
    local fifo=$BATS_TEST_TMPDIR/noread.fifo out=$BATS_TEST_TMPDIR/noread.out pid
    echo_start
    mkfifo "$fifo"
    timeout "$(tmo 30)" python3 "$ECHO_PEERS/noread.py" 127.0.0.1 "$SERVER_PORT" <"$fifo" >"$out" 3>&- &
    pid=$!
    exec 5>"$fifo"
    echo_wait_output "$out" '^blocked after [1-9][0-9]* bytes$'
    run echo_text_round_trip 127.0.0.1 $'served meanwhile\n'
    assert_success
    exec 5>&-
    wait_exit "$pid" 10
    stop_server
}

# echo_start_with_fd_room N - echo_start, then lower the server's descriptor limit (soft and
# hard, with prlimit) so that it can open N more descriptors. Set once it listens, so that a
# program whose runtime opens files as it starts (an interpreter) starts as usual. A new
# descriptor takes the lowest free number, and must be below the limit: the limit is that
# number plus N.
echo_start_with_fd_room() {
    local lowest=0
    echo_start
    while [ -e "/proc/$SERVER_PID/fd/$lowest" ]; do lowest=$((lowest + 1)); done
    prlimit --pid "$SERVER_PID" --nofile=$((lowest + $1)):$((lowest + $1))
}

echo_test_out_of_descriptors_serves_others() {
    [ -z "$VALGRIND" ] || skip "valgrind needs descriptors of its own below the limit"
    # Room for 12 more descriptors: about ten clients exhaust them; the rest wait in the
    # backlog, the server logs accept's EMFILE once and goes on serving the connected ones.
    # When 25 of the 30 leave, the last one, still in the backlog, is accepted and served.
    local -a ECHO_SERVER_ARGS=() # the log on: it must name the failure once
    echo_start_with_fd_room 12
    run timeout "$(tmo 15)" python3 -c '
import socket, sys, time
addr = ("127.0.0.1", int(sys.argv[1]))
conns = [socket.create_connection(addr) for _ in range(30)]
first = conns[0]
first.sendall(b"still served\n")
first.settimeout(5)
print(first.recv(100).decode(), end="")
deadline = time.monotonic() + 10  # a slow build (TSan) takes a while to run out
while b"Too many open files" not in open(sys.argv[2], "rb").read():
    if time.monotonic() > deadline:
        sys.exit("the server never ran out of descriptors")
    time.sleep(0.05)
for c in conns[:25]:
    c.close()
last = conns[-1]
last.sendall(b"finally served\n")
last.settimeout(5)
print(last.recv(100).decode(), end="")
' "$SERVER_PORT" "$SERVER_ERR" 3>&-
    assert_success
    assert_output $'still served\nfinally served'
    stop_server
    run grep -c 'accept: Too many open files' "$SERVER_ERR"
    assert_output 1
}

# A client refused by --max-clients that has already sent a line: a server that closes at
# once, with that line unread, makes the kernel send a reset instead of a FIN, and the
# client reads the busy line and then "Connection reset by peer". Half-closing and draining
# until the client closes (bounded) gives every one the line, then EOF. The server is
# stopped (SIGSTOP) while the 20 connect and send, so that their lines are surely there
# when it accepts them; the peer lets it go on (SIGCONT) before it reads.
echo_test_refused_read_busy_line() {
    echo_start --max-clients 1
    echo_hold_client $'served\n'
    kill -STOP "$SERVER_PID"
    run timeout "$(tmo 15)" python3 -c '
import os, signal, socket, sys
addr, server = ("127.0.0.1", int(sys.argv[1])), int(sys.argv[2])
busy = b"Server busy, try again later.\n"
try:
    clients = [socket.create_connection(addr) for _ in range(20)]
    for s in clients:
        s.sendall(b"may I come in?\n")
finally:
    os.kill(server, signal.SIGCONT)
seen = []
for s in clients:
    s.settimeout(10)
    got, end = b"", "EOF"
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    except OSError as e:
        end = e.strerror or type(e).__name__
    seen.append(("the busy line" if got == busy else repr(got)) + ", then " + end)
    s.close()
for what in sorted(set(seen)):
    print(seen.count(what), what)
' "$SERVER_PORT" "$SERVER_PID" 3>&-
    kill -CONT "$SERVER_PID" # in case the peer failed before it could
    assert_success
    assert_output '20 the busy line, then EOF'
    echo_release_client
    stop_server
}

# ---- valid only for one-at-a-time servers -------------------------------------------------

echo_test_out_of_descriptors_waits() {
    [ -z "$VALGRIND" ] || skip "valgrind needs descriptors of its own below the limit"
    # No room at all: what the server holds once it listens is all it may hold, so no
    # client can be accepted. (-q: the connection log stays off; the failure is no
    # connection event, and must be said anyway.) A server already blocked in accept()
    # when the limit fell has its descriptor reserved by the kernel and accepts one more
    # client: so a first client comes and goes, then a second one waits in the backlog.
    echo_start_with_fd_room 0
    timeout "$(tmo 5)" python3 -c '
import socket, sys, time
address = ("127.0.0.1", int(sys.argv[1]))
first = socket.create_connection(address)  # the kernel completes it, accepted or not
time.sleep(0.3)
first.close()
second = socket.create_connection(address)
time.sleep(1)  # ten tries of accept
' "$SERVER_PORT" 3>&-
    kill -0 "$SERVER_PID" # still running
    stop_server            # and SIGTERM still ends it with exit 0
    run cat "$SERVER_ERR"
    assert_output "$ECHO_SERVER: accept: Too many open files: trying again every 100 ms"
}

echo_test_second_client_queued() {
    local out=$BATS_TEST_TMPDIR/second.out pid
    echo_start
    echo_hold_client $'first\n'
    printf 'second\n' >"$BATS_TEST_TMPDIR/second.in"
    timeout "$(tmo 20)" python3 "$ECHO_PEERS/exchange.py" --timeout "$(tmo 15)" \
        127.0.0.1 "$SERVER_PORT" "$BATS_TEST_TMPDIR/second.in" >"$out" 3>&- 4>&- &
    pid=$!
    sleep 0.5 # proving an absence: the second client gets nothing while the first stays
    assert [ ! -s "$out" ]
    kill -0 "$pid"
    echo_release_client
    wait_exit "$pid" 10
    assert_equal "$(cat "$out")" second
    stop_server
}

echo_test_once() {
    echo_start --once
    run echo_text_round_trip 127.0.0.1 $'only one\n'
    assert_success
    local status=0
    wait_exit "$SERVER_PID" 5 || status=$?
    assert_equal "$status" 0
}

# ---- valid for any echo server: an accept() error that concerns one client only ------------

# echo_test_accept_error_skipped - the third connection fails inside accept() with EPROTO,
# as when the kernel reports a connection lost between the handshake and accept() (the shim
# tests/common/accept-fail.c resets it and fails that call). Linux's accept(2) asks servers
# to treat such errors like EAGAIN: the server logs "PROG: accept: Protocol error" once (an
# error, so also under -q; the test runs with the log on and ignores "connection from" and
# "closed" lines), accepts the fourth client and the fifth, and still exits 0 on SIGTERM.
echo_test_accept_error_skipped() {
    [ -z "$KIT_VARIANT" ] || skip "a sanitizer's runtime must be loaded first: no LD_PRELOAD"
    [ "$(uname -s)" = Linux ] || skip "needs Linux: accept-fail.so is a shim for its LD_PRELOAD"
    local -a ECHO_SERVER_ARGS=() # the log on: the error must be in it, once
    local shim=$KIT_ROOT/build/tests/accept-fail.so shim_log=$BATS_TEST_TMPDIR/accept-fail.log
    [ -f "$shim" ] || fail "$shim is not built: run make at the top of the kit"
    hint "an accept() error such as EPROTO concerns that one connection: log it, accept the next" \
        "What can go wrong"
    start_server env LD_PRELOAD="$shim" KIT_ACCEPT_FAIL=3:EPROTO KIT_ACCEPT_FAIL_LOG="$shim_log" \
        "$ECHO_SERVER" 0
    # Five clients one after another. The third is broken off by the shim: no echo. Every
    # other one is echoed at once: a server that pauses accepting after the error (as when
    # out of descriptors) makes the fourth wait, and fails.
    run timeout "$(tmo 20)" python3 -c '
import socket, sys, time
addr, limit = ("127.0.0.1", int(sys.argv[1])), 0.8 * int(sys.argv[2])
for i in range(1, 6):
    start = time.monotonic()
    got = b""
    line = b"client %d\n" % i
    try:
        with socket.create_connection(addr) as s:
            s.sendall(line)
            s.settimeout(limit if i != 3 else 5)
            while len(got) < len(line):
                chunk = s.recv(100)
                if not chunk:
                    break
                got += chunk
    except OSError:
        pass
    took = time.monotonic() - start
    if i == 3:
        if got:
            sys.exit("client 3, whose connection failed in accept(), got an echo: %r" % got)
        continue
    if got != line:
        sys.exit("client %d: sent %r, got back %r after %.1f s" % (i, line, got, took))
print("clients 1, 2, 4 and 5 served at once; client 3 failed in accept()")
' "$SERVER_PORT" "$KIT_SLOW" 3>&-
    [ -s "$shim_log" ] || skip "accept-fail.so never ran: is $ECHO_SERVER linked statically?"
    assert_success
    kill -0 "$SERVER_PID" || fail "$ECHO_SERVER ended after the accept() error"
    stop_server
    run grep -v -e '^connection from ' -e '^closed ' -e '^refused ' "$SERVER_ERR"
    assert_output "$ECHO_SERVER: accept: Protocol error: skipping that connection"
}
