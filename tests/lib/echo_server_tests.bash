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
#   echo_test_slow_reader            8 MiB to a client that reads only once its sending
#                                    stalls: every byte back ("lost N of M bytes: a
#                                    partial send() was not resent?")
#   echo_test_transparency           CRLF, lone CR, NUL and all 256 byte values unchanged
#   echo_test_half_close             client shuts down its write side: all pending echo arrives
#   echo_test_half_close_nc          the same with nc -N, exact transcript
#   echo_test_rst_then_next_client   a client resets mid-stream (SO_LINGER 0); next is served
#   echo_test_rst_logged             the same with the log on: the reset client's "closed"
#                                    line gives the reason, the next client's gives none
#   echo_test_gone_before_echo       a client sends, half-closes and closes before its echo
#                                    comes: the server's next send() fails with EPIPE, which
#                                    must not kill it (SIGPIPE); the next client is served
#   echo_test_closes_every_client    100 clients, every other one resetting instead of
#                                    closing: no descriptor more in /proc/PID/fd after
#   echo_test_never_reads_then_leaves  a client that never reads blocks the server's write
#                                    with no CPU spent; when it leaves, the next is served
#   echo_test_sequential_100_clients 100 socat clients one after another, each echoed, and
#                                    no descriptor more in /proc/PID/fd after them
#   echo_test_listens_on_loopback_only  without -b, one listening socket, on 127.0.0.1
#                                    (/proc/net/tcp), not on every interface
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
# Each check sets a hint (tests/lib/stages.bash) naming the likely mistake and a section
# of the lesson's README. A lesson file sets these to its own headings before the load
# (each defaults to "What can go wrong", which every echo lesson's README has):
#   ECHO_S_ECHO     echoing bytes as they come, not lines
#   ECHO_S_CLOSE    a client's end: EOF, the half-close, close()
#   ECHO_S_CLIENTS  one client after another: accept() again, the backlog
#   ECHO_S_WRITE    partial writes, EAGAIN, a client that reads slowly or never
#   ECHO_S_VANISH   a client that resets or is gone: ECONNRESET, EPIPE, SIGPIPE
#   ECHO_S_STOP     SIGTERM and SIGINT
#   ECHO_S_LISTEN   the listening socket: the address, IPv6, SO_REUSEADDR, bind errors
#   ECHO_S_ACCEPT   accept() errors, running out of descriptors
#
# The raw peers live in tests/peers/ (python3; usage in each file's header).
# shellcheck shell=bash

: "${ECHO_SERVER:=echo-server}"
: "${ECHO_S_ECHO:=What can go wrong}"
: "${ECHO_S_CLOSE:=What can go wrong}"
: "${ECHO_S_CLIENTS:=What can go wrong}"
: "${ECHO_S_WRITE:=What can go wrong}"
: "${ECHO_S_VANISH:=What can go wrong}"
: "${ECHO_S_STOP:=What can go wrong}"
: "${ECHO_S_LISTEN:=What can go wrong}"
: "${ECHO_S_ACCEPT:=What can go wrong}"
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
# HOST:$SERVER_PORT with the exchange peer (which gives up when nothing comes for 5 s,
# scaled); the echo must equal FILE byte for byte. Otherwise print what the peer saw
# ("got 0 of 3 bytes back, then nothing more came for 5 s") and the bytes sent and got.
echo_exchange_file() {
    local host=$1 file=$2 status=0
    shift 2
    timeout "$(tmo 10)" python3 "$ECHO_PEERS/exchange.py" --timeout "$(tmo 5)" "$@" "$host" \
        "$SERVER_PORT" "$file" >"$BATS_TEST_TMPDIR/echoed" 2>"$BATS_TEST_TMPDIR/exchange.err" 3>&- ||
        status=$?
    if [ "$status" -eq 0 ] && cmp -s "$file" "$BATS_TEST_TMPDIR/echoed"; then
        return 0
    fi
    [ "$status" -ne 124 ] || echo "the exchange did not end within $(tmo 10) s"
    sed -n '1,3s/^exchange: //p' "$BATS_TEST_TMPDIR/exchange.err"
    assert_same_bytes "$file" "$BATS_TEST_TMPDIR/echoed" "$file" 2>&1 || true
    return 1
}

