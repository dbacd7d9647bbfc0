#!/usr/bin/env bats
# Lesson 04: the Knock Knock protocol (kk-protocol), kk-server and kk-client.
# The server checks shared with lessons 05 and 06 live in lib/kk_tests.bash.

load test_helper
load lib/kk_tests
load lib/java_peers

# shellcheck disable=SC2034 # read by lib/kk_tests.bash and lib/echo_server_tests.bash
KK_SERVER=kk-server
# shellcheck disable=SC2034
KK_SERVER_ARGS=(-q)

setup_file() {
    # The kit's Java Knock Knock peers (tests/peers/java), compiled once for the file.
    java_peers_build KnockPeerServer KnockPeerClient
}

# ---- helpers ----------------------------------------------------------------------------

# protocol_says INPUT EXPECTED - kk-protocol turns INPUT (with \n \r escapes) into EXPECTED.
protocol_says() {
    run timeout "$(tmo 5)" kk-protocol < <(printf '%b' "$1")
    assert_success
    assert_output "$2"
}

REPRIMAND=$'You\'re supposed to say "Who\'s there?"! Try again. Knock! Knock!'
TURNIP_PUNCH="Turnip the heat, it's cold in here! Want another? (y/n)"

# fake_server STEPS - a one-shot python server on port 0 (prints "port N"): sends the
# greeting, reads STEPS lines, then closes. Sets FAKE_PID and FAKE_PORT.
fake_server() {
    local out=$BATS_TEST_TMPDIR/fake.out n=0
    timeout "$(tmo 10)" python3 -c '
import socket, sys
s = socket.create_server(("127.0.0.1", 0))
print("port", s.getsockname()[1], flush=True)
c, _ = s.accept()
c.sendall(b"Knock! Knock!\n")
f = c.makefile("rb")
for _ in range(int(sys.argv[1])):
    f.readline()
c.close()
' "$1" >"$out" 3>&- &
    FAKE_PID=$!
    until FAKE_PORT=$(sed -n 's/^port //p' "$out") && [ -n "$FAKE_PORT" ]; do
        [ $((n += 1)) -le $((100 * KIT_SLOW)) ] || return 1
        sleep 0.05
    done
}

# A Knock Knock server that misbehaves (python3 -c "$ODD_SERVER_PY" MODE 0): it prints
# "listening on ADDR:PORT", serves one client at a time and exits 0 on SIGTERM. MODE:
#   silent       accepts, then says nothing, reads nothing and never closes
#   greet        says "Knock! Knock!", then nothing: reads nothing, never closes
#   out-of-turn  says "Knock! Knock!", 0.3 s later "Hurry up!" unasked; answers the first
#                line with "Bye.", then reads until the client closes
ODD_SERVER_PY=$(
    cat <<'PY'
import signal, socket, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
mode = sys.argv[1]
ls = socket.create_server(("127.0.0.1", int(sys.argv[2])))
print("listening on 127.0.0.1:%d" % ls.getsockname()[1], flush=True)
held = []
while True:
    conn, _ = ls.accept()
    held.append(conn)
    if mode == "greet":
        conn.sendall(b"Knock! Knock!\n")
    elif mode == "out-of-turn":
        conn.sendall(b"Knock! Knock!\n")
        time.sleep(0.3)
        conn.sendall(b"Hurry up!\n")
        conn.makefile("rb").readline()
        conn.sendall(b"Bye.\n")
        while conn.recv(4096):
            pass
PY
)

# ---- kk-protocol: the state machine without a socket --------------------------------

@test "kk-protocol: greets first and says nothing else at once" {
    protocol_says '' 'Knock! Knock!'
}

@test "kk-protocol: tells the first joke and says Bye. to n" {
    protocol_says "Who's there?\nTurnip who?\nn\n" \
        "Knock! Knock!"$'\n'"Turnip"$'\n'"$TURNIP_PUNCH"$'\n'"Bye."
}

@test "kk-protocol: reprimands anything but Who's there? and keeps waiting" {
    protocol_says "Hello\nWho's there\nWho's there? \n\nWho's there?\n" \
        "Knock! Knock!"$'\n'"$REPRIMAND"$'\n'"$REPRIMAND"$'\n'"$REPRIMAND"$'\n'"$REPRIMAND"$'\nTurnip'
}

