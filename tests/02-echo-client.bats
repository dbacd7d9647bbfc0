#!/usr/bin/env bats
# tests/02-echo-client.bats - lesson 02: the echo client, in stages that follow the README
# and the starter's TODOs:
#   1 the usage contract (given in the starter)
#   2 connecting: a server sees the connection; refused, unknown and every address (TODO 1)
#   3 one line out, one line back: transcripts, NUL bytes, reply endings, flushed (TODO 2-4)
#   4 the end of input: the half-close, and what the server says after it (TODO 5)
#   5 lines from a byte stream: a reply in pieces, several in one read, a CRLF split across
#     reads, a reply without end (TODO 3)
#   6 the whole write: a long line through small buffers, 100,000 lines in order (TODO 2)
#   7 echo servers we did not write: socat, ncat, Java
#   8 what can go wrong: a close, silence (--timeout), a reset (SIGPIPE), stdin and stdout
# The servers are lesson 03's echo-server, socat, ncat, the kit's Java peers (Java's socket
# classes, behaving as the tutorial's programs), and the scripted servers of tests/peers:
# server.py (odd and misbehaving line servers) and small-buffers.py (a slow reader in a
# network namespace whose TCP buffers are too small for a long line).

# shellcheck disable=SC2030,SC2031 # each @test runs in a subshell: its variables are its own
load test_helper
load lib/java_peers

PEERS=$KIT_ROOT/tests/peers
USAGE="usage: echo-client [--timeout SECS] HOST PORT"

# The README's sections, for the hints.
S_CONNECT="net_connect, call by call"
S_LOCKSTEP="One line out, one line back"
S_HALF="The end of input: half-close"
S_COST="What lock-step costs"
S_RUN="Build and run"
S_WRONG="What can go wrong"
S_TURN="Your turn"

setup_file() {
    # The kit's Java echo peers (tests/peers/java), compiled once for the file.
    java_peers_build EchoPeerClient EchoPeerServer
}

# ---- running the client, and saying what went wrong --------------------------------------

# session SECS IN ARGS... - run echo-client ARGS under a time limit of SECS (scaled), stdin
# from the file IN. Sets OUT and ERR (files: its stdout and stderr), STATUS (124 when the
# time limit ended it), RAN (the command, for a failure message), and for a client the time
# limit ended, AT_LIMIT: the state of its TCP connections just before (ss), which says why
# it was waiting.
session() {
    local secs=$1 fd pid
    IN=$2
    shift 2
    OUT=$BATS_TEST_TMPDIR/stdout
    ERR=$BATS_TEST_TMPDIR/stderr
    AT_LIMIT=$BATS_TEST_TMPDIR/at-limit
    RAN="echo-client $*"
    STATUS=0
    rm -f "$AT_LIMIT" "$AT_LIMIT.rss"
    # A subshell runs the client and tells its PID, then its exit status; read -t waits for
    # that at most SECS. Only the client is ever signalled: a bash subshell of the test that
    # gets a signal early enough would run the test's own EXIT trap.
    exec {fd}< <(
        exec 3>&-
        echo-client "$@" <"$IN" >"$OUT" 2>"$ERR" &
        echo "$!"
        wait "$!" || echo "$?"
        echo 0
    )
    read -r -u "$fd" pid
    if ! read -r -t "$(tmo "$secs")" -u "$fd" STATUS; then
        {
            ss -tanpH | grep "pid=$pid," || true
            # A socket that ss no longer lists: its connection has ended both ways.
            find "/proc/$pid/fd" -lname 'socket:*' -printf 'ENDED %l\n' 2>/dev/null || true
        } >"$AT_LIMIT"
        sed -n 's/^VmRSS: *//p' "/proc/$pid/status" >"$AT_LIMIT.rss" 2>/dev/null || true
        kill -KILL "$pid" 2>/dev/null || true
        read -r -u "$fd" _ || true
        STATUS=124
    fi
    exec {fd}<&-
}

# why_waiting - for a client the time limit ended after its input had ended: what its
# connection's state (ss) says it was waiting for.
why_waiting() {
    local state
    state=$(awk '{ print $1 }' "$AT_LIMIT" 2>/dev/null | head -n 1)
    case $state in
    ESTAB) printf '%s\n' "Its connection was still open both ways (ss: ESTAB): it had not told the server" \
        "that the input had ended (shutdown(fd, SHUT_WR) sends that, a FIN), and waited for it." ;;
    FIN-WAIT-2) echo "It had half-closed its connection and was waiting for the server to close (ss: FIN-WAIT-2)." ;;
    CLOSE-WAIT) printf '%s\n' "The server had closed the connection (ss: CLOSE-WAIT; its FIN had come: read()" \
        "returns 0), and the client went on reading as if more could come." ;;
    ENDED) printf '%s\n' "Its connection had ended both ways (its FIN sent, the server's come): read() returns" \
        "0, and will forever; yet the client went on reading as if more could come." ;;
    "") echo "It had no TCP connection open any more." ;;
    *) echo "Its connection was in state $state (ss)." ;;
    esac
}