# echo_big_bytes MIB - MIB, or a tenth of it under valgrind (about 20x slower there).
echo_big_bytes() {
    local mib=$1
    if [ -n "$VALGRIND" ] && [ "$mib" -ge 10 ]; then
        mib=$((mib / 10))
    fi
    echo $((mib * 1024 * 1024))
}

# echo_stream_check BYTES [STREAM OPTIONS...] - stream BYTES bytes through the server with
# stream.py (--slow: a client that reads only once its sending stalls); every byte must
# come back, in order. Otherwise say what happened, in the learner's terms: bytes lost
# ("lost 4,165,632 of 8,388,608 bytes: a partial send() was not resent?"), the connection
# ended while the client was still sending, bytes changed, or the echo stopped.
# shellcheck disable=SC2154 # output, status: set by bats' run
echo_stream_check() {
    local bytes=$1 sent received sent_n received_n detail differs
    shift
    run timeout "$(tmo 30)" python3 "$ECHO_PEERS/stream.py" --timeout "$(tmo 10)" "$@" \
        127.0.0.1 "$SERVER_PORT" "$bytes" 3>&-
    sent=$(sed -n 's/^sent //p' <<<"$output")
    received=$(sed -n 's/^received //p' <<<"$output")
    if [ "$status" -eq 0 ] && [ -n "$sent" ] && [ "$received" = "$sent" ] && [ "${sent%% *}" = "$bytes" ]; then
        return 0
    fi
    if [ -z "$sent" ] || [ -z "$received" ]; then
        echo "the streaming client failed (exit status $status):"
        head -n 5 <<<"$output"
        return 1
    fi
    sent_n=${sent%% *}
    received_n=${received%% *}
    detail=$(grep -E '^(send failed|receive ended):' <<<"$output" || true)
    differs=$(sed -n 's/^first difference at byte //p' <<<"$output")
    [ -z "$differs" ] ||
        detail+=${detail:+$'\n'}"the first byte that differs is byte $(kit_count "$differs") (counting from 0)"
    if [ "$sent_n" -lt "$bytes" ]; then
        echo "the connection ended after $(kit_count "$received_n") bytes had come back, while the client" \
            "had sent only $(kit_count "$sent_n") of $(kit_count "$bytes"): did an error of send()," \
            "EAGAIN say, end the connection?"
    elif [ "$received_n" -lt "$sent_n" ]; then
        echo "lost $(kit_count $((sent_n - received_n))) of $(kit_count "$sent_n") bytes:" \
            "a partial send() was not resent?"
    elif [ "$received_n" -gt "$sent_n" ]; then
        echo "got $(kit_count "$received_n") bytes back for $(kit_count "$sent_n") sent:" \
            "some were sent twice?"
    else
        echo "all $(kit_count "$sent_n") bytes came back, but not the same bytes, or not in order"
    fi
    [ -z "$detail" ] || printf '  %s\n' "${detail//$'\n'/$'\n'  }"
    return 1
}

# echo_rst_peer_ok - after `run ... rst.py ...`: the peer sent, then reset its connection;
# otherwise say what it saw instead.
echo_rst_peer_ok() {
    [[ $output =~ ^sent\ [1-9][0-9]*\ bytes,\ then\ reset$ ]] && [ "$status" -eq 0 ] && return 0
    echo "the client that was to reset its connection in the middle of the echo saw instead:"
    head -n 3 <<<"$output" | sed 's/^/  /'
    return 1
}

# echo_running - true while the server runs (an ended server is a zombie until waited for,
# and kill -0 still reaches a zombie).
echo_running() {
    local stat
    read -r stat 2>/dev/null <"/proc/$SERVER_PID/stat" || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}

