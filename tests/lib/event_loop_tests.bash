# tests/lib/event_loop_tests.bash - lesson 06's own checks of an echo server, as functions
# that echo-poll-server and echo-event-server both run, and the helpers of lesson 06's files
# (tests/06-event-loop*.bats).
#
#   ECHO_SERVER=echo-event-server      # program name on PATH (default: echo-poll-server)
#   load test_helper
#   load lib/echo_server_tests
#   load lib/event_loop_tests
#   @test "stage 8: echo-event-server: ..." { ev_test_round_trips; }
#
# Every ev_test_ function starts the server itself (ev_start), sets a hint before each
# check (the likely mistake, in a learner's words, and the section of lessons/06-event-loop/
# README.md that explains it), and stops the server. A failure says what was sent, what was
# expected and what came back, or how the server ended.
#
#   ev_test_starts           "listening on 127.0.0.1:PORT" at once, exit 0 on SIGTERM, and
#                            on SIGINT
#   ev_test_round_trips      one connection, six exchanges with pauses between them (bytes
#                            without a newline first), then a half-close: every echo, then EOF
#   ev_test_logs             "connection from ADDR:PORT" and "closed ADDR:PORT" on stderr
#   ev_test_two_clients      B is served while A is connected and silent, then A
#   ev_test_thousand_clients 1,000 connections at once, 20 lines of 64 bytes each
#   ev_test_hundred_clients  100 clients one after another; the server's open descriptors
#                            (/proc/PID/fd) are as many afterwards as before
#   ev_test_slow_reader      1 MiB through a client with a small receive window that reads
#                            slowly: every byte back, in order (partial writes, POLLOUT)
#   ev_test_thousand_64k     1,000 connections at once, 64 KiB each, every byte checked
#   ev_test_hog              a client sends 100 MiB and never reads: the server's resident
#                            size grows by at most 1 MiB, and another client is served
#   ev_test_never_reads      a client that never reads: no CPU spent on it, another client
#                            served meanwhile and after it leaves
#   ev_test_sigpipe          a client half-closes and resets before its echo is sent: the
#                            server survives (no SIGPIPE death) and serves the next
#   ev_test_sigterm_thousand SIGTERM with 1,000 connections open: exit 0 within 2 s, and
#                            every connection closed
#   ev_test_idle_timeout     --idle-timeout 1: a silent client closed after 1 s, also when
#                            nothing else happens; an active one only 1 s after its last byte
#   ev_test_max_clients      --max-clients 2: the third client gets the busy line; a freed
#                            slot serves again
#   ev_test_usage PROG       -h, and every kind of bad usage
# shellcheck shell=bash

: "${ECHO_SERVER:=echo-poll-server}"
if ! declare -p ECHO_SERVER_ARGS >/dev/null 2>&1; then
    ECHO_SERVER_ARGS=(-q)
fi

# The lesson's load client (bench/echo-bench.c): a test tool, never run under valgrind.
EV_BENCH=$(kit_program_dir "$KIT_ROOT/lessons/06-event-loop")/bench/echo-bench

# The sections of lessons/06-event-loop/README.md that the hints name (some only in
# 06-event-loop-kk.bats).
# shellcheck disable=SC2016 # the backquotes are the heading's own, not a command
EV_S_POLL='First step: `poll()` and echo-poll-server'
EV_S_LOOP='The loop'
# shellcheck disable=SC2034 # used by 06-event-loop-kk.bats
EV_S_STATE="Per-connection state replaces the thread's stack"
EV_S_BACKPRESSURE='Backpressure, with the 1 GiB client'
EV_S_RUN='Build and run'
EV_S_WRONG='What can go wrong'
EV_S_TURN='Your turn'

# ev_loop_section - the section that explains the loop of $ECHO_SERVER.
ev_loop_section() {
    if [ "$ECHO_SERVER" = echo-poll-server ]; then echo "$EV_S_POLL"; else echo "$EV_S_LOOP"; fi
}

# ev_ready_call - what the server waits in: poll() or epoll_wait().
ev_ready_call() {
    if [ "$ECHO_SERVER" = echo-poll-server ]; then echo "poll()"; else echo "epoll_wait()"; fi
}

