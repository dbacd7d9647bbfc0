#!/usr/bin/env bats
# tests/02-echo-client.bats - lesson 02: the echo client, against lesson 03's echo-server and
# against echo servers we did not write (socat, ncat), the kit's Java peers (Java's socket
# classes, behaving as the tutorial's EchoServer and EchoClient), plus the raw misbehaving
# servers of tests/peers/server.py for its error paths.

load test_helper
load lib/java_peers

PEERS=$KIT_ROOT/tests/peers
USAGE="usage: echo-client [--timeout SECS] HOST PORT"

setup_file() {
    # The kit's Java echo peers (tests/peers/java), compiled once for the file.
    java_peers_build EchoPeerClient EchoPeerServer
}

# ---- helpers -----------------------------------------------------------------------

# start_peer_server PORT CMD... - start an echo server that cannot use port 0 and prints no
# "listening on" line (socat, ncat) on PORT; wait until it listens. Sets PEER_PID.
# It asks ss rather than connecting (wait_port), as java_peer_server does.
start_peer_server() {
    local port=$1 n=0
    shift
    "$@" >"$BATS_TEST_TMPDIR/peer.out" 2>"$BATS_TEST_TMPDIR/peer.err" </dev/null 3>&- &
    PEER_PID=$!
    KIT_SERVER_PIDS+=("$PEER_PID")
    until ss -Htln "( sport = :$port )" | grep -q .; do
        [ $((n += 1)) -le $((200 * KIT_SLOW)) ] || fail "peer server did not start: $*"
        sleep 0.05
    done
}

# stop_peer_server - SIGTERM the peer server and reap it (its exit status is not ours).
stop_peer_server() {
    kill -TERM "$PEER_PID" 2>/dev/null || true
    wait "$PEER_PID" 2>/dev/null || true
}

# check_lines PORT COUNT SECS - COUNT lines of 93 bytes through the echo server on PORT come
# back all, in order, within SECS (scaled); prints the count. Lock-step costs a round trip
# per line, and SECS leaves room for a machine busy with other tests.
check_lines() {
    local in=$BATS_TEST_TMPDIR/lines out=$BATS_TEST_TMPDIR/out
    seq -f 'line %06g: the quick brown fox jumps over the lazy dog, again and again and again' \
        1 "$2" >"$in"
    timeout "$(tmo "$3")" echo-client 127.0.0.1 "$1" <"$in" >"$out"
    sed 's/^/echo: /' "$in" >"$BATS_TEST_TMPDIR/expected"
    assert_same_bytes "$BATS_TEST_TMPDIR/expected" "$out"
    echo "# $(kit_count "$2") lines came back in order" >&3
}

# An echo server for the end of input (python3 -c "$EOF_PEER_PY" MODE): it echoes each line
# until the client half-closes. Then MODE last-word says "that was N lines\n" and "no newline
# at the end" (without one) and closes; MODE never-closes keeps the connection open.
EOF_PEER_PY=$(
    cat <<'PY'
import signal, socket, sys
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
mode = sys.argv[1]
ls = socket.create_server(("127.0.0.1", 0))
print("listening on 127.0.0.1:%d" % ls.getsockname()[1], flush=True)
kept = []
while True:
    conn, _ = ls.accept()
    n = 0
    for line in conn.makefile("rb"):
        n += 1
        conn.sendall(line)
    if mode == "never-closes":
        kept.append(conn)
        continue
    conn.sendall(b"that was %d lines\nno newline at the end" % n)
    conn.close()
PY
)

# The transcript every echo server must give: empty line, CRLF input, unterminated last line.
transcript_input() {
    printf 'hello\n\nsecond line\r\nno newline at the end'
}
TRANSCRIPT='echo: hello
echo: 
echo: second line
echo: no newline at the end'

# ---- usage -------------------------------------------------------------------------------

@test "stage 1: echo-client: -h prints usage on stdout and exits 0" {
    run echo-client -h
    assert_success
    assert_line --index 0 "$USAGE"
    run echo-client --help
    assert_success
    assert_line --index 0 "$USAGE"
}