# echo_assert_running WHEN - the server still runs; otherwise say that it ended WHEN, and
# how (its exit status, or the signal that killed it: SIGPIPE gets its own hint).
echo_assert_running() {
    local status=0
    echo_running && return 0
    wait "$SERVER_PID" || status=$?
    echo "the server ended $1: it $(kit_describe_exit "$status")"
    if [ "$status" -eq $((128 + 13)) ]; then
        hint "a send() to a client that has gone fails with EPIPE and also raises SIGPIPE, whose default action kills the process: ignore SIGPIPE (sigaction SIG_IGN) or send with MSG_NOSIGNAL" "$ECHO_S_VANISH"
    fi
    return 1
}

# echo_fd_count - how many descriptors the server holds now (/proc/PID/fd).
echo_fd_count() {
    local fds=("/proc/$SERVER_PID/fd"/*)
    echo "${#fds[@]}"
}

# echo_assert_fd_count BEFORE WHAT - the server holds BEFORE descriptors again (a bounded
# wait: a concurrent server closes as it goes); otherwise say how many more it keeps
# after WHAT.
echo_assert_fd_count() {
    local before=$1 now n=0
    while now=$(echo_fd_count) && [ "$now" -gt "$before" ]; do
        if [ $((n += 1)) -gt $((40 * KIT_SLOW)) ]; then
            echo "after $2 the server holds $((now - before)) descriptors more than before" \
                "(/proc/$SERVER_PID/fd: $before before, $now after): a client's socket is not closed?"
            return 1
        fi
        sleep 0.05
    done
}

# echo_listeners PORT - the local address of every TCP socket listening on PORT, one per
# line, as /proc/net/tcp and /proc/net/tcp6 show them (127.0.0.1, 0.0.0.0, ::, ::1 ...).
echo_listeners() {
    python3 - "$1" <<'PY'
import socket, struct, sys
port = int(sys.argv[1])
for name, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
    try:
        rows = open(name).read().splitlines()[1:]
    except OSError:
        continue
    for row in rows:
        fields = row.split()
        address, hexport = fields[1].split(":")
        if fields[3] != "0A" or int(hexport, 16) != port:  # 0A: LISTEN
            continue
        # Each 32-bit word of the address is printed in the host's byte order.
        raw = bytes.fromhex(address)
        packed = b"".join(struct.pack("=I", int.from_bytes(raw[i:i + 4], "big"))
                          for i in range(0, len(raw), 4))
        print(socket.inet_ntop(family, packed))
PY
}

# echo_wait_output FILE PATTERN [SECS] - wait (bounded, scaled) until FILE holds a line
# matching PATTERN (grep -E).
echo_wait_output() {
    local file=$1 pattern=$2 n=0 limit=$((${3:-10} * 20 * KIT_SLOW))
    until grep -qE "$pattern" "$file" 2>/dev/null; do
        if [ $((n += 1)) -gt "$limit" ]; then
            echo "waited $((${3:-10} * KIT_SLOW)) s for a line matching /$pattern/; the peer printed:"
            sed -n '1,5s/^/  /p' "$file"
            return 1
        fi
        sleep 0.05
    done
}

# echo_wait_blocked_writing - after noread.py said "blocked": wait (bounded, scaled) until
# the server sleeps with its echo stuck, its side of the connection holding unread input
# (Recv-Q, from ss) while none of its threads can run. A server asleep with input to read is
# waiting to write; a client's "blocked" alone may come while the server, short of CPU, is
# still on its way there.
echo_wait_blocked_writing() {
    local n=0 queued task state stat
    while :; do
        queued=$(ss -Htn state established "( sport = :$SERVER_PORT )" 2>/dev/null |
            awk '{ q += $1 } END { print q + 0 }')
        if [ "$queued" -gt 0 ]; then
            state=S
            for task in "/proc/$SERVER_PID/task"/*/stat; do
                read -r stat 2>/dev/null <"$task" || continue
                stat=${stat##*) }
                [ "${stat%% *}" != R ] || state=R
            done
            [ "$state" = R ] || return 0
        fi
        if [ $((n += 1)) -gt $((100 * KIT_SLOW)) ]; then
            echo "the server never settled, asleep with its echo to a client that never reads stuck" \
                "(unread input on its side of the connection: $queued bytes)"
            return 1
        fi
        sleep 0.05
    done
}

# echo_noread_start - connect tests/peers/noread.py, a client that sends and never reads,
# driven by a FIFO on fd 5; wait until it says "blocked after N bytes" and the server sleeps
# with the echo stuck (echo_wait_blocked_writing). Sets NOREAD_PID. When the client is never
# blocked, or its connection fails, say so; the peer is then let go first, so that nothing
# is left to kill.
echo_noread_start() {
    local fifo=$BATS_TEST_TMPDIR/noread.fifo out=$BATS_TEST_TMPDIR/noread.out n=0 said
    rm -f "$fifo"
    mkfifo "$fifo"
    timeout "$(tmo 30)" python3 "$ECHO_PEERS/noread.py" 127.0.0.1 "$SERVER_PORT" <"$fifo" >"$out" 3>&- &
    NOREAD_PID=$!
    exec 5>"$fifo"
    until said=$(grep -m1 . "$out" 2>/dev/null); do
        if [ $((n += 1)) -gt $((200 * KIT_SLOW)) ] || ! kill -0 "$NOREAD_PID" 2>/dev/null; then
            break
        fi
        sleep 0.05
    done
    case $said in
    "blocked after "*) echo_wait_blocked_writing && return 0 ;;
    "never blocked: sent "*)
        said=${said#never blocked: sent }
        echo "a client that never reads sent $(kit_count "${said%% *}") bytes and was never stopped:" \
            "the server reads on although its echo cannot be sent (is the echo dropped?)"
        ;;
    "the connection failed after "*)
        said=${said#the connection failed after }
        echo "a client that never reads had its connection fail after $(kit_count "${said%% *}")" \
            "bytes (${said#*: }): the server ended it when send() could not go on (is EAGAIN" \
            "taken for an error?)"
        ;;
    *) echo "a client that sends and never reads said nothing in $((10 * KIT_SLOW)) s" ;;
    esac
    echo_noread_release || true
    return 1
}

