# tests/lib/multi_client.bash - lesson 05's own checks and helpers, shared by its three test
# files: tests/05-multi-client-fork.bats (echo-fork-server, a process per client; stages 1
# to 7), tests/05-multi-client.bats (kk-multi-server) and tests/05-multi-client-echo.bats
# (echo-multi-server), a thread per client (stages 8 to 14). The stages are numbered across
# the three files in the order the README teaches, so that "stage 10" names one thing
# whichever file it is in. Load it after lib/echo_server_tests (it uses echo_start and the
# echo peers).
#
#   multi_child_pids PID             the processes whose parent is PID (zombies included)
#   multi_socket_count PID           how many sockets PID holds open
#   multi_hold_echo_clients N        N echo clients connected and echoed, held in the
#                                    background until the server closes them
#   multi_release_clients            the held clients leave
#   multi_stop_within MS             SIGTERM: exit 0 within MS milliseconds (scaled)
#   multi_assert_all_logged_closed N ADVICE  the log holds N "connection from" and N "closed"
#   multi_test_stop_closes_every_client ADVICE  20 echo clients held, SIGTERM: each sees the
#                                    end of its connection and is logged "closed", exit 0
#                                    within 2 s
#   multi_test_max_clients_echo      --max-clients 2: the third client gets the busy line and
#                                    EOF; a slot frees once a client has left
#   multi_test_never_reads_while_another_served  a client that never reads blocks its echo;
#                                    another client is echoed meanwhile
#   multi_test_sigterm_while_busy    SIGTERM while one client streams and 16 keep connecting
#   multi_test_accept_error_is_one_clients PROG CLIENTS  an EPROTO from accept() (strace) is
#                                    logged and the server goes on
# shellcheck shell=bash

# The README's sections, for the hints.
# shellcheck disable=SC2034 # used by the test files
{
    M_S_RUN='Build and run'
    M_S_JAVA='The Java original beside the C'
    M_S_BYE='The Java "Bye" bug'
    M_S_FORK='A process per client: echo-fork-server'
    M_S_ZOMBIES='Zombies'
    M_S_REAP='Reaping: SIGCHLD and a waitpid loop'
    M_S_STOP_CHILDREN='Stopping the children'
    M_S_THREADS='What the threads share, and how they stop'
    M_S_STOP_THREADS='How the threads stop: the pipe, and shutdown()'
    M_S_STRESS='A thread per client: make stress'
    M_S_CAP='A cap: --max-clients'
    M_S_WRONG='What can go wrong'
}

# multi_child_pids PID - the processes whose parent is PID, one pid a line (zombies included).
multi_child_pids() {
    pgrep -P "$1" || true
}

# multi_socket_count PID - how many sockets PID holds open.
multi_socket_count() {
    find "/proc/$1/fd" -lname 'socket:*' 2>/dev/null | wc -l
}