@test "stage 1: echo-client: bad usage says what was wrong, prints the usage line and exits 2" {
    assert_usage_errors echo-client "$USAGE" <<'EOF'
-	missing HOST and PORT
127.0.0.1	missing PORT
127.0.0.1 1 2	unexpected argument: 2
127.0.0.1 x	port must be a number from 1 to 65535: x
127.0.0.1 0	port must be a number from 1 to 65535: 0
127.0.0.1 65536	port must be a number from 1 to 65535: 65536
127.0.0.1 -1	unknown option: -1
--timeout 0 127.0.0.1 7	--timeout must be at least 1: 0
--timeout x 127.0.0.1 7	--timeout must be a number from 1 to 86400: x
--timeout 86401 127.0.0.1 7	--timeout must be at most 86400: 86401
--bogus 127.0.0.1 7	unknown option: --bogus
--timeout	option --timeout needs a value
EOF
}

# ---- against echo-server (lesson 03) ------------------------------------------------------

@test "stage 2: echo-client: prints each reply as 'echo: LINE', empty and unterminated lines too" {
    hint "send each line with its '\\n' (one is added to an unterminated last line), then read one reply line and print it" \
        "Build and run"
    start_server echo-server -q 0
    run timeout "$(tmo 5)" echo-client 127.0.0.1 "$SERVER_PORT" < <(transcript_input)
    assert_success
    assert_output "$TRANSCRIPT"
    stop_server
}

@test "stage 2: echo-client: NUL bytes go out and come back" {
    local in=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out expected=$BATS_TEST_TMPDIR/expected
    hint "a line may hold NUL bytes: keep its length, never strlen() or printf(\"%s\")"
    printf 'a\0b\n\0\n' >"$in"
    printf 'echo: a\0b\necho: \0\n' >"$expected"
    start_server echo-server -q 0
    timeout "$(tmo 5)" echo-client 127.0.0.1 "$SERVER_PORT" <"$in" >"$out"
    assert_same_bytes "$expected" "$out" "$in"
    stop_server
}

@test "stage 2: echo-client: prints nothing and exits 0 on empty input" {
    start_server echo-server -q 0
    run timeout "$(tmo 5)" echo-client 127.0.0.1 "$SERVER_PORT" </dev/null
    assert_success
    assert_output ""
    stop_server
}

@test "stage 2: echo-client: prints each reply while the input is still open (no waiting for EOF)" {
    local fifo=$BATS_TEST_TMPDIR/in.fifo out=$BATS_TEST_TMPDIR/out pid
    hint "flush stdout after each reply: a person (or a program) waits for it before the next line"
    start_server echo-server -q 0
    mkfifo "$fifo"
    timeout "$(tmo 10)" echo-client 127.0.0.1 "$SERVER_PORT" <"$fifo" >"$out" 3>&- &
    pid=$!
    exec 4>"$fifo"
    echo "typed by a person" >&4
    local n=0
    until grep -qx 'echo: typed by a person' "$out"; do
        [ $((n += 1)) -le $((100 * KIT_SLOW)) ] || fail "no echo while stdin is open"
        sleep 0.05
    done
    exec 4>&-
    wait_exit "$pid" 5
    stop_server
}

@test "stage 2: echo-client: strips CRLF and lone CR reply endings" {
    hint "a reply line ends at LF, CRLF or a lone CR, as Java's readLine() says"
    start_server python3 "$PEERS/server.py" --mode crlf 0
    run timeout "$(tmo 5)" echo-client 127.0.0.1 "$SERVER_PORT" < <(printf 'one\n\ntwo\n')
    assert_success
    assert_output $'echo: one\necho: \necho: two'
    stop_server
    start_server python3 "$PEERS/server.py" --mode cr 0
    run timeout "$(tmo 5)" echo-client 127.0.0.1 "$SERVER_PORT" < <(printf 'one\n\ntwo\n')
    assert_success
    assert_output $'echo: one\necho: \necho: two'
    stop_server
}