# echo_noread_release - let the noread peer go (EOF on its stdin: it closes with unread
# data, which resets the connection) and wait for it to exit 0.
echo_noread_release() {
    exec 5>&-
    wait_exit "$NOREAD_PID" 10
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
    hint "send back what each read() returns, at once: waiting for a newline (as Java's readLine() does) or for the client's end means \"abc\" never comes back" "$ECHO_S_ECHO"
    echo_start
    printf 'abc' >"$BATS_TEST_TMPDIR/in"
    # The peer neither sends a newline nor half-closes: the echo must come anyway.
    echo_exchange_file 127.0.0.1 "$BATS_TEST_TMPDIR/in"
    stop_server
}

echo_test_many_lines_one_write() {
    hint "one read() may bring many lines, or part of one: send back every byte it returned (its count, not a line's length), and read again" "$ECHO_S_ECHO"
    echo_start
    seq -f 'line %g of a single write' 1 2000 >"$BATS_TEST_TMPDIR/in"
    echo_exchange_file 127.0.0.1 "$BATS_TEST_TMPDIR/in"
    stop_server
}

echo_test_bytes_one_at_a_time() {
    hint "bytes that arrive one per read() must all come back, in order: read and send back in a loop until read() returns 0 (the client's end), not once" "$ECHO_S_ECHO"
    echo_start
    printf 'one byte\nat a time\r\n' >"$BATS_TEST_TMPDIR/in"
    echo_exchange_file 127.0.0.1 "$BATS_TEST_TMPDIR/in" --chunk 1 --delay 0.005
    stop_server
}

echo_test_binary_1mib() {
    hint "every byte must come back: send() may take only part of what it is given (it returns how many bytes it took): send the rest, in a loop" "$ECHO_S_WRITE"
    echo_start
    echo_stream_check $((1024 * 1024))
    stop_server
}