# input TEXT - a file holding TEXT (printf's escapes: '\n', '\r', '\0'); prints its path.
input() {
    local file
    file=$(mktemp "$BATS_TEST_TMPDIR/in.XXXXXX")
    # shellcheck disable=SC2059 # TEXT is a format on purpose: its escapes make the bytes
    printf "$1" >"$file"
    echo "$file"
}

# status_meaning STATUS - what an exit status says beyond its number.
status_meaning() {
    case $1 in
    124) echo " (still running when the time limit of the test ended it: it hangs)" ;;
    141) echo " (killed by SIGPIPE: it wrote to a connection the server had reset)" ;;
    13[0-9] | 1[4-5][0-9]) echo " (killed by signal $(($1 - 128)): $(kill -l "$1" 2>/dev/null))" ;;
    esac
}

# show_run [--no-stdin] - what ran: the command, its input, its exit status, its stderr
# (5 lines).
show_run() {
    echo "ran: $RAN"
    [ -z "${IN:-}" ] || [ "${1:-}" = --no-stdin ] || echo "stdin: $(show_bytes "$IN" 100)"
    echo "exit status: $STATUS$(status_meaning "$STATUS")"
    if [ -s "$ERR" ]; then
        echo "stderr:"
        head -n 5 "$ERR" | cut -c 1-200 | sed 's/^/  /'
    else
        echo "stderr: (nothing)"
    fi
}

# why LINE... - fail the test: the LINEs (what is wrong), then what ran and what it printed.
why() {
    printf '%s\n' "$@"
    show_run
    [ ! -e "$OUT" ] || echo "stdout: $(show_bytes "$OUT" 160)"
    return 1
}

# expect_status N [LINE...] - the client exited N; otherwise fail, saying the LINEs.
expect_status() {
    local want=$1
    shift
    [ "$STATUS" -ne "$want" ] || return 0
    if [ "$STATUS" -eq 124 ]; then
        why "echo-client did not end by itself: the test stopped it." "$@"
    else
        why "expected exit status $want, got $STATUS." "$@"
    fi
}

# expect_end - for the tests before stage 4: the client ended by itself, exit 0. One that
# printed every reply and then did not end is sent to stage 4's subject, the end of input.
expect_end() {
    [ "$STATUS" = 124 ] || {
        expect_status 0
        return
    }
    hint "once stdin ends: shutdown(fd, SHUT_WR), read until the server closes (read() returns 0), then end" "$S_HALF"
    why "every reply came back and was printed, but echo-client did not end once its input" \
        "had ended: the test stopped it. That is stage 4's subject: the end of input." \
        "$(why_waiting)"
}

# expect_stdout TEXT [LINE...] - stdout holds exactly TEXT and a newline; otherwise fail with
# what was sent, expected and printed, byte for byte, and the LINEs.
expect_stdout() {
    local expected=$BATS_TEST_TMPDIR/expected
    printf '%s\n' "$1" >"$expected"
    shift
    expect_bytes "$expected" "$@"
}