# multi_hold_echo_clients N - in the background: N clients connect and each gets "hold"
# echoed, then "ready" is printed; each then waits for the server to close it. At the end:
# "N closed" when every one read EOF, or what went otherwise. Sets HOLD_PID and HOLD_OUT.
multi_hold_echo_clients() {
    local n=0
    HOLD_OUT=$BATS_TEST_TMPDIR/hold-many.out
    timeout "$(tmo 30)" python3 -c '
import socket, sys
port, count, limit = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = [socket.create_connection(("127.0.0.1", port), timeout=limit) for _ in range(count)]
for s in socks:
    s.sendall(b"hold\n")
for i, s in enumerate(socks):
    got = b""
    while len(got) < 5:
        try:
            chunk = s.recv(5 - len(got))
        except OSError as e:
            sys.exit("client %d of %d: no echo of its line: %s" % (i + 1, count, e.strerror or e))
        if not chunk:
            sys.exit("client %d of %d: closed before its echo" % (i + 1, count))
        got += chunk
print("ready", flush=True)
ends = {}
for s in socks:
    s.settimeout(float(sys.argv[4]))
    try:
        end = "closed" if s.recv(100) == b"" else "got more bytes"
    except OSError as e:
        end = e.strerror or type(e).__name__
    ends[end] = ends.get(end, 0) + 1
print(", ".join("%d %s" % (n, end) for end, n in sorted(ends.items())))
' "$SERVER_PORT" "$1" "$(tmo 5)" "$(tmo 20)" >"$HOLD_OUT" 2>&1 3>&- &
    HOLD_PID=$!
    # Until "ready", or the clients gave up (each waits 5 s, scaled, for its echo).
    until grep -qs '^ready$' "$HOLD_OUT"; do
        if ! kill -0 "$HOLD_PID" 2>/dev/null || [ $((n += 1)) -gt $((400 * KIT_SLOW)) ]; then
            echo "$1 clients connected at once, and not every one got its line back:"
            sed -n '1,3s/^/  /p' "$HOLD_OUT"
            return 1
        fi
        sleep 0.05
    done
}

# multi_release_clients - the held clients leave (their process ends, their sockets close).
multi_release_clients() {
    { kill "$HOLD_PID" && wait "$HOLD_PID"; } 2>/dev/null || true
}

# multi_stop_within MS - SIGTERM to the server: it must exit 0 within MS milliseconds (scaled).
multi_stop_within() {
    local start elapsed status=0
    start=$(date +%s%N)
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID" $((($1 + 999) / 1000 + 5)) || status=$?
    elapsed=$((($(date +%s%N) - start) / 1000000))
    if [ "$status" -eq 124 ]; then
        echo "the server was still running $((($1 + 999) / 1000 + 5)) s after SIGTERM (killed)"
        return 1
    elif [ "$status" -ne 0 ]; then
        echo "on SIGTERM the server $(kit_describe_exit "$status") (0 expected)"
        return 1
    fi
    [ "$elapsed" -lt $(($1 * KIT_SLOW)) ] ||
        fail "the server took $elapsed ms to stop (at most $(($1 * KIT_SLOW)) ms allowed)"
}

# multi_assert_all_logged_closed N ADVICE - the server's log ($SERVER_ERR) holds N
# "connection from" lines and as many "closed" lines; otherwise say how many clients it never
# logged closed, and ADVICE.
multi_assert_all_logged_closed() {
    local opened closed
    opened=$(grep -c '^connection from ' "$SERVER_ERR" || true) # grep -c 0 fails: none
    closed=$(grep -c '^closed ' "$SERVER_ERR" || true)
    if [ "$opened" -ne "$1" ]; then
        echo "the server logged \"connection from\" $opened times for $1 clients"
        return 1
    fi
    if [ "$closed" -ne "$opened" ]; then
        echo "the server logged $opened clients in (\"connection from\") and only $closed" \
            "\"closed\": it exited while $((opened - closed)) were still being served: $2"
        return 1
    fi
}

# ---- checks --------------------------------------------------------------------------------

# multi_test_stop_closes_every_client ADVICE - an echo server (ECHO_SERVER, the log on) with 20
# clients connected, each echoed once and now waiting; SIGTERM: exit 0 within 2 s, every
# client sees the end of its connection, and the log says "closed" for each. A threaded
# server that returns from main while its threads run, or a forking one that exits without
# its children, loses those lines (and stops its clients, if at all, only by dying).
# shellcheck disable=SC2154 # output: set by bats' run
multi_test_stop_closes_every_client() {
    # shellcheck disable=SC2034 # read by echo_start
    local -a ECHO_SERVER_ARGS=() # the log on: each client's "closed" line is checked
    echo_start
    multi_hold_echo_clients 20
    multi_stop_within 2000
    wait_exit "$HOLD_PID" 3 || true
    run cat "$HOLD_OUT"
    if [ "$output" = ready ]; then
        echo "the server exited 0 on SIGTERM, and its 20 clients were still connected 3 s later:" \
            "every client's connection must end before the server exits"
        return 1
    elif [ "$output" != $'ready\n20 closed' ]; then
        echo "after SIGTERM, of the 20 clients: ${output#ready$'\n'} (20 closed expected)"
        return 1
    fi
    multi_assert_all_logged_closed 20 "$1"
}