# 50 MiB, or 5 MiB under valgrind (echo_big_bytes): valgrind runs the server ~20x slower.
echo_test_binary_50mib() {
    hint "every byte must come back: send() may take only part of what it is given (it returns how many bytes it took): send the rest, in a loop" "$ECHO_S_WRITE"
    echo_start
    echo_stream_check "$(echo_big_bytes 50)"
    stop_server
}

# The client sends 8 MiB at once and reads nothing until its sending stalls (or ends):
# meanwhile the buffers on the way back fill up, and the server's send() takes only part of
# what it is given, or nothing (-1, EAGAIN, when it does not block). A server that ignores
# send()'s count loses the rest; one that takes EAGAIN for an error ends the connection.
# Against one send(MSG_DONTWAIT) whose result is ignored, about 4 of the 8 MiB came back.
echo_test_slow_reader() {
    hint "when the client reads slowly, send() takes only what fits in the buffers: it returns a smaller count, or -1 with EAGAIN when it must not block; send the rest, waiting (poll() for POLLOUT) while it would block" "$ECHO_S_WRITE"
    echo_start
    echo_stream_check $((8 << 20)) --slow
    stop_server
}

echo_test_transparency() {
    local in=$BATS_TEST_TMPDIR/in
    hint "echo bytes, not text: a NUL, a CR or any byte value must come back as it came; send the count read() returned, never strlen() of the buffer" "$ECHO_S_ECHO"
    echo_start
    python3 -c 'import sys; sys.stdout.buffer.write(b"crlf\r\nlone cr\rnul\0in a line\n" + bytes(range(256)) + b"\r")' >"$in"
    echo_exchange_file 127.0.0.1 "$in" # compares byte for byte
    stop_server
}

echo_test_half_close() {
    hint "when read() returns 0 (the client half-closed), everything read must already be sent back: then close(), and the client knows the echo is complete" "$ECHO_S_CLOSE"
    echo_start
    # 200 KB sent in one go and the write side shut at once: the echo of most of it is
    # still pending when the server sees EOF; all of it must come back before it closes.
    seq -f 'half-close line %g' 1 10000 >"$BATS_TEST_TMPDIR/in"
    echo_exchange_file 127.0.0.1 "$BATS_TEST_TMPDIR/in" --half-close
    stop_server
}

echo_test_half_close_nc() {
    local in=$BATS_TEST_TMPDIR/nc.in got=$BATS_TEST_TMPDIR/nc.out status=0
    hint "echo what comes, and when read() returns 0 (nc -N half-closed at its input's end) close() the client's socket: nc waits for that to exit" "$ECHO_S_CLOSE"
    echo_start
    # nc -N shuts down its write side at stdin EOF, then prints until the server closes.
    printf 'one\n\ntwo\r\nno newline' >"$in"
    timeout "$(tmo 5)" nc -N 127.0.0.1 "$SERVER_PORT" <"$in" >"$got" 3>&- || status=$?
    if [ "$status" -eq 124 ] && cmp -s "$in" "$got"; then
        echo "the echo came back, but the connection was not closed: nc -N half-closed at the end" \
            "of its input, then waited $(tmo 5) s for the server to close"
        return 1
    fi
    [ -s "$got" ] ||
        hint "nothing came back: accept() the client, read() what it sends, and send() that back" "$ECHO_S_ECHO"
    assert_same_bytes "$in" "$got" "$in"
    [ "$status" -eq 0 ] || { echo "nc -N $(kit_describe_exit "$status")"; return 1; }
    stop_server
}

echo_test_rst_then_next_client() {
    hint "a client that resets its connection makes read() or send() fail (ECONNRESET, EPIPE): that ends this client only; close its socket and serve the next" "$ECHO_S_VANISH"
    echo_start
    # 8 MiB and no reading: the server blocks writing the echo, then gets the RST.
    run timeout "$(tmo 10)" python3 "$ECHO_PEERS/rst.py" 127.0.0.1 "$SERVER_PORT" $((8 << 20))
    echo_rst_peer_ok
    run echo_text_round_trip 127.0.0.1 $'after the reset\n'
    echo_assert_running "after a client reset its connection in the middle of the echo"
    assert_success
    stop_server
}