# ---- the raw peer ----------------------------------------------------------------------

# Lesson 06's scripted clients (python3). Each prints one line when all went well, and
# otherwise, on stderr, what it sent, what it expected and what came back, and exits 1.
EV_PEER_PY=$(
    cat <<'PY'
import array, os, select, signal, socket, struct, sys, threading, time

cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
args = sys.argv[4:]
slow = float(os.environ.get("KIT_SLOW", "1"))
NAMES = {0x0a: "\\n", 0x0d: "\\r", 0x09: "\\t", 0x00: "\\0", 0x22: '\\"', 0x5c: "\\\\"}

def lit(data, width=60):
    text = "".join(NAMES.get(b, chr(b) if 0x20 <= b < 0x7f else "\\x%02x" % b)
                   for b in data[:width])
    return '"%s"%s' % (text, "..." if len(data) > width else "")

def count(n):
    return format(n, ",")

def fail(*lines):
    sys.stderr.write("\n".join(lines) + "\n")
    sys.exit(1)

def connect():
    try:
        return socket.create_connection((host, port), timeout=5 * slow)
    except OSError as e:
        fail("cannot connect to %s port %d: %s" % (host, port, e.strerror or e))

def receive(s, want, limit):
    """Read until want bytes came; returns (bytes, how it ended: None, EOF, reset, silence)."""
    got = b""
    deadline = time.monotonic() + limit
    while len(got) < len(want):
        s.settimeout(max(deadline - time.monotonic(), 0.001))
        try:
            part = s.recv(len(want) - len(got))
        except socket.timeout:
            return got, "silence"
        except ConnectionResetError:
            return got, "reset"
        if not part:
            return got, "EOF"
        got += part
    return got, None

def exchange(s, name, data, limit=5):
    """Send data on s, expect it back; fail in a learner's words otherwise."""
    s.sendall(data)
    got, end = receive(s, data, limit * slow)
    if got == data:
        return
    lines = ["%s: sent     %s" % (name, lit(data)), "%s  expected %s" % (" " * len(name), lit(data)),
             "%s  got      %s" % (" " * len(name), lit(got))]
    if got != data[:len(got)]:
        lines.append("the echo differs from what was sent")
    elif end == "EOF":
        lines.append("then the server closed the connection")
    elif end == "reset":
        lines.append("then the server reset the connection")
    else:
        lines.append("then nothing more for %g s" % (limit * slow))
    fail(*lines)

def expect_end(s, name, limit=5):
    s.settimeout(limit * slow)
    try:
        rest = s.recv(100)
    except socket.timeout:
        fail("%s: half-closed; expected the server to close the connection, but it stayed open" % name)
    except ConnectionResetError:
        fail("%s: half-closed; expected the end of the stream (EOF), got a reset" % name)
    if rest:
        fail("%s: half-closed; expected the end of the stream, got more bytes: %s" % (name, lit(rest)))

# rounds: one connection, six exchanges with pauses between them, then a half-close.
def rounds():
    s = connect()
    for i, data in enumerate([b"abc", b"def\n", b"second line\n", b"\r\n", b"x" * 1000 + b"\n",
                              b"last"]):
        if i > 0:
            time.sleep(0.05)
        try:
            exchange(s, "round %d" % (i + 1), data)
        except (BrokenPipeError, ConnectionResetError):
            fail("round %d: the connection was gone before %s could be sent (the server closed it "
                 "after %d round trips)" % (i + 1, lit(data), i))
    s.shutdown(socket.SHUT_WR)
    expect_end(s, "after 6 rounds")
    print("6 round trips on one connection, then EOF")

# two: A connects and says nothing; B must be served meanwhile; then A; then A after B left.
def two():
    a = connect()
    time.sleep(0.05)
    b = connect()
    s = "B (connected after A, while A says nothing)"
    b.sendall(b"from B\n")
    got, end = receive(b, b"from B\n", 3 * slow)
    if got != b"from B\n":
        fail("%s: sent \"from B\\n\", got %s (%s)" % (s, lit(got), end or "different bytes"),
             "B was not served while A stayed silent: the server waits for A")
    exchange(a, "A", b"from A\n")
    b.close()
    exchange(a, "A, after B left", b"again A\n")
    a.close()
    print("B served while A was silent, then A")

# serial N: N clients one after another, each one line, then close.
def serial():
    n = int(args[0])
    for i in range(1, n + 1):
        s = connect()
        exchange(s, "client %d" % i, b"client %d\n" % i)
        s.close()
    print("%d clients served one after another" % n)

# slow BYTES: a client with a small receive window that reads slowly; every byte back.
def slow_reader():
    total = int(args[0])
    words = array.array("I", range(total // 4))  # each 4 bytes: their own offset / 4
    if sys.byteorder == "little":
        words.byteswap()
    data = words.tobytes()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
    s.settimeout(5 * slow)
    try:
        s.connect((host, port))
    except OSError as e:
        fail("cannot connect to %s port %d: %s" % (host, port, e.strerror or e))
    def send():
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    threading.Thread(target=send, daemon=True).start()
    got, end = bytearray(), "EOF"
    s.settimeout(3 * slow)
    try:
        while True:
            part = s.recv(4096)
            if not part:
                break
            got += part
            time.sleep(0.001)
    except socket.timeout:
        end = "silence"
    except OSError as e:
        end = "reset"
    if got == data:
        print("%s bytes back, in order, then EOF" % count(total))
        return
    head = "sent %s bytes (each 4 bytes: their own offset / 4), got %s back" % (
        count(total), count(len(got)))
    same = min(len(got), total)
    at = next((i for i in range(0, same, 4096) if got[i:i + 4096] != data[i:min(i + 4096, same)]),
              None)
    if at is not None:
        at += next(i for i in range(4096) if got[at + i] != data[at + i])
        word = (at // 4) * 4
        resumed = struct.unpack(">I", bytes(got[word:word + 4]))[0] * 4 if word + 4 <= len(got) else None
        if resumed is not None and word < resumed < total:
            fail(head, "bytes %s to %s never came back: the echo jumps from offset %s to %s" % (
                count(word), count(resumed - 1), count(word), count(resumed)),
                 "lost %s of %s bytes: a partial send() was not resent?" % (count(total - len(got)),
                                                                            count(total)))
        fail(head, "first difference at byte %s: the echo is not what was sent" % count(at))
    if len(got) < total:
        how = {"EOF": "the server closed the connection", "reset": "the server reset the connection",
               "silence": "nothing more came for %g s" % (3 * slow)}[end]
        lines = [head, "what came back is the start of what was sent, then %s" % how]
        if end == "silence":
            lines.append("the rest waits in the server: what send() did not take must be sent "
                         "when the socket has room again (POLLOUT)")
        else:
            lines.append("a client that reads slowly fills its output buffer: that is no reason "
                         "to end it; stop reading it (no POLLIN) while the buffer is full, and "
                         "read again once it has drained (backpressure)")
        fail(*lines)
    fail(head, "%s bytes more than were sent" % count(len(got) - total))

# sigpipe SERVER_PID: stop the server; connect, send, half-close and reset; let it go on.
# Back, it reads the bytes and sends their echo into a connection that is gone: that send
# fails with EPIPE, and raises SIGPIPE unless the server ignores it or says MSG_NOSIGNAL.
def sigpipe():
    server = int(args[0])
    os.kill(server, signal.SIGSTOP)
    try:
        s = socket.create_connection((host, port))
        s.sendall(b"echo this to a client that is gone\n" * 100)
        s.shutdown(socket.SHUT_WR)
        time.sleep(0.05)  # the FIN first: the server's side is then in CLOSE_WAIT
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    finally:
        os.kill(server, signal.SIGCONT)
    print("sent 3,600 bytes, half-closed, reset")

# idle: --idle-timeout 1. A connects and says nothing. B sends a line every 0.2 s for 0.6 s,
# then falls silent too. A must be closed 1 s after it connected (nothing but the deadline
# wakes the server by then), B 1 s after its last line.
def idle():
    start = time.monotonic()
    a = connect()
    b = connect()
    for i in range(4):
        if i:
            time.sleep(0.2)
        exchange(b, "B", b"tick %d\n" % i, 2)
    last = time.monotonic() - start
    closed = {}
    margin, limit = 0.5 * slow, last + 1 + 1.5 * slow
    while len(closed) < 2 and time.monotonic() - start < limit:
        ready, _, _ = select.select([x for x in (a, b) if x not in closed], [], [], 0.05)
        for x in ready:
            try:
                data = x.recv(100)
            except ConnectionResetError:
                data = b""
            if not data:
                closed[x] = time.monotonic() - start
    ta, tb = closed.get(a), closed.get(b)
    if ta is None:
        fail("A connected and said nothing; it was still open %.1f s later" % limit,
             "(B's last line was at %.1f s: after that, nothing but A's deadline at 1 s could "
             "wake the server)" % last)
    if ta < 0.9:
        fail("A, silent from the start, was closed after %.1f s, before its 1 s were up" % ta)
    if ta > 1 + margin:
        fail("A, silent from the start, was closed only after %.1f s, not about 1 s" % ta)
    if tb is not None and tb < last + 0.8:
        fail("B sent its last line at %.1f s and was closed at %.1f s: idle time counts from "
             "a client's last byte, not from when it connected" % (last, tb))
    if tb is None or tb > last + 1 + margin:
        fail("B sent its last line at %.1f s; it was still open at %.1f s" % (last, limit))
    print("A closed 1 s after it connected, B 1 s after its last line")

{"rounds": rounds, "two": two, "serial": serial, "slow": slow_reader, "sigpipe": sigpipe,
 "idle": idle}[cmd]()
PY
)

# ev_peer CMD ARGS... - run lesson 06's scripted client CMD against 127.0.0.1:$SERVER_PORT.
ev_peer() {
    local cmd=$1
    shift
    KIT_SLOW=$KIT_SLOW timeout "$(tmo 30)" python3 -c "$EV_PEER_PY" "$cmd" 127.0.0.1 \
        "$SERVER_PORT" "$@" 3>&-
}

# ev_expect_peer EXPECTED CMD ARGS... - run the scripted client CMD; it must succeed and print
# EXPECTED. Otherwise print what it said (what it sent, expected and got) and fail.
ev_expect_peer() {
    local expected=$1 out status=0
    shift
    out=$(ev_peer "$@" 2>&1) || status=$?
    [ "$status" -ne 0 ] || [ "$out" != "$expected" ] || return 0
    printf '%s\n' "$out"
    [ "$status" -ne 124 ] || echo "(the client gave up after $(tmo 30) s)"
    return 1
}

# ---- starting, stopping, and how a server ended ---------------------------------------

# ev_start [OPTIONS...] - start $ECHO_SERVER with its args, OPTIONS, port 0, with the hint
# for a server that never says it listens.
ev_start() {
    hint "print \"listening on ADDR:PORT\" once the socket listens, then fflush(stdout): into a file or a pipe, stdout is written only when its buffer fills" "$EV_S_RUN"
    start_server "$ECHO_SERVER" "${ECHO_SERVER_ARGS[@]}" "$@" 0
}

# ev_ended STATUS - how a process ended, in words: "exit status 1", "killed by SIGPIPE
# (exit status 141)".
ev_ended() {
    local signal
    if [ "$1" -gt 128 ] && signal=$(kill -l "$(($1 - 128))" 2>/dev/null); then
        echo "killed by SIG$signal (exit status $1)"
    else
        echo "exit status $1"
    fi
}

# ev_alive AFTER - the server still runs; otherwise print how it ended, AFTER what, and fail.
ev_alive() {
    local status=0
    kill -0 "$SERVER_PID" 2>/dev/null && return 0
    wait "$SERVER_PID" || status=$?
    echo "the server is gone: $(ev_ended "$status"), after $1"
    return 1
}

# ev_stop - SIGTERM; the server must exit 0 within 5 s (scaled), or say how it ended.
ev_stop() {
    local status=0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait_exit "$SERVER_PID" 5 || status=$?
    [ "$status" -ne 0 ] || return 0
    if [ "$status" -eq 124 ]; then
        echo "SIGTERM: the server was still running $(tmo 5) s later (then killed)"
    else
        echo "SIGTERM: the server was $(ev_ended "$status"), instead of closing everything and exiting 0"
    fi
    return 1
}

# ev_setup PROG - the setup of lesson 06's files: kit_setup; then, when USE= names programs
# to judge and PROG (the one this file judges) is not among them, skip: the file would only
# test the kit's own PROG again (the bug zoo plants one program at a time).
ev_setup() {
    EV_JOBS_BEFORE=" $(jobs -p | tr '\n' ' ')" # bats' own (its timeout countdown), not ours
    kit_setup
    [ -z "${USE:-}" ] || [[ " $USE" == *" $1="* ]] ||
        skip "USE= names other programs than $1, the one these tests judge"
}

# ev_teardown - the teardown of lesson 06's files: end the test's background jobs quietly
# (bash would report each one killed, under a failed test), then kit_teardown. Not the jobs
# that ran before setup, bats' timeout countdown (bats 1.8), nor the kit's watchdog, which
# end by themselves: killed, the countdown would leave its `sleep` behind, holding bats'
# output open until it ends, BATS_TEST_TIMEOUT seconds later.
ev_teardown() {
    local pid
    for pid in $(jobs -p); do
        if [[ $EV_JOBS_BEFORE == *" $pid "* ]] || [ "$pid" = "${KIT_WATCHDOG_PID:-}" ]; then
            continue
        fi
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    kit_teardown
}

# ev_hinted TEXT SECTION CHECK [ARGS...] - run a shared check (lib/echo_server_tests.bash,
# lib/kk_tests.bash) under this hint, written for the event loop: the hints the check sets
# itself (for lessons 03 to 05's servers, which block) are ignored for this test.
ev_hinted() {
    hint "$1" "$2"
    shift 2
    # shellcheck disable=SC2317 # called by the shared check, in place of stages.bash's hint
    hint() { :; }
    "$@"
}

# ev_fd_count PID - how many descriptors PID holds open now.
ev_fd_count() {
    local fds=("/proc/$1/fd/"*)
    echo "${#fds[@]}"
}

# ---- stage: it starts, echoes, stops --------------------------------------------------

ev_test_starts() {
    local status=0
    ev_start
    hint "without -b, listen on 127.0.0.1 (loopback only); print exactly one line on stdout" "$EV_S_RUN"
    assert_equal "$SERVER_ENDPOINT" "127.0.0.1:$SERVER_PORT"
    if [ "$ECHO_SERVER" = echo-poll-server ]; then
        hint "catch SIGTERM: sig_setup_stop() (common/sig.h) sets a flag, and keeps the signal blocked except inside ppoll(); when it is set, leave the loop, close every socket and return 0 from main" "$(ev_loop_section)"
    else
        hint "the loop reads SIGTERM from its signalfd, which sees it only if SIGINT and SIGTERM are blocked first (sig_setup_stop() does it, before ev_loop_new()); then leave the loop, close every socket and return 0 from main" "$(ev_loop_section)"
    fi
    ev_stop
    assert_equal "$(cat "$SERVER_OUT")" "listening on 127.0.0.1:$SERVER_PORT"
    ev_start
    hint "SIGINT (Ctrl-C) must stop the server as SIGTERM does: close everything, exit 0" "$(ev_loop_section)"
    kill -INT "$SERVER_PID"
    wait_exit "$SERVER_PID" 5 || status=$?
    [ "$status" -eq 0 ] || fail "SIGINT: the server was $(ev_ended "$status"), not exit status 0"
}

ev_test_round_trips() {
    ev_start
    hint "a client talks many times on one connection: read what is there, echo it, and go back to $(ev_ready_call); read() returning -1 with errno EAGAIN means \"nothing more for now\", not an error; only read() returning 0 (the client's EOF) ends it" "$(ev_loop_section)"
    ev_expect_peer "6 round trips on one connection, then EOF" rounds
    ev_stop
}

ev_test_logs() {
    local port
    local -a ECHO_SERVER_ARGS=() # the log on
    ev_start
    port=$(free_port)
    hint "the echo of one line, through socat (a client the kit did not write)" "$(ev_loop_section)"
    run timeout "$(tmo 5)" socat -t "$(tmo 5)" - "TCP:127.0.0.1:$SERVER_PORT,sourceport=$port,reuseaddr" <<<"logged"
    assert_success
    assert_output "logged"
    ev_stop
    hint "one line on stderr as a client comes (\"connection from ADDR:PORT\") and one as it leaves (\"closed ADDR:PORT\", with the reason after a colon only for an error), nothing else" "$EV_S_RUN"
    run cat "$SERVER_ERR"
    assert_output "connection from 127.0.0.1:$port
closed 127.0.0.1:$port"
}

# ev_test_usage PROG - -h prints the usage line on stdout; bad usage says what was wrong.
ev_test_usage() {
    local prog=$1 tail="[-b ADDR] [--idle-timeout SECS] [--max-clients N] [--once] [-q] PORT"
    hint "the command line, as every server of the kit takes it: the starter keeps parse_args() whole" "$EV_S_RUN"
    run "$prog" -h
    assert_success
    assert_output "usage: $prog $tail"
    assert_usage_errors "$prog" "usage: $prog $tail" <<'EOF'
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
}

# ---- stage: many clients at once --------------------------------------------------------

ev_test_two_clients() {
    ev_start
    hint "one thread serves everyone: never block on one client; wait in $(ev_ready_call) for all the sockets at once (the listener too), then serve only those that are ready" "$(ev_loop_section)"
    ev_expect_peer "B served while A was silent, then A" two
    ev_stop
}

ev_test_thousand_clients() {
    # 1,000 connections, or 100 under valgrind (about 20 times slower there).
    local conns=1000
    [ -z "$VALGRIND" ] || conns=100
    ev_start
    hint "accept() every client waiting (until EAGAIN), give each its own entry and state, and raise the open-file limit: 1,000 clients need 1,000 descriptors" "$(ev_loop_section)"
    run timeout "$(tmo 20)" "$EV_BENCH" -c "$conns" -s 64 -n 20 127.0.0.1 "$SERVER_PORT" 3>&-
    assert_success
    assert_output --regexp "^conns=$conns idle=0 size=64 .* replies=$((conns * 20)) "
    ev_stop
}

ev_test_hundred_clients() {
    local before after n=0
    ev_start
    before=$(ev_fd_count "$SERVER_PID")
    hint "serve clients one after another on the same loop" "$(ev_loop_section)"
    ev_expect_peer "100 clients served one after another" serial 100
    hint "close() each client's socket when it leaves (and drop its entry): one descriptor leaked per client, and the server runs out after about a thousand" "$(ev_loop_section)"
    # The last client's close may still be on its way: wait (bounded) for the count to fall.
    until after=$(ev_fd_count "$SERVER_PID") && [ "$after" -le "$before" ]; do
        [ $((n += 1)) -le $((40 * KIT_SLOW)) ] || break
        sleep 0.05
    done
    [ "$after" -le "$before" ] ||
        fail "the server held $before descriptors before the 100 clients, and $after once they had all left: $((after - before)) sockets never closed"
    ev_stop
}

# ---- stage: every byte back -----------------------------------------------------------

ev_test_slow_reader() {
    ev_start
    hint "send() on a non-blocking socket takes only what fits and returns that count: keep the rest in the client's output buffer, ask for POLLOUT (EPOLLOUT), and send it when the socket has room, before anything newer" "$EV_S_WRONG"
    ev_expect_peer "1,048,576 bytes back, in order, then EOF" slow $((1 << 20))
    ev_stop
}

# ev_test_thousand_64k - 1,000 connections at once, each echoing 64 KiB (100 under valgrind)
ev_test_thousand_64k() {
    local conns=1000
    [ -z "$VALGRIND" ] || conns=100
    ev_start
    hint "with 1,000 clients sending 64 KiB each, many echoes go out in pieces: each client's own output buffer keeps its rest" "$EV_S_BACKPRESSURE"
    run timeout "$(tmo 20)" "$EV_BENCH" -c "$conns" -s 65536 -n 1 127.0.0.1 "$SERVER_PORT" 3>&-
    assert_success
    assert_output --regexp "^conns=$conns idle=0 size=65536 .* replies=$conns "
    ev_stop
}

# ---- stage: backpressure ----------------------------------------------------------------

# A client sends 100 MiB and never reads; one other client does request/reply meanwhile.
# The server stops reading the hog once its 64 KiB output buffer is full: the hog gets no
# further than the kernel's socket buffers, and the server's memory does not grow.
ev_test_hog() {
    local out hog replies before peak
    ev_start
    hint "the bench client could not measure (it needs the server to go on serving)" "$EV_S_BACKPRESSURE"
    out=$(timeout "$(tmo 20)" "$EV_BENCH" -c 1 -d 0.3 --hog $((100 << 20)) --pid "$SERVER_PID" \
        127.0.0.1 "$SERVER_PORT" 2>&1 3>&-) || fail "echo-bench failed: $out"
    hog=$(grep -o 'hog_sent=[0-9]*' <<<"$out" | cut -d= -f2)
    replies=$(grep -o ' replies=[0-9]*' <<<"$out" | cut -d= -f2)
    before=$(grep -o 'rss_before_kib=[0-9]*' <<<"$out" | cut -d= -f2)
    peak=$(grep -o 'rss_peak_kib=[0-9]*' <<<"$out" | cut -d= -f2)
    hint "stop reading from a client while its output buffer is full (drop POLLIN / EPOLLIN), and read again once it has drained: TCP then stops the sender" "$EV_S_BACKPRESSURE"
    assert [ "$hog" -gt 0 ]
    [ "$hog" -lt $((100 << 20)) ] ||
        fail "a client sent all of its 100 MiB without reading a byte back: the server read it all"
    [ "$replies" -gt 10 ] ||
        fail "another client got only $replies replies in 0.3 s while the first one sent without reading"
    # Resident size is meaningless under valgrind (the server runs inside it).
    if [ -z "$VALGRIND" ] && [ -z "$KIT_VARIANT" ] && [ $((peak - before)) -gt 1024 ]; then
        fail "the server's resident size grew by $(kit_count $((peak - before))) KiB while a client sent $(kit_count "$hog") bytes without reading: its output buffer has no bound, or the server did not stop reading"
    fi
    ev_stop
}

# A client that never reads: the server blocks on it without spending CPU (less than 0.1 s
# in a 0.5 s window), serves another client meanwhile, and the next one after it leaves.
ev_test_never_reads() {
    local fifo=$BATS_TEST_TMPDIR/noread.fifo out=$BATS_TEST_TMPDIR/noread.out pid before after
    ev_start
    mkfifo "$fifo"
    timeout "$(tmo 30)" python3 "$ECHO_PEERS/noread.py" 127.0.0.1 "$SERVER_PORT" <"$fifo" >"$out" 3>&- &
    pid=$!
    exec 5>"$fifo"
    hint "a client that never reads fills its buffers, then TCP stops it: the server must go on serving the others" "$EV_S_BACKPRESSURE"
    echo_wait_output "$out" '^blocked after [1-9][0-9]* bytes$'
    before=$(echo_cpu_ticks "$SERVER_PID")
    hint "another client is served while the first one never reads" "$EV_S_BACKPRESSURE"
    run echo_text_round_trip 127.0.0.1 $'served meanwhile\n'
    assert_success
    sleep 0.5 # the rest of the measuring window, not a readiness wait
    after=$(echo_cpu_ticks "$SERVER_PID")
    hint "ask for POLLOUT (EPOLLOUT) only while output waits, and POLLIN only while the buffer has room: a readiness the loop does not act on is reported again at once, and the loop spins" "$EV_S_WRONG"
    [ $((after - before)) -lt 10 ] ||
        fail "the server spent $((after - before))0 ms of CPU in about 0.5 s, blocked on a client that never reads: a busy loop"
    exec 5>&-
    wait_exit "$pid" 10
    hint "when the client that never read leaves (its unread echo makes that a reset), close it and serve the next" "$EV_S_WRONG"
    run echo_text_round_trip 127.0.0.1 $'after the silent client\n'
    assert_success
    ev_stop
}

# ---- stage: resets and stopping --------------------------------------------------------------

ev_test_sigpipe() {
    ev_start
    hint "a send() into a connection the client has reset fails with EPIPE and raises SIGPIPE, which ends the process: ignore SIGPIPE (sig_setup_stop() in common/sig.h does) or send with MSG_NOSIGNAL, and close that one client" "$EV_S_TURN"
    ev_expect_peer "sent 3,600 bytes, half-closed, reset" sigpipe "$SERVER_PID"
    # The next client: once it is served, the server has served the one before too.
    if [ "$ECHO_SERVER" = kk-event-server ]; then
        run kk_peer open z expect z "$KK_KNOCK" close z
    else
        run echo_text_round_trip 127.0.0.1 $'after the reset\n'
    fi
    ev_alive "a client half-closed and reset the connection before the server wrote to it"
    assert_success
    ev_stop
}

# SIGTERM with 1,000 connections open: exit 0 within 2 s, each one closed
ev_test_sigterm_thousand() {
    local out=$BATS_TEST_TMPDIR/bench.out pid n=0 start elapsed status=0
    ev_start
    "$EV_BENCH" -c 0 -i 1000 --until-closed 127.0.0.1 "$SERVER_PORT" >"$out" 2>&1 3>&- &
    pid=$!
    hint "1,000 clients connect and stay" "$(ev_loop_section)"
    until grep -q '^connected 1000$' "$out"; do
        kill -0 "$pid" 2>/dev/null || fail "echo-bench: $(cat "$out")"
        [ $((n += 1)) -le $((200 * KIT_SLOW)) ] || fail "1,000 connections not open in time"
        sleep 0.05
    done
    hint "SIGTERM must end the wait at once, even with 1,000 clients connected: close them all, exit 0" "$(ev_loop_section)"
    start=$(date +%s%N)
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID" 2 || status=$?
    elapsed=$((($(date +%s%N) - start) / 1000000))
    [ "$status" -eq 0 ] || fail "SIGTERM with 1,000 clients: the server was $(ev_ended "$status")"
    assert [ "$elapsed" -lt $((2000 * KIT_SLOW)) ]
    wait_exit "$pid" 5
    run cat "$out"
    assert_output $'connected 1000\nclosed by the server: 1000'
}

# ---- stage: the options ------------------------------------------------------------------

ev_test_idle_timeout() {
    ev_start --idle-timeout 1
    hint "--idle-timeout: note each client's last byte (in or out); $(ev_ready_call)'s timeout must be the first deadline, so that the server wakes up for it when nothing else happens, then close the clients whose time is up" "$EV_S_RUN"
    ev_expect_peer "A closed 1 s after it connected, B 1 s after its last line" idle
    ev_stop
}

# --max-clients 2: the third client is told so and closed; a freed slot serves again
ev_test_max_clients() {
    local out=$BATS_TEST_TMPDIR/second.out second
    ev_start --max-clients 2
    hint "--max-clients 2: two clients served" "$EV_S_RUN"
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
    hint "--max-clients N: client N+1 is accepted, gets \"Server busy, try again later.\\n\" and the end of the stream, and is never served" "$EV_S_RUN"
    run timeout "$(tmo 5)" socat -t "$(tmo 5)" - "TCP:127.0.0.1:$SERVER_PORT" <<<"third"
    assert_success
    assert_output 'Server busy, try again later.'
    hint "--max-clients: a client that leaves frees its slot for the next" "$EV_S_RUN"
    echo_release_client
    run echo_text_round_trip 127.0.0.1 $'after a slot freed\n'
    assert_success
    kill "$second"
    wait "$second" 2>/dev/null || true
    ev_stop
}