@test "stage 3: echo-client: half-closes at the end of input (the server sees EOF and leaves)" {
    hint "at the end of stdin, shutdown(fd, SHUT_WR): the server reads EOF and closes" "The end of input: half-close"
    start_server echo-server --once 0
    run timeout "$(tmo 5)" echo-client 127.0.0.1 "$SERVER_PORT" <<<"bye"
    assert_success
    assert_output "echo: bye"
    wait_exit "$SERVER_PID" 5
    # "closed ADDR" alone: the server read EOF, not an error.
    run cat "$SERVER_ERR"
    assert_line --index 0 --regexp '^connection from 127\.0\.0\.1:[0-9]+$'
    assert_line --index 1 --regexp '^closed 127\.0\.0\.1:[0-9]+$'
    assert_equal "${#lines[@]}" 2
}

@test "stage 3: echo-client: after the half-close, prints what the server still sends until it closes" {
    hint "after shutdown(SHUT_WR), keep reading and printing lines until the server closes (read returns 0); without the half-close the server never learns that the input ended" \
        "The end of input: half-close"
    start_server python3 -c "$EOF_PEER_PY" last-word 0
    run timeout "$(tmo 5)" echo-client 127.0.0.1 "$SERVER_PORT" < <(printf 'one\ntwo\n')
    assert_success
    assert_output $'echo: one\necho: two\necho: that was 2 lines\necho: no newline at the end'
    # A server that speaks only once the input has ended is served too.
    run timeout "$(tmo 5)" echo-client 127.0.0.1 "$SERVER_PORT" </dev/null
    assert_success
    assert_output $'echo: that was 0 lines\necho: no newline at the end'
    stop_server
}

@test "stage 4: echo-client: returns 100,000 piped lines in order, without deadlock" {
    local count=100000
    hint "lock-step, one line out and its reply back before the next, cannot deadlock; a client that writes everything before reading does, once the socket buffers fill" \
        "What lock-step costs"
    # Under valgrind a round trip between two programs costs about half a millisecond.
    [ -z "$VALGRIND" ] || count=10000
    start_server echo-server -q 0
    check_lines "$SERVER_PORT" "$count" 20
    stop_server
}

@test "stage 4: echo-client: reaches localhost whichever family the server listens on" {
    hint "try every address getaddrinfo returns, in order, until one connect() succeeds" "net_connect, call by call"
    # As this machine resolves localhost.
    start_server echo-server -q 0
    run timeout "$(tmo 5)" echo-client localhost "$SERVER_PORT" <<<"to 127.0.0.1"
    assert_success
    assert_output "echo: to 127.0.0.1"
    stop_server
    # As stock Debian resolves it, ::1 first: a server on 127.0.0.1 alone is reached only
    # by a client that goes on to the second address when the first is refused.
    need_ipv6_localhost
    local bind
    for bind in 127.0.0.1 ::1 ::; do
        start_server echo-server -q -b "$bind" 0
        run as_ipv6_localhost timeout "$(tmo 5)" echo-client localhost "$SERVER_PORT" <<<"to $bind"
        assert_success
        assert_output "echo: to $bind"
        stop_server
    done
}

# ---- against echo servers we did not write -----------------------------------------------------

@test "stage 5: echo-client: works against socat ... PIPE" {
    local port
    port=$(free_port)
    start_peer_server "$port" socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" PIPE
    run timeout "$(tmo 5)" echo-client 127.0.0.1 "$port" < <(transcript_input)
    assert_success
    assert_output "$TRANSCRIPT"
    check_lines "$port" 1000 10
    stop_peer_server
}

@test "stage 5: echo-client: works against ncat --exec /bin/cat" {
    local port
    port=$(free_port)
    start_peer_server "$port" ncat -l -k --exec /bin/cat 127.0.0.1 "$port"
    run timeout "$(tmo 5)" echo-client 127.0.0.1 "$port" < <(transcript_input)
    assert_success
    assert_output "$TRANSCRIPT"
    check_lines "$port" 1000 10
    stop_peer_server
}

# ---- against the kit's Java peers (tests/peers/java: Java's socket classes) ----------------

@test "echo-client: works against a Java echo server (EchoPeerServer)" {
    local port status=0
    need_java_peers
    port=$(free_port)
    java_peer_server 20 EchoPeerServer "$port"
    run timeout "$(tmo 10)" echo-client 127.0.0.1 "$port" < <(transcript_input)
    assert_success
    assert_output "$TRANSCRIPT"
    wait_exit "$JAVA_PEER_PID" 10 || status=$? # it serves one client, then ends
    assert_equal "$status" 0
}