# The client sends 96 KiB (more than one read of the server) and its end (FIN) while the
# server is stopped, then closes before any echo came (tests/peers/gone.py): the server
# finds the connection in CLOSE_WAIT, sends the echo of its first read, the client's kernel
# answers with a reset, and the next send() fails with EPIPE, which raises SIGPIPE unless
# the server ignores it or sends with MSG_NOSIGNAL. It must log it and serve the next.
echo_test_gone_before_echo() {
    hint "a send() to a client that has closed fails with EPIPE and also raises SIGPIPE, whose default action kills the process: ignore SIGPIPE (sigaction SIG_IGN) or send with MSG_NOSIGNAL" "$ECHO_S_VANISH"
    echo_start
    run timeout "$(tmo 10)" python3 "$ECHO_PEERS/gone.py" 127.0.0.1 "$SERVER_PORT" $((96 << 10)) \
        "$SERVER_PID" 3>&-
    kill -CONT "$SERVER_PID" 2>/dev/null || true # in case the peer failed before it could
    assert_success
    run echo_text_round_trip 127.0.0.1 $'after the client that was gone\n'
    echo_assert_running "after it sent an echo to a client that had closed"
    assert_success
    stop_server
}

# Starts the server without ECHO_SERVER_ARGS: this check reads the connection log.
echo_test_rst_logged() {
    hint "log one line per client: \"connection from ADDR:PORT\" once accepted, then \"closed ADDR:PORT\" with \": reason\" (strerror) when a read or send failed" "$ECHO_S_VANISH"
    start_server "$ECHO_SERVER" 0
    run timeout "$(tmo 10)" python3 "$ECHO_PEERS/rst.py" 127.0.0.1 "$SERVER_PORT" $((8 << 20))
    echo_rst_peer_ok
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
    local before after
    hint "a client that never reads fills the buffers, and send() cannot go on: the server must then sleep (a blocking send(), or poll() for POLLOUT), not try again and again, and not drop the client" "$ECHO_S_WRITE"
    echo_start
    echo_noread_start
    before=$(echo_cpu_ticks "$SERVER_PID")
    sleep 1 # the measuring window, not a readiness wait
    after=$(echo_cpu_ticks "$SERVER_PID")
    echo_noread_release
    if [ $((after - before)) -ge 20 ]; then
        echo "the server used $((after - before))0 ms of CPU in 1 s while blocked on a client that" \
            "never reads: it tries send() again and again instead of sleeping until it can write"
        return 1
    fi
    run echo_text_round_trip 127.0.0.1 $'after the silent client\n'
    echo_assert_running "after the client that never reads left"
    assert_success
    stop_server
}

echo_test_sequential_100_clients() {
    local i out before
    hint "accept() gives a new socket for each client: close() it when that client is done, then accept() the next" "$ECHO_S_CLIENTS"
    echo_start
    before=$(echo_fd_count)
    for i in $(seq 1 100); do
        out=$(printf 'client %d\n' "$i" |
            timeout "$(tmo 5)" socat -t "$(tmo 5)" - "TCP:127.0.0.1:$SERVER_PORT" 3>&-) ||
            fail "client $i of 100 failed: it got \"$out\" back"
        assert_equal "$out" "client $i"
    done
    echo_assert_fd_count "$before" "100 clients one after another"
    stop_server
}

# 100 clients one after another from one process, each sending a line and reading its
# echo; every other one then resets its connection (SO_LINGER 0) instead of closing it, so
# the server ends half of them on a read error rather than at EOF. Every one of their
# sockets must be closed: as many descriptors in /proc/PID/fd after them as before.
echo_test_closes_every_client() {
    local before
    hint "close() a client's socket on every way out of its loop: at its end (read() returns 0) and also when a read() or send() fails (a reset)" "$ECHO_S_VANISH"
    echo_start
    before=$(echo_fd_count)
    run timeout "$(tmo 20)" python3 -c '
import socket, struct, sys
addr = ("127.0.0.1", int(sys.argv[1]))
for i in range(1, 101):
    line = b"client %d\n" % i
    with socket.create_connection(addr, timeout=5) as s:
        s.sendall(line)
        got = b""
        while len(got) < len(line):
            chunk = s.recv(100)
            if not chunk:
                break
            got += chunk
        if got != line:
            sys.exit("client %d of 100: sent %r, got back %r" % (i, line, got))
        if i % 2 == 0:  # reset, not close
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
' "$SERVER_PORT" 3>&-
    assert_success
    echo_assert_fd_count "$before" "100 clients, 50 of which reset their connection"
    echo_assert_running "after 100 clients, 50 of which reset their connection"
    stop_server
}