# multi_test_max_clients_echo - an echo server with --max-clients 2 and two clients connected:
# a third client reads "Server busy, try again later." and the end of the connection; once
# the two have left, a client is served again (polled: a slot is free once the server has
# noticed, a reaped child or a finished conversation). "refused" is logged.
multi_test_max_clients_echo() {
    local n=0
    start_server "$ECHO_SERVER" --max-clients 2 0
    multi_hold_echo_clients 2
    run timeout "$(tmo 5)" nc 127.0.0.1 "$SERVER_PORT" </dev/null
    if [ "$output" != 'Server busy, try again later.' ]; then
        if [ -z "$output" ]; then
            echo "with --max-clients 2 and 2 clients connected, a third client was served" \
                "(it sent nothing and got nothing back) instead of reading" \
                "\"Server busy, try again later.\" and the end of its connection"
        else
            echo "with --max-clients 2 and 2 clients connected, a third client read" \
                "\"${output:0:80}\" (\"Server busy, try again later.\" expected, then the end)"
        fi
        multi_release_clients
        return 1
    fi
    multi_release_clients # both clients leave: their slots are free once the server notices
    until run echo_text_round_trip 127.0.0.1 $'a slot is free\n' && [ "$status" -eq 0 ]; do
        [ $((n += 1)) -le $((50 * KIT_SLOW)) ] || fail "still refused 5 s after both clients left"
        sleep 0.1
    done
    stop_server
    if ! grep -qE '^refused 127\.0\.0\.1:[0-9]+: too many clients$' "$SERVER_ERR"; then
        echo "the refused client was not logged \"refused 127.0.0.1:PORT: too many clients\""
        return 1
    fi
}

# multi_test_never_reads_while_another_served - a client that sends and never reads is
# connected, and the server sleeps with its echo stuck (echo_noread_start); another client's
# line must come back meanwhile. A server that serves one client at a time waits for the
# first for ever. (lib/echo_server_tests.bash's echo_test_never_reads_while_another_served,
# with what a learner needs to read when it fails, and nothing left running.)
multi_test_never_reads_while_another_served() {
    local got=$BATS_TEST_TMPDIR/meanwhile.out
    echo_start
    echo_noread_start
    if ! echo_text_round_trip 127.0.0.1 $'served meanwhile\n' >"$got"; then
        echo "while a client that never reads was connected (the server blocked sending its" \
            "echo), another client's line did not come back:"
        sed 's/^/  /' "$got"
        echo_noread_release || true
        return 1
    fi
    echo_noread_release
    stop_server
}