# expect_bytes FILE [LINE...] - stdout holds exactly the bytes of FILE.
expect_bytes() {
    local expected=$1
    shift
    cmp -s "$expected" "$OUT" && return 0
    [ $# -eq 0 ] || printf '%s\n' "$@"
    echo "stdout is not what the server sent back, as echo: lines:"
    assert_same_bytes "$expected" "$OUT" "$IN" 2>&1 | sed 's/^/  /'
    show_run --no-stdin
    return 1
}

# expect_stderr TEXT [LINE...] - stderr is exactly the one line TEXT.
expect_stderr() {
    local text=$1
    shift
    [ "$(cat "$ERR")" != "$text" ] || return 0
    why "expected on stderr exactly one line:" "  $text" "$@"
}

# wait_for_log FILE REGEX [SECS] - wait (SECS scaled, default 5) until a line of FILE matches
# REGEX; fails silently when none does.
wait_for_log() {
    local n=0
    until grep -qE "$2" "$1"; do
        [ $((n += 1)) -le $((${3:-5} * 20 * KIT_SLOW)) ] || return 1
        sleep 0.05
    done
}

# connect_only [VIEW...] echo-client HOST PORT - run the client with an input that stays
# open (a FIFO) and wait (5 s, scaled) until the server started last logs a connection or
# the client exits. Then the input ends, and a client still running 2 s later is stopped
# (it may be signalled: a program, never a shell function). Only connecting is judged:
# nothing is sent. Sets STATUS ("connected", the client's exit status, or 124 when neither
# came), OUT, ERR and IN.
connect_only() {
    local fifo=$BATS_TEST_TMPDIR/stdin.fifo pid n=0
    OUT=$BATS_TEST_TMPDIR/stdout
    ERR=$BATS_TEST_TMPDIR/stderr
    IN=
    rm -f "$fifo"
    mkfifo "$fifo"
    "$@" <"$fifo" >"$OUT" 2>"$ERR" 3>&- &
    pid=$!
    exec 4>"$fifo"
    STATUS=connected
    until grep -q '^connection from ' "$SERVER_ERR"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            STATUS=0
            wait "$pid" || STATUS=$?
            break
        fi
        if [ $((n += 1)) -gt $((100 * KIT_SLOW)) ]; then
            STATUS=124
            break
        fi
        sleep 0.05
    done
    exec 4>&-
    n=0
    while kill -0 "$pid" 2>/dev/null && [ $((n += 1)) -le $((40 * KIT_SLOW)) ]; do
        sleep 0.05
    done
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# ---- peers -------------------------------------------------------------------------------

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

# need_netns - skip unless a test may have a network namespace of its own (unshare -rn: a
# user namespace, no root needed where the system allows them).
need_netns() {
    unshare -rn true 2>/dev/null ||
        skip "no private network namespace here (unshare -rn failed: user namespaces are off)"
}

# squeezed SECS ARGS... - run echo-client, stdin from $IN, against the slow server of
# tests/peers/small-buffers.py ARGS (mode, --stop), both in a network namespace of their own
# whose TCP buffers hold 4 KiB. Sets OUT, ERR, STATUS and RAN as session does, and REPORT
# (what the server saw: report KEY reads it).
squeezed() {
    local secs=$1
    shift
    OUT=$BATS_TEST_TMPDIR/stdout
    ERR=$BATS_TEST_TMPDIR/stderr
    REPORT=$BATS_TEST_TMPDIR/report
    STATUS=0
    timeout "$(tmo $((secs + 5)))" unshare -rn python3 "$PEERS/small-buffers.py" \
        --idle "$(tmo 1)" --limit "$(tmo "$secs")" "$@" "$REPORT" -- echo-client \
        <"$IN" >"$OUT" 2>"$ERR" || STATUS=$?
    RAN="echo-client 127.0.0.1 $(report port)   (TCP buffers of 4 KiB; the server reads 1 KiB at a time"
    [[ " $* " != *" --stop "* ]] || RAN+=", and stops and continues the client every 20 ms"
    RAN+=")"
}

# report KEY - what small-buffers.py reported for KEY (received, lines, unfinished, port).
report() {
    sed -n "s/^$1 //p" "$REPORT" 2>/dev/null
}

# check_lines PORT COUNT SECS - COUNT lines of 93 bytes through the echo server on PORT come
# back all, in order, within SECS (scaled); prints the count. Lock-step costs a round trip
# per line, and SECS leaves room for a machine busy with other tests.
check_lines() {
    local in=$BATS_TEST_TMPDIR/lines
    seq -f 'line %06g: the quick brown fox jumps over the lazy dog, again and again and again' \
        1 "$2" >"$in"
    session "$3" "$in" 127.0.0.1 "$1"
    expect_status 0
    sed 's/^/echo: /' "$in" >"$BATS_TEST_TMPDIR/expected-lines"
    expect_bytes "$BATS_TEST_TMPDIR/expected-lines" \
        "$(kit_count "$2") lines should come back, each once, in order."
    echo "# $(kit_count "$2") lines came back in order" >&3
}

# The transcript every echo server must give: empty line, CRLF input, unterminated last line.
TRANSCRIPT_IN='hello\n\nsecond line\r\nno newline at the end'
TRANSCRIPT='echo: hello
echo: 
echo: second line
echo: no newline at the end'

# ---- stage 1: the usage contract (the starter has it) --------------------------------------

@test "stage 1: echo-client: -h prints usage on stdout and exits 0" {
    hint "the starter parses the options: compare yours with starter/echo-client.c" "$S_TURN"
    run echo-client -h
    assert_success
    assert_line --index 0 "$USAGE"
    run echo-client --help
    assert_success
    assert_line --index 0 "$USAGE"
}

@test "stage 1: echo-client: bad usage says what was wrong, prints the usage line and exits 2" {
    hint "the starter parses the options: compare yours with starter/echo-client.c" "$S_TURN"
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

# ---- stage 2: connecting -----------------------------------------------------------------

@test "stage 2: echo-client: connects: the server sees a connection from 127.0.0.1" {
    hint "connect to HOST PORT: net_connect() does it all, or getaddrinfo() and socket() and connect() on each address" "$S_CONNECT"
    start_server echo-server 0
    RAN="echo-client 127.0.0.1 $SERVER_PORT   (its input kept open: nothing sent)"
    connect_only echo-client 127.0.0.1 "$SERVER_PORT"
    [ "$STATUS" != 124 ] || why "the server saw no connection within 5 s, and echo-client was still running."
    [ "$STATUS" = connected ] || why "echo-client ended before the server saw a connection."
    [ ! -s "$OUT" ] || why "nothing was sent, so there is no reply to print: stdout should stay empty."
    stop_server
}

@test "stage 2: echo-client: a refused connection: exit 1 and one line naming host and port" {
    local port
    hint "when no address connects, print one line (what failed, host, port, strerror) and exit 1, never 0: a script must see the failure" "$S_WRONG"
    port=$(free_port)
    session 5 /dev/null 127.0.0.1 "$port"
    if [ "$STATUS" -eq 0 ] && grep -q 'Connection refused' "$ERR"; then
        why "nobody listens on port $port: echo-client said so, then exited 0." \
            "A failure must exit 1: a script, or make, believes an exit status of 0."
    fi
    expect_status 1
    expect_stderr "echo-client: cannot connect to 127.0.0.1 port $port: Connection refused"
}

@test "stage 2: echo-client: an unknown host: exit 1 and the resolver's text" {
    local reason
    hint "getaddrinfo returns an error code of its own: its text is gai_strerror(code), not strerror(errno)" "$S_CONNECT"
    # The resolver's own words (gai_strerror), as Python's socket module reports them.
    reason=$(python3 -c 'import socket
try:
    socket.getaddrinfo("no-such-host.invalid", 7, type=socket.SOCK_STREAM)
except socket.gaierror as e:
    print(e.strerror)')
    assert [ -n "$reason" ]
    session 10 /dev/null no-such-host.invalid 7
    expect_status 1
    expect_stderr "echo-client: cannot resolve no-such-host.invalid port 7: $reason"
}

@test "stage 2: echo-client: tries every address: localhost reaches 127.0.0.1, ::1 and dual-stack servers" {
    local bind
    hint "try every address getaddrinfo returns, in order, until one connect() succeeds; close the socket of each that fails" "$S_CONNECT"
    # As this machine resolves localhost.
    start_server echo-server 0
    RAN="echo-client localhost $SERVER_PORT   (its input kept open: nothing sent)"
    connect_only echo-client localhost "$SERVER_PORT"
    [ "$STATUS" = connected ] || why "the server on 127.0.0.1 saw no connection from localhost."
    stop_server
    # As stock Debian resolves it, ::1 first: a server on 127.0.0.1 alone is reached only
    # by a client that goes on to the second address when the first is refused.
    need_ipv6_localhost
    for bind in 127.0.0.1 ::1 ::; do
        start_server echo-server -b "$bind" 0
        RAN="echo-client localhost $SERVER_PORT   (localhost is ::1 first, then 127.0.0.1; the server listens on $bind)"
        connect_only "${KIT_HOSTS_VIEW[@]}" echo-client localhost "$SERVER_PORT"
        if [ "$bind" = 127.0.0.1 ] && grep -q 'refused' "$ERR"; then
            why "::1 refused, and echo-client gave up: only the first address was tried." \
                "127.0.0.1, the second address of localhost, would have answered."
        fi
        [ "$STATUS" = connected ] || why "the server on $bind saw no connection from localhost."
        echo "# server on $bind: $(grep -m1 '^connection from' "$SERVER_ERR")" >&3
        stop_server
    done
}

# ---- stage 3: one line out, one line back ---------------------------------------------------

@test "stage 3: echo-client: prints each reply as 'echo: LINE', empty and unterminated lines too" {
    hint "send each line with its '\\n' (one is added to an unterminated last line), then read one reply line and print \"echo: \", the line and '\\n'" \
        "$S_LOCKSTEP"
    start_server echo-server -q 0
    session 5 "$(input "$TRANSCRIPT_IN")" 127.0.0.1 "$SERVER_PORT"
    expect_stdout "$TRANSCRIPT"
    expect_end
    stop_server
}

@test "stage 3: echo-client: NUL bytes go out and come back" {
    hint "a line may hold NUL bytes: keep its length, and print it with fwrite(line, 1, len, stdout), never fputs(), printf(\"%s\") or strlen()" \
        "$S_LOCKSTEP"
    printf 'echo: a\0b\necho: \0\n' >"$BATS_TEST_TMPDIR/expected-nul"
    start_server echo-server -q 0
    session 5 "$(input 'a\0b\n\0\n')" 127.0.0.1 "$SERVER_PORT"
    expect_bytes "$BATS_TEST_TMPDIR/expected-nul" \
        "Each line held a NUL byte (\\0); its bytes after the NUL must be printed too."
    expect_end
    stop_server
}

@test "stage 3: echo-client: prints each reply at once, while its input is still open" {
    local fifo=$BATS_TEST_TMPDIR/in.fifo pid n=0
    hint "fflush(stdout) after each reply: to a pipe or a file stdout is flushed only when its buffer fills, and whoever reads it waits for the reply before typing the next line" \
        "$S_LOCKSTEP"
    start_server echo-server -q 0
    mkfifo "$fifo"
    OUT=$BATS_TEST_TMPDIR/stdout ERR=$BATS_TEST_TMPDIR/stderr IN=
    RAN="echo-client 127.0.0.1 $SERVER_PORT   (stdin a pipe: one line typed, the pipe kept open)"
    timeout "$(tmo 10)" echo-client 127.0.0.1 "$SERVER_PORT" <"$fifo" >"$OUT" 2>"$ERR" 3>&- &
    pid=$!
    exec 4>"$fifo"
    echo "typed by a person" >&4
    until grep -qx 'echo: typed by a person' "$OUT"; do
        if [ $((n += 1)) -gt $((40 * KIT_SLOW)) ]; then
            STATUS=running
            exec 4>&-
            why "one line was typed, and 2 s later its reply was still not in stdout (a file here):" \
                "the reply waits in stdio's buffer, which is flushed only when full or at the end."
        fi
        sleep 0.05
    done
    exec 4>&-
    STATUS=0
    wait_exit "$pid" 5 || STATUS=$?
    expect_end
    stop_server
}

@test "stage 3: echo-client: a reply ends at LF, CRLF or a lone CR, and the ending is not printed" {
    hint "a reply line ends at LF, CRLF or a lone CR, as Java's readLine() says: strip the ending, print the line" \
        "$S_LOCKSTEP"
    start_server python3 "$PEERS/server.py" --mode crlf 0
    session 5 "$(input 'one\n\ntwo\n')" 127.0.0.1 "$SERVER_PORT"
    expect_stdout $'echo: one\necho: \necho: two' "The server ends each reply with CRLF (\\r\\n)."
    expect_end
    stop_server
    start_server python3 "$PEERS/server.py" --mode cr 0
    session 5 "$(input 'one\n\ntwo\n')" 127.0.0.1 "$SERVER_PORT"
    expect_stdout $'echo: one\necho: \necho: two' "The server ends each reply with a lone CR (\\r)."
    expect_end
    stop_server
}

# ---- stage 4: the end of input: half-close ------------------------------------------------------

@test "stage 4: echo-client: half-closes at the end of input: the server reads EOF, closes, and the client ends" {
    hint "at the end of stdin, shutdown(fd, SHUT_WR): the server reads EOF and closes; then read until read() returns 0, and end" \
        "$S_HALF"
    start_server echo-server --once 0
    session 3 "$(input 'bye\n')" 127.0.0.1 "$SERVER_PORT"
    if [ "$STATUS" = 124 ] && grep -q '^ESTAB' "$AT_LIMIT"; then
        why "the input ended, and 3 s later the server was still waiting for the rest of it:" \
            "it never learned that the input had ended. shutdown(fd, SHUT_WR) tells it (a FIN)."
    fi
    if [ "$STATUS" = 124 ] && grep -qE '^(CLOSE-WAIT|ENDED)' "$AT_LIMIT"; then
        why "the server read the end of the input and closed the connection, but echo-client" \
            "was still running 3 s later. read() returning 0 means the server has closed: stop there."
    fi
    expect_status 0
    expect_stdout "echo: bye"
    wait_exit "$SERVER_PID" 5
    # "closed ADDR" alone: the server read EOF, not an error.
    run cat "$SERVER_ERR"
    assert_line --index 0 --regexp '^connection from 127\.0\.0\.1:[0-9]+$'
    assert_line --index 1 --regexp '^closed 127\.0\.0\.1:[0-9]+$'
    assert_equal "${#lines[@]}" 2
    # With no input at all: the half-close at once, nothing printed.
    start_server echo-server -q 0
    session 5 /dev/null 127.0.0.1 "$SERVER_PORT"
    expect_status 0 "No input at all: the client should half-close at once, and end when the server closes."
    [ ! -s "$OUT" ] || why "with no input there is no reply to print: stdout should stay empty."
    stop_server
}

@test "stage 4: echo-client: after the half-close, prints what the server still says until it closes" {
    hint "after shutdown(SHUT_WR), keep reading and printing lines until the server closes (read() returns 0); then close" \
        "$S_HALF"
    start_server python3 "$PEERS/server.py" --mode last-word 0
    session 5 "$(input 'one\ntwo\n')" 127.0.0.1 "$SERVER_PORT"
    expect_status 0
    expect_stdout $'echo: one\necho: two\necho: that was 2 lines' \
        "Once the input ended, the server said \"that was 2 lines\" (no line end) and closed."
    # A server that speaks only once the input has ended is served too.
    session 5 /dev/null 127.0.0.1 "$SERVER_PORT"
    expect_status 0
    expect_stdout 'echo: that was 0 lines' \
        "No input at all: the server spoke only after the half-close, then closed."
    stop_server
}

# ---- stage 5: lines from a byte stream ----------------------------------------------------------

@test "stage 5: echo-client: a reply that comes in three pieces is one line" {
    hint "TCP carries bytes, not messages: one read() may bring part of a line; keep reading until its end comes" \
        "$S_TURN"
    start_server python3 "$PEERS/server.py" --mode pieces 0
    session 5 "$(input 'hello world\nsecond\n')" 127.0.0.1 "$SERVER_PORT"
    expect_status 0
    expect_stdout $'echo: hello world\necho: second' \
        "Each reply came in three writes 30 ms apart (\"hello \", \"world\", \"\\n\"): one line, read in three reads."
    stop_server
}

@test "stage 5: echo-client: several lines in one read are all printed" {
    hint "one read() may bring several lines: return the first, and keep the bytes after it for the next call" \
        "$S_TURN"
    start_server python3 "$PEERS/server.py" --mode summary 0
    session 5 "$(input 'one\ntwo\nthree\n')" 127.0.0.1 "$SERVER_PORT"
    expect_status 0
    expect_stdout $'echo: one\necho: two\necho: three\necho: 3 lines\necho: first: one\necho: last: three' \
        "Once the input ended the server sent three lines in one write: \"3 lines\\nfirst: one\\nlast: three\\n\"." \
        "Lines missing after the first of them: the bytes after the first line of a read were dropped?"
    stop_server
}

@test "stage 5: echo-client: a CRLF split across two reads ends one line, not two" {
    hint "a CR that is the last byte read so far ends the line, but an LF at the start of the next read belongs to it: skip that LF" \
        "$S_TURN"
    start_server python3 "$PEERS/server.py" --mode split-crlf 0
    session 5 "$(input 'abc\ndef\n')" 127.0.0.1 "$SERVER_PORT"
    expect_status 0
    expect_stdout $'echo: abc\necho: def' \
        "Each reply came as \"abc\\r\", then \"\\n\" 50 ms later, in two reads: one CRLF, so one line." \
        "An extra \"echo: \" is the LF taken for the end of an empty line."
    stop_server
}

@test "stage 5: echo-client: a reply longer than 65,535 bytes fails, one line, exit 1 (memory stays bounded)" {
    hint "cap a reply at 65,535 bytes: once that many have come without a line end, fail (one line, exit 1); a buffer that grows to fit lets any server fill your memory" \
        "$S_TURN"
    start_server python3 "$PEERS/server.py" --mode endless 0
    session 4 "$(input 'hello\n')" 127.0.0.1 "$SERVER_PORT"
    if [ "$STATUS" -eq 124 ] || [ "$STATUS" -eq 0 ]; then
        AT_LIMIT_RSS=$(cat "$AT_LIMIT.rss" 2>/dev/null)
        why "the server answers with one line without end (up to 32 MiB of x), then waits." \
            "echo-client should give up once 65,535 bytes have come with no line end." \
            "${AT_LIMIT_RSS:+When the test stopped it, it held $AT_LIMIT_RSS of memory (VmRSS).}"
    fi
    expect_status 1
    [ ! -s "$OUT" ] || why "a reply that is too long is an error, not a line to print: stdout should stay empty."
    expect_stderr "echo-client: cannot read from 127.0.0.1 port $SERVER_PORT: reply longer than 65535 bytes"
    stop_server
}

# ---- stage 6: the whole write -------------------------------------------------------------------

@test "stage 6: echo-client: a 65,535-byte line goes out whole through 4 KiB buffers, stopped and continued" {
    local line=$BATS_TEST_TMPDIR/long expected=$BATS_TEST_TMPDIR/expected-long sent
    hint "send() may take only part of what you give it (a full buffer; a signal, even Ctrl-Z and fg, ends its wait early): loop until every byte has left" \
        "$S_WRONG"
    need_netns
    head -c 49152 /dev/urandom | base64 -w 0 | head -c 65535 >"$line"
    printf '\nshort\n' >>"$line"
    IN=$line
    { printf 'echo: ' && head -n 1 "$line" && echo 'echo: short'; } >"$expected"
    squeezed 10 --stop
    sent=$(kit_count 65542)
    if [ "$(report unfinished)" != 0 ]; then
        why "the server received $(kit_count "$(report received)") bytes, then nothing more for a second: the line" \
            "(65,535 bytes and its \\n) never ended. send() took only part of it (the buffers were" \
            "full, and a stop ended its wait), and the rest was never sent: send on from where it" \
            "stopped until all 65,536 bytes are out."
    fi
    expect_status 0
    [ "$(report received)" = 65542 ] ||
        why "the server should have received $sent bytes (the two lines), not $(kit_count "$(report received)")."
    expect_bytes "$expected"
}

@test "stage 6: echo-client: returns 100,000 piped lines in order, without deadlock" {
    local count=100000
    hint "lock-step, one line out and its reply back before the next, cannot deadlock; a client that writes everything before reading does, once the socket buffers fill" \
        "$S_COST"
    # Under valgrind a round trip between two programs costs about half a millisecond.
    [ -z "$VALGRIND" ] || count=10000
    start_server echo-server -q 0
    check_lines "$SERVER_PORT" "$count" 20
    stop_server
}

# ---- stage 7: echo servers we did not write ----------------------------------------------------

@test "stage 7: echo-client: works against socat ... PIPE" {
    local port
    hint "socat is an echo server too: the same lines must come back" "$S_RUN"
    port=$(free_port)
    start_peer_server "$port" socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" PIPE
    session 5 "$(input "$TRANSCRIPT_IN")" 127.0.0.1 "$port"
    expect_status 0
    expect_stdout "$TRANSCRIPT"
    check_lines "$port" 1000 10
    stop_peer_server
}

@test "stage 7: echo-client: works against ncat --exec /bin/cat" {
    local port
    hint "ncat with cat behind it is an echo server too: the same lines must come back" "$S_RUN"
    port=$(free_port)
    start_peer_server "$port" ncat -l -k --exec /bin/cat 127.0.0.1 "$port"
    session 5 "$(input "$TRANSCRIPT_IN")" 127.0.0.1 "$port"
    expect_status 0
    expect_stdout "$TRANSCRIPT"
    check_lines "$port" 1000 10
    stop_peer_server
}

@test "stage 7: echo-client: works against a Java echo server (EchoPeerServer)" {
    local port status=0
    hint "the tutorial's Java echo server answers each line as lesson 03's does" "$S_RUN"
    need_java_peers
    port=$(free_port)
    java_peer_server 20 EchoPeerServer "$port"
    session 10 "$(input "$TRANSCRIPT_IN")" 127.0.0.1 "$port"
    expect_status 0
    expect_stdout "$TRANSCRIPT"
    wait_exit "$JAVA_PEER_PID" 10 || status=$? # it serves one client, then ends
    assert_equal "$status" 0
}

@test "stage 7: echo-server: serves a Java echo client (EchoPeerClient)" {
    need_java_peers
    start_server echo-server -q 0
    run timeout "$(tmo 10)" "${JAVA_PEER[@]}" EchoPeerClient 127.0.0.1 "$SERVER_PORT" \
        < <(printf '%b' "$TRANSCRIPT_IN")
    assert_success
    assert_output "$TRANSCRIPT"
    stop_server
}

@test "stage 7: EchoPeerClient: where a Java echo client prints 'echo: null' for a closed connection" {
    need_java_peers
    start_server python3 "$PEERS/server.py" --mode close 0
    run timeout "$(tmo 10)" "${JAVA_PEER[@]}" EchoPeerClient 127.0.0.1 "$SERVER_PORT" \
        <<<"anyone there?"
    assert_success
    assert_output "echo: null"
    stop_server
}

# ---- stage 8: what can go wrong -----------------------------------------------------------------

@test "stage 8: echo-client: a server that closes before replying: exit 1, one line" {
    hint "read() returning 0 before the reply came means the server closed: say so and exit 1 (Java prints \"echo: null\" and exits 0)" \
        "$S_WRONG"
    start_server python3 "$PEERS/server.py" --mode close 0
    session 5 "$(input 'anyone there?\n')" 127.0.0.1 "$SERVER_PORT"
    expect_status 1
    expect_stderr "echo-client: cannot read from 127.0.0.1 port $SERVER_PORT: server closed the connection"
    stop_server
}

@test "stage 8: echo-client: --timeout ends the wait for a reply that never comes" {
    local start
    hint "with --timeout SECS, wait for the reply with a deadline (poll() with a timeout, then read()): silence longer than SECS is a failure" \
        "$S_WRONG"
    start_server python3 "$PEERS/server.py" --mode silent 0
    start=$SECONDS
    session 4 "$(input 'hello?\n')" --timeout 1 127.0.0.1 "$SERVER_PORT"
    expect_status 1 "The server reads and never answers: with --timeout 1 the client should give up after 1 s."
    expect_stderr "echo-client: cannot read from 127.0.0.1 port $SERVER_PORT: no reply within 1 s"
    [ $((SECONDS - start)) -ge 1 ] || why "it gave up before the second of --timeout 1 had passed"
    stop_server
}

@test "stage 8: echo-client: --timeout ends the wait for a server that does not close after the input" {
    hint "the wait for the server's close after the half-close is bounded by --timeout too" "$S_HALF"
    start_server python3 "$PEERS/server.py" --mode never-closes 0
    session 4 "$(input 'hello\n')" --timeout 1 127.0.0.1 "$SERVER_PORT"
    expect_status 1 "The server echoes, and after the half-close never closes: --timeout 1 should end the wait."
    expect_stdout "echo: hello"
    expect_stderr "echo-client: cannot read from 127.0.0.1 port $SERVER_PORT: server did not close within 1 s"
    stop_server
}

@test "stage 8: echo-client: a server reset during a long write: one line and exit 1, not death by SIGPIPE" {
    local port
    hint "writing to a connection the server has reset raises SIGPIPE, which kills silently: signal(SIGPIPE, SIG_IGN) or send(..., MSG_NOSIGNAL), then report the EPIPE" \
        "$S_WRONG"
    need_netns
    IN=$(mktemp "$BATS_TEST_TMPDIR/in.XXXXXX")
    head -c 65535 /dev/zero | tr '\0' r >"$IN"
    echo >>"$IN"
    squeezed 10 --mode reset
    port=$(report port)
    if [ "$STATUS" -eq 141 ]; then
        why "the server read 8 KiB of the line, then closed and reset the connection while the" \
            "client was still writing: the next write raised SIGPIPE, and echo-client died of it."
    fi
    expect_status 1
    expect_stderr "echo-client: cannot write to 127.0.0.1 port $port: Broken pipe"
}

@test "stage 8: echo-client: rejects a line of stdin longer than 65535 bytes" {
    hint "the starter reads stdin and says this: compare yours with starter/echo-client.c" "$S_TURN"
    start_server echo-server -q 0
    IN=$(mktemp "$BATS_TEST_TMPDIR/in.XXXXXX")
    head -c 70000 /dev/zero | tr '\0' x >"$IN"
    session 5 "$IN" 127.0.0.1 "$SERVER_PORT"
    expect_status 1
    expect_stderr "echo-client: stdin: line longer than 65535 bytes"
    stop_server
}

@test "stage 8: echo-client: reports a failed write to stdout" {
    hint "check what printing returns (fwrite, putchar, fflush): a full disk is a failure, one line and exit 1" "$S_WRONG"
    start_server echo-server -q 0
    OUT=$BATS_TEST_TMPDIR/stdout ERR=$BATS_TEST_TMPDIR/stderr IN=$(input 'hello\n') STATUS=0
    RAN="echo-client 127.0.0.1 $SERVER_PORT >/dev/full"
    timeout "$(tmo 5)" echo-client 127.0.0.1 "$SERVER_PORT" <"$IN" >/dev/full 2>"$ERR" || STATUS=$?
    expect_status 1
    expect_stderr "echo-client: stdout: No space left on device"
    stop_server
}