# Without -b the server must listen on 127.0.0.1, and nowhere else: its "listening on"
# line says so, and so does the kernel (/proc/net/tcp and tcp6: the listening sockets on
# its port), whatever the line says.
echo_test_listens_on_loopback_only() {
    local listeners
    hint "without -b, listen on 127.0.0.1 only: bind the address getaddrinfo() gives for \"127.0.0.1\", not INADDR_ANY or a NULL host (every interface, reachable from the network)" "$ECHO_S_LISTEN"
    echo_start
    listeners=$(echo_listeners "$SERVER_PORT" | sort -u | paste -sd ' ')
    if [ "$listeners" != 127.0.0.1 ]; then
        echo "the kernel lists the server's port $SERVER_PORT as listening on: ${listeners:-nothing}" \
            "(127.0.0.1 only expected)"
        return 1
    fi
    if [ "$SERVER_ENDPOINT" != "127.0.0.1:$SERVER_PORT" ]; then
        echo "the server says \"listening on $SERVER_ENDPOINT\", but listens on 127.0.0.1:$SERVER_PORT"
        return 1
    fi
    stop_server
}

echo_test_ipv6_bind() {
    echo_has_ipv6 || skip "no IPv6 loopback (::1) on this machine"
    hint "-b ::1 is an IPv6 address: getaddrinfo() gives it as AF_INET6; make the socket with the family of the address it gave, bind it, and print it in brackets" "$ECHO_S_LISTEN"
    echo_start -b ::1
    assert_equal "$SERVER_ENDPOINT" "[::1]:$SERVER_PORT"
    run echo_text_round_trip ::1 $'over IPv6\n'
    assert_success
    run timeout "$(tmo 5)" nc -z 127.0.0.1 "$SERVER_PORT"
    if [ "$status" -eq 0 ]; then
        echo "bound to ::1, the server also accepted a connection on 127.0.0.1:$SERVER_PORT"
        return 1
    fi
    stop_server
}

echo_test_dual_stack_bind() {
    echo_has_ipv6 || skip "no IPv6 loopback (::1) on this machine"
    hint "-b :: must take IPv4 clients too: set IPV6_V6ONLY to 0 on the IPv6 socket before bind() (systems differ in its default)" "$ECHO_S_LISTEN"
    echo_start -b ::
    assert_equal "$SERVER_ENDPOINT" "[::]:$SERVER_PORT"
    run echo_text_round_trip ::1 $'over IPv6\n'
    assert_success
    run echo_text_round_trip 127.0.0.1 $'over IPv4\n'
    if [ "$status" -ne 0 ]; then
        echo "bound to ::, the server served ::1 but not 127.0.0.1: its socket is IPv6-only"
        printf '  %s\n' "${lines[@]:0:1}"
        return 1
    fi
    stop_server
}

echo_test_port_in_use() {
    hint "when bind() fails, end with one line, \"PROG: cannot listen on ADDR port PORT: \" and strerror(errno), and exit status 1" "$ECHO_S_LISTEN"
    echo_start
    run timeout "$(tmo 5)" "$ECHO_SERVER" "${ECHO_SERVER_ARGS[@]}" "$SERVER_PORT" 3>&-
    assert_failure 1
    assert_output "$ECHO_SERVER: cannot listen on 127.0.0.1 port $SERVER_PORT: Address already in use"
    stop_server
}