@test "kk-protocol: a wrong who? gets the reprimand naming the clue and the joke restarts" {
    protocol_says "Who's there?\nTurnip?\nWho's there?\nTurnip who?\n" \
        $'Knock! Knock!\nTurnip\nYou\'re supposed to say "Turnip who?"! Try again. Knock! Knock!\nTurnip\n'"$TURNIP_PUNCH"
}

@test "kk-protocol: matches without regard to ASCII case" {
    protocol_says "WHO'S THERE?\nturnip WHO?\nY\nwho's there?\n" \
        "Knock! Knock!"$'\nTurnip\n'"$TURNIP_PUNCH"$'\nKnock! Knock!\nLittle Old Lady'
}

@test "kk-protocol: CRLF and a lone CR end lines" {
    protocol_says "Who's there?\r\nTurnip who?\ry\r\nWho's there?\r" \
        "Knock! Knock!"$'\nTurnip\n'"$TURNIP_PUNCH"$'\nKnock! Knock!\nLittle Old Lady'
}

@test "kk-protocol: yes is not y: the conversation ends with Bye." {
    protocol_says "Who's there?\nTurnip who?\nyes\nWho's there?\n" \
        "Knock! Knock!"$'\nTurnip\n'"$TURNIP_PUNCH"$'\nBye.'
}

@test "kk-protocol: the five jokes in order, then the first again" {
    run timeout "$(tmo 5)" kk-protocol < <(kk_transcript_input)
    assert_success
    assert_output "$(kk_transcript_output | sed -n 's/^Server: //p')"
}

@test "kk-protocol: input ending mid-joke ends quietly" {
    protocol_says "Who's there?" $'Knock! Knock!\nTurnip'
}

@test "kk-protocol: a line of 5000 bytes is refused" {
    run timeout "$(tmo 5)" kk-protocol < <(head -c 5000 /dev/zero | tr '\0' x; echo)
    assert_failure 1
    assert_output $'Knock! Knock!\nkk-protocol: input: line longer than 4096 bytes'
}

@test "kk-protocol: -h prints usage, extra arguments are bad usage" {
    run kk-protocol -h
    assert_success
    assert_output 'usage: kk-protocol < CLIENT-LINES'
    assert_usage_errors kk-protocol 'usage: kk-protocol < CLIENT-LINES' <<'EOF'
extra	unexpected argument: extra
-x	unknown option: -x
EOF
}

# ---- kk-server: the shared Knock Knock server checks -------------------------------------

@test "kk-server: kk-client tells all five jokes and more: the 37-line transcript" { kk_test_transcript_37_lines; }
@test "kk-server: speaks first" { kk_test_greeting_first; }
@test "kk-server: tells a whole joke, byte for byte, and closes after Bye." { kk_test_whole_joke; }
@test "kk-server: reprimands anything but Who's there? and keeps waiting" { kk_test_whos_there_reprimand; }
@test "kk-server: a wrong who? gets the reprimand and the same joke again" { kk_test_clue_reprimand_restarts; }
@test "kk-server: a missing ?, a trailing space, an empty line or a NUL do not match" { kk_test_near_misses; }
@test "kk-server: matches without regard to ASCII case" { kk_test_case_insensitive; }
@test "kk-server: CRLF and a lone CR end lines" { kk_test_line_endings; }
@test "kk-server: yes is not y" { kk_test_yes_means_no; }
@test "kk-server: after the fifth joke comes the first" { kk_test_wrap_to_first_joke; }
@test "kk-server: a 5000-byte line closes that connection and the server goes on" { kk_test_long_line_closes; }
@test "kk-server: a 4096-byte line is still a line" { kk_test_line_of_4096_accepted; }
@test "kk-server: a client that resets mid-joke is forgotten quietly" { kk_test_reset_mid_joke; }
@test "kk-server: a client that half-closes mid-joke gets its replies, then EOF" { kk_test_eof_mid_joke; }
@test "kk-server: \"Bye.\" arrives although the client sent more than the server read" { kk_test_bye_survives_unread_input; }
@test "kk-server: after \"Bye.\" it waits at most about a second for the client to close" { kk_test_linger_is_bounded; }

# ---- kk-server: its own behaviour ---------------------------------------------------------

@test "kk-server: --once exits 0 after the whole transcript" {
    start_server kk-server --once 0
    run timeout "$(tmo 10)" kk-client localhost "$SERVER_PORT" < <(kk_transcript_input)
    assert_success
    assert_equal "${#lines[@]}" 37
    wait_exit "$SERVER_PID" 5 # in this shell: a subshell (run) cannot wait for our children
    run cat "$SERVER_ERR"
    assert_output --regexp '^connection from 127\.0\.0\.1:[0-9]+
closed 127\.0\.0\.1:[0-9]+$'
}