# multi_test_sigterm_while_busy - one client streams, sending and reading without a pause,
# while 16 others connect, echo a line and close, over and over; SIGTERM lands in the middle
# and the server must exit 0 within 1 s. The stop signals are let in only inside a wait
# (sig.h): a wait that let a pending signal in only when it was about to sleep (ppoll() does
# so, and pselect()) would miss it as long as the socket it watches is always ready (the
# listener in a storm of connections, a streaming client's socket). A ThreadSanitizer build
# of the threaded server did, for seconds: a fast build rarely falls behind far enough, a
# slow one (TSan, valgrind) does. The kit's wait now unblocks the signals before it polls,
# which delivers a pending one at once.
# shellcheck disable=SC2154 # output, lines: set by bats' run
multi_test_sigterm_while_busy() {
    local out=$BATS_TEST_TMPDIR/busy.out pid
    echo_start
    timeout "$(tmo 20)" python3 -c '
import socket, sys, threading
port, limit = int(sys.argv[1]), float(sys.argv[2])
addr = ("127.0.0.1", port)
stop = threading.Event()
count = [0, 0]  # connections echoed, bytes streamed
def storm():
    while not stop.is_set():
        try:
            s = socket.create_connection(addr, timeout=limit)
            s.sendall(b"x\n")
            s.recv(10)
            s.close()
            count[0] += 1
        except ConnectionRefusedError:
            stop.set()  # the server has stopped
        except OSError:
            pass  # a connection the stop cut short
def stream():
    s = socket.create_connection(addr, timeout=limit)
    def send():
        try:
            while True:
                s.sendall(b"x" * 65536)
        except OSError:
            pass
    threading.Thread(target=send, daemon=True).start()
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            count[1] += len(chunk)
    except OSError:
        pass  # a reset: the server closed with bytes unread
streamer = threading.Thread(target=stream, daemon=True)
storms = [threading.Thread(target=storm) for _ in range(16)]
for t in [streamer] + storms:
    t.start()
while not stop.wait(0.01):
    if count[0] >= 100 * int(sys.argv[3]) and count[1] >= 1 << 20:
        print("busy", flush=True)
        break
stop.wait(limit)
stop.set()
for t in storms:
    t.join()
streamer.join(float(sys.argv[4]))
if streamer.is_alive():
    print("the streaming client was still connected, and served, %s s after the server had "
          "stopped" % sys.argv[4])
else:
    print("done")
' "$SERVER_PORT" "$(tmo 10)" "$KIT_SLOW" "$(tmo 3)" >"$out" 2>&1 3>&- &
    pid=$!
    echo_wait_output "$out" '^busy$'
    multi_stop_within 1000
    wait_exit "$pid" 20 || true
    run cat "$out"
    if [ "$output" != $'busy\ndone' ]; then
        printf '%s\n' "${lines[@]:1:3}"
        echo "every client's connection must end before the server exits: each child stopped and" \
            "waited for, each thread's socket shut down and the thread joined"
        return 1
    fi
}

# multi_test_accept_error_is_one_clients PROG CLIENTS - PROG runs under strace, which makes
# its second accept() fail with EPROTO, as when a client's network fails between its
# handshake and the accept (the connection stays queued: the call was never made). The
# server must log the error and go on: CLIENTS (three clients, one after another) are
# served, and SIGTERM ends it with exit 0. strace injects into accept and accept4: a server
# calls one or the other. (The echo servers run lib/echo_server_tests.bash's check instead,
# with an LD_PRELOAD shim; strace works for sanitizer builds too, which cannot take a
# preloaded library.)
multi_test_accept_error_is_one_clients() {
    local prog=$1 clients=$2 server status=0
    command -v strace >/dev/null 2>&1 || skip "strace not installed (apt-get install strace)"
    hint "an accept() error such as EPROTO concerns that one connection: log it, accept the next" \
        "$M_S_WRONG"
    # LeakSanitizer cannot run under a tracer; ASAN_OPTIONS matters to ASan builds only.
    start_server env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        strace -qq -o /dev/null -e trace=accept,accept4 \
        -e inject=accept,accept4:error=EPROTO:when=2 "$prog" -q 0
    server=$(multi_child_pids "$SERVER_PID")
    [ -n "$server" ] || fail "no server process under strace"
    "$clients"
    kill -TERM "$server"
    wait_exit "$SERVER_PID" 5 || status=$? # strace exits with its tracee's status
    if [ "$status" -ne 0 ]; then
        echo "after one accept() failed with EPROTO and SIGTERM, the server $(kit_describe_exit "$status") (0 expected):"
        head -n 3 "$SERVER_ERR" | sed 's/^/  /'
        return 1
    fi
    run cat "$SERVER_ERR"
    assert_output "$prog: accept: Protocol error: skipping that connection"
}