echo_test_restart_after_stop() {
    local port
    hint "set SO_REUSEADDR on the listening socket before bind(): without it, bind() fails with \"Address already in use\" while a connection of the stopped server waits in TIME_WAIT" "$ECHO_S_LISTEN"
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
    if ! start_server "$ECHO_SERVER" "${ECHO_SERVER_ARGS[@]}" "$port"; then
        echo "restarted on port $port, where a connection of the stopped server is in TIME_WAIT," \
            "the server could not listen"
        return 1
    fi
    assert_equal "$SERVER_PORT" "$port"
    run echo_text_round_trip 127.0.0.1 $'after the restart\n'
    assert_success
    stop_server
}

echo_test_sigterm_with_client() {
    hint "SIGTERM must stop the server also while it serves a client (waiting in read()), not only while it waits in accept(): close that client's socket too, and exit 0" "$ECHO_S_STOP"
    echo_start
    echo_hold_client $'still connected\n'
    stop_server || { hint "SIGTERM must stop the server also while it serves a client (waiting in read()), not only while it waits in accept(): close that client's socket too, and exit 0" "$ECHO_S_STOP"; return 1; }
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
    hint "out of descriptors, accept() fails with EMFILE: say so once, keep serving the connected clients, and try again later (the client waits in the backlog)" "$ECHO_S_ACCEPT"
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
    hint "out of descriptors, accept() fails with EMFILE: say so once (also with -q), pause, and try again, rather than exit: the client waits in the backlog meanwhile" "$ECHO_S_ACCEPT"
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
    echo_assert_running "when accept() found no descriptor left" # still running
    stop_server # and SIGTERM still ends it with exit 0
    run cat "$SERVER_ERR"
    assert_output "$ECHO_SERVER: accept: Too many open files: trying again every 100 ms"
}

echo_test_second_client_queued() {
    local out=$BATS_TEST_TMPDIR/second.out err=$BATS_TEST_TMPDIR/second.err pid status=0
    hint "when a client leaves, close its socket and go back to accept(): the next client waits in the listen backlog until then (keep the listening socket open)" "$ECHO_S_CLIENTS"
    echo_start
    echo_hold_client $'first\n'
    printf 'second\n' >"$BATS_TEST_TMPDIR/second.in"
    timeout "$(tmo 20)" python3 "$ECHO_PEERS/exchange.py" --timeout "$(tmo 15)" \
        127.0.0.1 "$SERVER_PORT" "$BATS_TEST_TMPDIR/second.in" >"$out" 2>"$err" 3>&- 4>&- &
    pid=$!
    sleep 0.5 # proving an absence: the second client gets nothing while the first stays
    if [ -s "$out" ]; then
        echo "the second client got its echo while the first was still connected:" \
            "this server serves one client at a time"
        return 1
    fi
    kill -0 "$pid"
    echo_release_client
    wait_exit "$pid" 10 || status=$?
    if [ "$status" -ne 0 ]; then
        echo "the second client, waiting while the first was served, got no echo once the first left:"
        sed -n '1,3s/^exchange: /  /p' "$err"
        echo_assert_running "after its first client left"
        return 1
    fi
    assert_equal "$(cat "$out")" second
    stop_server
}

echo_test_once() {
    hint "--once: serve the first client, then close the listening socket and exit 0" "$ECHO_S_CLIENTS"
    echo_start --once
    run echo_text_round_trip 127.0.0.1 $'only one\n'
    assert_success
    local status=0
    wait_exit "$SERVER_PID" 5 || status=$?
    [ "$status" -ne 124 ] || { echo "with --once, the server still ran 5 s after its client left"; return 1; }
    [ "$status" -eq 0 ] || { echo "with --once, the server $(kit_describe_exit "$status") after its client left (0 expected)"; return 1; }
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
        "$ECHO_S_ACCEPT"
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
    echo_assert_running "after the accept() error"
    stop_server
    run grep -v -e '^connection from ' -e '^closed ' -e '^refused ' "$SERVER_ERR"
    assert_output "$ECHO_SERVER: accept: Protocol error: skipping that connection"
}