@test "echo-server: serves a Java echo client (EchoPeerClient)" {
    need_java_peers
    start_server echo-server -q 0
    run timeout "$(tmo 10)" "${JAVA_PEER[@]}" EchoPeerClient 127.0.0.1 "$SERVER_PORT" \
        < <(transcript_input)
    assert_success
    assert_output "$TRANSCRIPT"
    stop_server
}

# ---- errors: exit 1 and one line naming host and port --------------------------------------

@test "stage 6: echo-client: reports a refused connection" {
    local port
    port=$(free_port)
    run timeout "$(tmo 5)" echo-client 127.0.0.1 "$port" </dev/null
    assert_failure 1
    assert_output "echo-client: cannot connect to 127.0.0.1 port $port: Connection refused"
}

@test "stage 6: echo-client: reports an unknown host with the resolver's text" {
    local reason
    # The resolver's own words (gai_strerror), as Python's socket module reports them.
    reason=$(python3 -c 'import socket
try:
    socket.getaddrinfo("no-such-host.invalid", 7, type=socket.SOCK_STREAM)
except socket.gaierror as e:
    print(e.strerror)')
    assert [ -n "$reason" ]
    run timeout "$(tmo 10)" echo-client no-such-host.invalid 7 </dev/null
    assert_failure 1
    assert_output "echo-client: cannot resolve no-such-host.invalid port 7: $reason"
}

@test "stage 6: echo-client: reports a server that closes before replying" {
    start_server python3 "$PEERS/server.py" --mode close 0
    run timeout "$(tmo 5)" echo-client 127.0.0.1 "$SERVER_PORT" <<<"anyone there?"
    assert_failure 1
    assert_output "echo-client: cannot read from 127.0.0.1 port $SERVER_PORT: server closed the connection"
    stop_server
}

@test "echo-client: where a Java echo client prints 'echo: null' for a closed connection" {
    need_java_peers
    start_server python3 "$PEERS/server.py" --mode close 0
    run timeout "$(tmo 10)" "${JAVA_PEER[@]}" EchoPeerClient 127.0.0.1 "$SERVER_PORT" \
        <<<"anyone there?"
    assert_success
    assert_output "echo: null"
    stop_server
}

@test "stage 6: echo-client: --timeout fails when the server never answers" {
    local start
    start_server python3 "$PEERS/server.py" --mode silent 0
    start=$SECONDS
    run timeout "$(tmo 10)" echo-client --timeout 1 127.0.0.1 "$SERVER_PORT" <<<"hello?"
    assert_failure 1
    assert_output "echo-client: cannot read from 127.0.0.1 port $SERVER_PORT: no reply within 1 s"
    assert [ $((SECONDS - start)) -ge 1 ]
    stop_server
}

@test "stage 6: echo-client: --timeout fails when the server does not close after the input" {
    hint "the wait for the server's close after the half-close is bounded by --timeout too"
    start_server python3 -c "$EOF_PEER_PY" never-closes 0
    run timeout "$(tmo 10)" echo-client --timeout 1 127.0.0.1 "$SERVER_PORT" <<<"hello"
    assert_failure 1
    assert_output "echo: hello
echo-client: cannot read from 127.0.0.1 port $SERVER_PORT: server did not close within 1 s"
    stop_server
}

@test "stage 6: echo-client: rejects a line longer than 65535 bytes" {
    start_server echo-server -q 0
    run timeout "$(tmo 5)" echo-client 127.0.0.1 "$SERVER_PORT" \
        < <(head -c 70000 /dev/zero | tr '\0' x)
    assert_failure 1
    assert_output "echo-client: stdin: line longer than 65535 bytes"
    stop_server
}

@test "stage 6: echo-client: reports a failed write to stdout" {
    start_server echo-server -q 0
    # shellcheck disable=SC2016 # $1 is expanded by the inner bash
    run timeout "$(tmo 5)" bash -c 'echo-client 127.0.0.1 "$1" <<<"hello" >/dev/full' _ "$SERVER_PORT"
    assert_failure 1
    assert_output "echo-client: stdout: No space left on device"
    stop_server
}