@test "kk-server: a second client hears nothing until the first says Bye." {
    kk_start
    # B connects (the kernel completes the handshake: it waits in the backlog) while A is
    # served; B must hear nothing for half a second, then get its greeting once A leaves.
    run kk_peer open a expect a "$KK_KNOCK" open b silent b 0.5 \
        send a "Who's there?\\nTurnip who?\\nn\\n" expect a "Turnip\\n$KK_TURNIP_PUNCH$KK_BYE" eof a \
        expect b "$KK_KNOCK"
    assert_success
    stop_server
}

@test "kk-server: serves a second client after the first leaves" {
    kk_start
    kk_assert_served
    kk_assert_served
    stop_server
}

@test "kk-server: a 5000-byte line: the log says why, then closed" {
    # shellcheck disable=SC2034 # read by kk_start (lib/kk_tests.bash)
    local -a KK_SERVER_ARGS=() # the log on, as the README shows it
    kk_start
    run kk_peer open a expect a "$KK_KNOCK" send a "$(printf 'x%.0s' $(seq 1 5000))\\n" closed a
    assert_success
    kk_assert_served # its "closed" line comes after the first client's
    run cat "$SERVER_ERR"
    assert_line --index 0 --regexp '^connection from 127\.0\.0\.1:[0-9]+$'
    local addr=${lines[0]#connection from }
    assert_equal "${lines[1]}" "kk-server: $addr: line longer than 4096 bytes, connection closed"
    assert_equal "${lines[2]}" "closed $addr"
    stop_server
}

@test "kk-server: an accept() error that concerns one client is logged, and the server goes on" {
    local tracee status=0
    strace -o /dev/null true 2>/dev/null || skip "strace is missing or cannot trace here"
    # strace makes the third accept fail with EPROTO (that client's network failed) instead of
    # calling it, so that client still waits in the backlog: the next accept takes it. Both
    # calls are named: a server may accept with accept() or with accept4(). LeakSanitizer
    # cannot run under a tracer: leaks are the other tests' business.
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 start_server strace -f -o /dev/null \
        -e trace=accept,accept4 -e inject=accept,accept4:error=EPROTO:when=3 \
        kk-server -q 0
    kk_assert_served
    kk_assert_served
    kk_assert_served # the third: its first accept failed
    kk_assert_served
    run cat "$SERVER_ERR"
    assert_output "kk-server: accept: Protocol error: skipping that connection"
    # strace holds off SIGTERM itself: stop the server it runs, then strace ends with its status.
    tracee=$(pgrep -P "$SERVER_PID")
    kill -TERM "$tracee"
    wait_exit "$SERVER_PID" 5 || status=$?
    assert_equal "$status" 0
}

@test "kk-server: -b ::1 serves kk-client over IPv6" {
    has_ipv6_loopback || skip "no IPv6 loopback (::1) here"
    start_server kk-server -q -b ::1 0
    assert_equal "$SERVER_ENDPOINT" "[::1]:$SERVER_PORT"
    run timeout "$(tmo 10)" kk-client ::1 "$SERVER_PORT" < <(kk_transcript_input)
    assert_success
    assert_output "$(kk_transcript_output)"
    stop_server
}

@test "kk-server: a port in use is a one-line failure" {
    kk_start
    run timeout "$(tmo 5)" kk-server -q "$SERVER_PORT"
    assert_failure 1
    assert_output "kk-server: cannot listen on 127.0.0.1 port $SERVER_PORT: Address already in use"
    stop_server
}

@test "kk-server: -h prints usage, bad usage exits 2" {
    run kk-server -h
    assert_success
    assert_output 'usage: kk-server [-b ADDR] [--once] [-q] PORT'
    assert_usage_errors kk-server 'usage: kk-server [-b ADDR] [--once] [-q] PORT' <<'EOF'
-	missing PORT
--bogus 0	unknown option: --bogus
65536	port must be a number from 0 to 65535: 65536
1 2	unexpected argument: 2
x	port must be a number from 0 to 65535: x
EOF
}

# ---- kk-client ------------------------------------------------------------------------------

@test "kk-client: stdin ending mid-joke half-closes, shows the rest, exits 1 without hanging" {
    kk_start
    run timeout "$(tmo 5)" kk-client 127.0.0.1 "$SERVER_PORT" < <(printf "Who's there?\n")
    assert_failure 1
    assert_output "Server: Knock! Knock!
Client: Who's there?
Server: Turnip
kk-client: input ended before 127.0.0.1 port $SERVER_PORT said Bye."
    stop_server
}

@test "kk-client: empty stdin: the greeting, then the error" {
    kk_start
    # Empty stdin ends at once, before or after the greeting arrives: either way kk-client
    # half-closes, and the server greets, reads the end and hangs up.
    run timeout "$(tmo 5)" kk-client 127.0.0.1 "$SERVER_PORT" </dev/null
    assert_failure 1
    assert_output "Server: Knock! Knock!
kk-client: input ended before 127.0.0.1 port $SERVER_PORT said Bye."
    kk_assert_served
    stop_server
}

@test "kk-client: against echo-server, which never greets, empty stdin ends it at once" {
    start_server echo-server -q 0
    run timeout "$(tmo 5)" kk-client 127.0.0.1 "$SERVER_PORT" </dev/null
    assert_failure 1 # not 124: timeout did not have to end it
    assert_output "kk-client: input ended before 127.0.0.1 port $SERVER_PORT said anything"
    stop_server
}

# silent_server_clients - two kk-clients with --timeout 1 against $SERVER_PORT at once (so
# the test waits one second, not two): stdin "open" (silent for 10 s) and stdin STDIN
# ("typed": the 18 lines, or "closed": empty). Each must end by itself: exit 1 and the one
# line of a missing greeting.
silent_server_clients() {
    local open other status_open=0 status_other=0
    timeout "$(tmo 5)" kk-client --timeout 1 127.0.0.1 "$SERVER_PORT" < <(sleep 10 3>&-) \
        >"$BATS_TEST_TMPDIR/open.out" 2>&1 3>&- &
    open=$!
    if [ "$1" = typed ]; then
        kk_transcript_input >"$BATS_TEST_TMPDIR/stdin"
    else
        : >"$BATS_TEST_TMPDIR/stdin"
    fi
    timeout "$(tmo 5)" kk-client --timeout 1 127.0.0.1 "$SERVER_PORT" <"$BATS_TEST_TMPDIR/stdin" \
        >"$BATS_TEST_TMPDIR/other.out" 2>&1 3>&- &
    other=$!
    wait "$open" || status_open=$?
    wait "$other" || status_other=$?
    assert_equal "stdin open: exit $status_open" "stdin open: exit 1" # not 124: timeout's
    assert_equal "$(cat "$BATS_TEST_TMPDIR/open.out")" \
        "kk-client: cannot read from 127.0.0.1 port $SERVER_PORT: no greeting within 1 s"
    assert_equal "stdin $1: exit $status_other" "stdin $1: exit 1"
    assert_equal "$(cat "$BATS_TEST_TMPDIR/other.out")" \
        "kk-client: cannot read from 127.0.0.1 port $SERVER_PORT: no greeting within 1 s"
}

@test "kk-client: against echo-server, which never greets, stdin open or typed ahead: --timeout ends it" {
    start_server echo-server -q 0
    # lines typed ahead wait for the greeting: nothing is sent before it
    silent_server_clients typed
    stop_server
}

@test "kk-client: against a listener that accepts and stays silent, --timeout ends it" {
    start_server python3 -c "$ODD_SERVER_PY" silent 0
    # stdin closed: kk-client half-closes, but this listener neither speaks nor closes
    silent_server_clients closed
    stop_server
}

@test "kk-client: --timeout ends the wait for a reply that never comes" {
    start_server python3 -c "$ODD_SERVER_PY" greet 0
    run timeout "$(tmo 5)" kk-client --timeout 1 127.0.0.1 "$SERVER_PORT" < <(kk_transcript_input)
    assert_failure 1
    assert_output "Server: Knock! Knock!
Client: Who's there?
kk-client: cannot read from 127.0.0.1 port $SERVER_PORT: no reply within 1 s"
    stop_server
}

@test "kk-client: notices at once a server that hangs up while it waits for your line" {
    fake_server 0 # says "Knock! Knock!" and closes at once
    # stdin stays open and silent for 10 s: a client that only watched stdin would wait it out.
    run timeout "$(tmo 5)" kk-client 127.0.0.1 "$FAKE_PORT" < <(sleep 10 3>&-)
    assert_failure 1 # not 124: timeout did not have to end it
    assert_output "Server: Knock! Knock!
kk-client: cannot read from 127.0.0.1 port $FAKE_PORT: server closed the connection"
}

@test "kk-client: a server speaking out of turn is heard after your next line, without spinning" {
    local out=$BATS_TEST_TMPDIR/out pid client ticks
    start_server python3 -c "$ODD_SERVER_PY" out-of-turn 0
    # Your lines come 1.5 s after the greeting; "Hurry up!" arrives meanwhile. A client that
    # kept watching the socket would be woken again and again, and spend that time on a CPU.
    timeout "$(tmo 10)" kk-client 127.0.0.1 "$SERVER_PORT" \
        < <(sleep 1.5 3>&-; printf "Who's there?\nx\n") >"$out" 2>&1 3>&- &
    pid=$!
    sleep 1
    client=$(pgrep -n -P "$pid") # timeout's child
    # its user + system time so far, in clock ticks (1/100 s)
    ticks=$(awk '{ print $14 + $15 }' "/proc/$client/stat")
    wait_exit "$pid" 5
    run cat "$out"
    assert_output "Server: Knock! Knock!
Client: Who's there?
Server: Hurry up!
Client: x
Server: Bye."
    [ -n "$VALGRIND" ] || assert [ "$ticks" -lt 20 ] # valgrind alone costs more than that
    stop_server
}

@test "kk-client: a server closing before Bye. is an error" {
    fake_server 1
    run timeout "$(tmo 5)" kk-client 127.0.0.1 "$FAKE_PORT" < <(kk_transcript_input)
    assert_failure 1
    assert_output "Server: Knock! Knock!
Client: Who's there?
kk-client: cannot read from 127.0.0.1 port $FAKE_PORT: server closed the connection"
    wait_exit "$FAKE_PID" 5
}

@test "kk-client: a refused connection is a one-line failure" {
    local port
    port=$(free_port)
    run timeout "$(tmo 5)" kk-client 127.0.0.1 "$port" </dev/null
    assert_failure 1
    assert_output "kk-client: cannot connect to 127.0.0.1 port $port: Connection refused"
}

@test "kk-client: an unknown host is a one-line failure" {
    run timeout "$(tmo 10)" kk-client no-such-host.invalid 4444 </dev/null
    assert_failure 1
    assert_output --regexp '^kk-client: cannot resolve no-such-host\.invalid port 4444: .+$'
}

@test "kk-client: -h prints usage naming kk-client, bad usage exits 2" {
    run kk-client -h
    assert_success
    assert_output 'usage: kk-client [--timeout SECS] HOST PORT'
    assert_usage_errors kk-client 'usage: kk-client [--timeout SECS] HOST PORT' <<'EOF'
-	missing HOST and PORT
localhost	missing PORT
localhost 0	port must be a number from 1 to 65535: 0
localhost 65536	port must be a number from 1 to 65535: 65536
localhost 1 2	unexpected argument: 2
--timeout 0 localhost 7	--timeout must be at least 1: 0
--timeout x localhost 7	--timeout must be a number from 1 to 86400: x
--timeout	option --timeout needs a value
--bogus localhost 7	unknown option: --bogus
EOF
}

# ---- against the kit's Java peers (tests/peers/java: Java's socket classes) -------------------

@test "kk-client against a Java Knock Knock server (KnockPeerServer): the same 37 lines" {
    local port
    need_java_peers
    port=$(free_port)
    java_peer_server 20 KnockPeerServer "$port"
    run timeout "$(tmo 10)" kk-client 127.0.0.1 "$port" < <(kk_transcript_input)
    assert_success
    assert_output "$(kk_transcript_output)"
    wait_exit "$JAVA_PEER_PID" 10 # it serves one client, then exits 0
}

@test "a Java Knock Knock client (KnockPeerClient) against kk-server: the same 37 lines" {
    need_java_peers
    start_server kk-server -q --once 0
    run timeout "$(tmo 20)" "${JAVA_PEER[@]}" KnockPeerClient 127.0.0.1 "$SERVER_PORT" \
        < <(kk_transcript_input)
    assert_success
    assert_output "$(kk_transcript_output)"
    wait_exit "$SERVER_PID" 5 # in this shell: a subshell (run) cannot wait for our children
}
