#!/usr/bin/env bats
# tests/04-knock-knock.bats - lesson 04: the Knock Knock protocol (kk-protocol), kk-server and
# kk-client, in stages that follow the README: the state machine without a socket (stages 1
# and 2), the server's start and stop (3), one conversation (4), lines out of a byte stream
# (5), the whole protocol over a socket (6), one client after another (7), ending a
# conversation well (8), kk-client talking (9) and never hanging (10), then the usage
# contract of all three (11). The server checks shared with lessons 05 and 06 live in
# lib/kk_tests.bash.

# shellcheck disable=SC2030,SC2031 # each @test runs in a subshell: $output, $status are per test
load test_helper
load lib/kk_tests
load lib/java_peers

# shellcheck disable=SC2034 # read by lib/kk_tests.bash
KK_SERVER=kk-server
# shellcheck disable=SC2034
KK_SERVER_ARGS=(-q)

setup_file() {
    # The kit's Java Knock Knock peers (tests/peers/java), compiled once for the file.
    java_peers_build KnockPeerServer KnockPeerClient
}

# The README's sections, for the hints.
S_PROTOCOL='The protocol'
S_JAVA='The Java original beside the C'
S_WRONG='What can go wrong'
S_TURN='Your turn'

# ---- helpers ----------------------------------------------------------------------------

REPRIMAND=$'You\'re supposed to say "Who\'s there?"! Try again. Knock! Knock!'
TURNIP_PUNCH="Turnip the heat, it's cold in here! Want another? (y/n)"

# protocol_says INPUT EXPECTED - kk-protocol, given INPUT (printf %b escapes) on stdin, prints
# exactly EXPECTED (its lines), nothing on stderr, and exits 0. On a difference it shows the
# conversation up to the first reply that differs, then the expected and the received reply.
protocol_says() {
    local dir=$BATS_TEST_TMPDIR status=0
    printf '%b' "$1" >"$dir/in"
    printf '%s\n' "$2" >"$dir/want"
    timeout "$(tmo 5)" kk-protocol <"$dir/in" >"$dir/got" 2>"$dir/err" || status=$?
    if [ "$status" -eq 124 ]; then
        echo "kk-protocol did not finish within $(tmo 5) s, although its input had ended"
        return 1
    fi
    if ! cmp -s "$dir/want" "$dir/got"; then
        show_conversation "$dir"
        return 1
    fi
    if [ "$status" -ne 0 ] || [ -s "$dir/err" ]; then
        echo "kk-protocol printed the right replies, then exited $status (expected 0), and on stderr:"
        head -n 3 "$dir/err" | sed 's/^/  /'
        return 1
    fi
}

# show_conversation DIR - the input lines (DIR/in) and kk-protocol's replies (DIR/got) side by
# side, up to the first reply that differs from DIR/want; that reply, expected and received.
show_conversation() {
    python3 - "$1" <<'PY'
import re, sys
d = sys.argv[1]
NAMES = {0x0a: "\\n", 0x0d: "\\r", 0x09: "\\t", 0x00: "\\0", 0x22: '\\"', 0x5c: "\\\\"}
def lit(b):
    t = "".join(NAMES.get(c, chr(c) if 0x20 <= c < 0x7f else "\\x%02x" % c) for c in b[:100])
    return '"%s"%s' % (t, "..." if len(b) > 100 else "")
def lines(raw):
    parts = raw.split(b"\n")
    return parts[:-1] if parts[-1] == b"" else parts
said = [l for l in re.split(rb"\r\n|\r|\n", open(d + "/in", "rb").read())]
if said and said[-1] == b"":
    said.pop()
want = lines(open(d + "/want", "rb").read())
got = lines(open(d + "/got", "rb").read())
i = 0
while i < len(want) and i < len(got) and want[i] == got[i]:
    i += 1
print("the conversation up to the first reply that differs (reply 1 is the greeting):")
for k in range(max(0, i - 3), i + 1):
    if 0 < k <= len(said):
        print("  you:          %s" % lit(said[k - 1]))
    if k < i:
        print("  kk-protocol:  %s" % lit(got[k]))
print("expected:      %s" % (lit(want[i]) if i < len(want) else "(nothing more: the conversation was over)"))
print("got:           %s" % (lit(got[i]) if i < len(got) else "(nothing more)"))
if i < len(want) and i < len(got):
    at = next((j for j in range(min(len(want[i]), len(got[i]))) if want[i][j] != got[i][j]),
              min(len(want[i]), len(got[i])))
    print("reply %d differs at byte %d (counting from 0)" % (i + 1, at))
elif i >= len(want) and i >= len(got):
    print("(the replies are right; the last one does not end in \"\\n\")")
PY
}

# client_says STATUS EXPECTED - after `run timeout ... kk-client ...`: kk-client ended by
# itself with exit status STATUS, having printed EXPECTED (stdout and stderr), line for line.
client_says() {
    if [ "$status" -eq 124 ]; then
        echo "kk-client did not end by itself: timeout had to stop it (exit 124)"
        if [ -n "$output" ]; then
            echo "what it printed before:"
            head -n 8 <<<"$output" | sed 's/^/  /'
        fi
        return 1
    fi
    kk_same_lines "$2" || return 1
    [ "$status" -eq "$1" ] || { echo "kk-client printed the right lines, then exited $status, not $1" && return 1; }
}

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

# ---- stage 1: kk-protocol, the first joke -------------------------------------------------

@test "stage 1: kk-protocol: greets first with Knock! Knock! and says nothing more before a line comes" {
    hint "kk_init() starts a conversation (waiting, first joke); kk_greeting() returns \"Knock! Knock!\" and moves to the state that waits for \"Who's there?\"" "$S_PROTOCOL"
    protocol_says '' 'Knock! Knock!'
}

@test "stage 1: kk-protocol: tells the first joke and says Bye. to n" {
    hint "each state answers one line: \"Who's there?\" gets the clue, \"Turnip who?\" the punch line, and anything but y after it \"Bye.\" with *done set" "$S_PROTOCOL"
    protocol_says "Who's there?\nTurnip who?\nn\n" \
        "Knock! Knock!"$'\n'"Turnip"$'\n'"$TURNIP_PUNCH"$'\n'"Bye."
}

# ---- stage 2: kk-protocol, every transition ------------------------------------------------

@test "stage 2: kk-protocol: reprimands anything but Who's there? and keeps waiting" {
    hint "only the whole line \"Who's there?\" (any case) gets the clue: a prefix, a missing \"?\", a trailing space or an empty line get the reprimand, and the state stays; the reprimand's text is the tutorial's, byte for byte" "$S_PROTOCOL"
    protocol_says "Hello\nWho's there\nWho's there? \n\nWho's there?\n" \
        "Knock! Knock!"$'\n'"$REPRIMAND"$'\n'"$REPRIMAND"$'\n'"$REPRIMAND"$'\n'"$REPRIMAND"$'\nTurnip'
}

@test "stage 2: kk-protocol: a wrong who? gets the reprimand naming the clue, and the joke restarts" {
    hint "a wrong \"CLUE who?\" gets that joke's reprimand, which ends in \"Knock! Knock!\": the state goes back to waiting for \"Who's there?\"" "$S_PROTOCOL"
    protocol_says "Who's there?\nTurnip?\nWho's there?\nTurnip who?\n" \
        $'Knock! Knock!\nTurnip\nYou\'re supposed to say "Turnip who?"! Try again. Knock! Knock!\nTurnip\n'"$TURNIP_PUNCH"
}

@test "stage 2: kk-protocol: matches without regard to ASCII case" {
    hint "compare as Java's equalsIgnoreCase does: same length, each byte equal once ASCII letters are lowered" "$S_JAVA"
    protocol_says "WHO'S THERE?\nturnip WHO?\nY\nwho's there?\n" \
        "Knock! Knock!"$'\nTurnip\n'"$TURNIP_PUNCH"$'\nKnock! Knock!\nLittle Old Lady'
}

@test "stage 2: kk-protocol: yes is not y: the conversation ends with Bye." {
    hint "after the punch line only the whole line \"y\" or \"Y\" means another joke: \"yes\" gets \"Bye.\" (a test of the first letter alone accepts it)" "$S_PROTOCOL"
    protocol_says "Who's there?\nTurnip who?\nyes\nWho's there?\n" \
        "Knock! Knock!"$'\nTurnip\n'"$TURNIP_PUNCH"$'\nBye.'
}

@test "stage 2: kk-protocol: the five jokes in order, then the first again" {
    hint "\"y\" moves on to the next joke, and after the fifth comes the first: the punch lines and clues are the table's, byte for byte" "$S_PROTOCOL"
    protocol_says "$(kk_transcript_input | sed 's/$/\\n/' | tr -d '\n')" \
        "$(kk_transcript_output | sed -n 's/^Server: //p')"
}

@test "stage 2: kk-protocol: input ending mid-joke ends quietly" {
    hint "the end of input mid-joke is no error: kk-protocol stops after the last reply and exits 0" "$S_PROTOCOL"
    protocol_says "Who's there?" $'Knock! Knock!\nTurnip'
}

@test "stage 2: kk-protocol: CRLF and a lone CR end lines" {
    hint "kk-protocol's reader strips the line ending (LF, CRLF or a lone CR) before kk_reply() sees the line: compare the bytes you are given, len of them" "$S_PROTOCOL"
    protocol_says "Who's there?\r\nTurnip who?\ry\r\nWho's there?\r" \
        "Knock! Knock!"$'\nTurnip\n'"$TURNIP_PUNCH"$'\nKnock! Knock!\nLittle Old Lady'
}

@test "stage 2: kk-protocol: a line of 5000 bytes is refused" {
    hint "a line longer than 4096 bytes (KK_MAX_LINE) is refused: one line on stderr, exit 1" "$S_WRONG"
    run timeout "$(tmo 5)" kk-protocol < <(head -c 5000 /dev/zero | tr '\0' x; echo)
    assert_failure 1
    assert_output $'Knock! Knock!\nkk-protocol: input: line longer than 4096 bytes'
}

# ---- stage 3: kk-server starts and stops ---------------------------------------------------

@test "stage 3: kk-server: prints listening on 127.0.0.1:PORT at once, and exits 0 on SIGTERM" {
    hint "print \"listening on ADDR:PORT\" once listen() succeeded, then fflush(stdout): into a file or a pipe, stdout is written only when its buffer fills" "$S_TURN"
    start_server kk-server -q 0
    [[ $SERVER_ENDPOINT =~ ^127\.0\.0\.1:[1-9][0-9]*$ ]] ||
        fail "expected \"listening on 127.0.0.1:PORT\" (port 0 lets the system pick one), got \"listening on $SERVER_ENDPOINT\""
    [ "$(cat "$SERVER_OUT")" = "listening on $SERVER_ENDPOINT" ] ||
        fail "stdout should hold that one line, and nothing else: $(show_bytes "$SERVER_OUT")"
    hint "SIGTERM must end the server with exit status 0, not kill it: catch it (sig_setup_stop()), leave the accept loop, close and free everything, return 0" "$S_TURN"
    stop_server
}

@test "stage 3: kk-server: exits 0 on SIGINT (Ctrl-C) too" {
    local status=0
    hint "SIGINT, what Ctrl-C sends, must stop the server as SIGTERM does: exit status 0, not death by the signal" "$S_TURN"
    # A background job starts with SIGINT ignored; env gives the server the default action,
    # as a terminal would: a server that does not catch SIGINT dies of it.
    start_server env --default-signal=INT kk-server -q 0
    kill -INT "$SERVER_PID"
    wait_exit "$SERVER_PID" 5 || status=$?
    case $status in
    0) ;;
    124) fail "kk-server was still running 5 s after SIGINT" ;;
    130) fail "kk-server was killed by SIGINT (exit status 130) instead of exiting 0" ;;
    *) fail "kk-server exited $status after SIGINT, not 0" ;;
    esac
}

@test "stage 3: kk-server: a port in use is a one-line failure" {
    hint "a failing bind() is one line naming address and port, and exit 1" "$S_WRONG"
    kk_start
    run timeout "$(tmo 5)" kk-server -q "$SERVER_PORT"
    assert_failure 1
    assert_output "kk-server: cannot listen on 127.0.0.1 port $SERVER_PORT: Address already in use"
    stop_server
}

# ---- stage 4: one conversation ---------------------------------------------------------------

@test "stage 4: kk-server: speaks first" { kk_test_greeting_first; }
@test "stage 4: kk-server: tells a whole joke, byte for byte, and closes after Bye." { kk_test_whole_joke; }

# ---- stage 5: lines out of a byte stream ------------------------------------------------------

@test "stage 5: kk-server: answers every line of one write: the transcript's 18 lines at once" { kk_test_one_write_many_lines; }
@test "stage 5: kk-server: CRLF and a lone CR end lines, also a CRLF split across two reads" { kk_test_line_endings; }
@test "stage 5: kk-server: a 4096-byte line is still a line" { kk_test_line_of_4096_accepted; }
@test "stage 5: kk-server: a 5000-byte line closes that connection and the server goes on" { kk_test_long_line_closes; }

@test "stage 5: kk-server: a 5000-byte line: the log says why, then closed" {
    # shellcheck disable=SC2034 # read by kk_start (lib/kk_tests.bash)
    local -a KK_SERVER_ARGS=() # the log on, as the README shows it
    hint "without -q the log has three lines for that client: \"connection from ADDR:PORT\", the reason, \"closed ADDR:PORT\"" "$S_WRONG"
    kk_start
    run kk_peer open a expect a "$KK_KNOCK" send a "$(printf 'x%.0s' $(seq 1 5000))\\n" closed a
    kk_peer_passed
    kk_assert_served # its "closed" line comes after the first client's
    run cat "$SERVER_ERR"
    assert_line --index 0 --regexp '^connection from 127\.0\.0\.1:[0-9]+$'
    local addr=${lines[0]#connection from }
    assert_equal "${lines[1]}" "kk-server: $addr: line longer than 4096 bytes, connection closed"
    assert_equal "${lines[2]}" "closed $addr"
    stop_server
}

# ---- stage 6: the whole protocol over a socket ------------------------------------------------

@test "stage 6: kk-server: reprimands anything but Who's there? and keeps waiting" { kk_test_whos_there_reprimand; }
@test "stage 6: kk-server: a wrong who? gets the reprimand and the same joke again" { kk_test_clue_reprimand_restarts; }
@test "stage 6: kk-server: a missing ?, a trailing space, an empty line or a NUL do not match" { kk_test_near_misses; }
@test "stage 6: kk-server: matches without regard to ASCII case" { kk_test_case_insensitive; }
@test "stage 6: kk-server: yes is not y" { kk_test_yes_means_no; }
@test "stage 6: kk-server: after the fifth joke comes the first" { kk_test_wrap_to_first_joke; }
@test "stage 6: kk-server: kk-client tells all five jokes and more: the 37-line transcript" { kk_test_transcript_37_lines; }

@test "stage 6: kk-server: a Java Knock Knock client (KnockPeerClient) gets the same 37 lines" {
    need_java_peers
    hint "a client written with Java's socket classes must see exactly what kk-client sees" "$S_JAVA"
    start_server kk-server -q --once 0
    run timeout "$(tmo 20)" "${JAVA_PEER[@]}" KnockPeerClient 127.0.0.1 "$SERVER_PORT" \
        < <(kk_transcript_input)
    kk_same_lines "$(kk_transcript_output)"
    assert_success
    wait_exit "$SERVER_PID" 5 # in this shell: a subshell (run) cannot wait for our children
}

# ---- stage 7: one client after another --------------------------------------------------------

@test "stage 7: kk-server: a second client hears nothing until the first says Bye." {
    hint "kk-server serves one client at a time: the second waits, connected, in the listen backlog until the first conversation ends" "$S_WRONG"
    kk_start
    # B connects (the kernel completes the handshake: it waits in the backlog) while A is
    # served; B must hear nothing for half a second, then get its greeting once A leaves.
    run kk_peer open a expect a "$KK_KNOCK" open b silent b 0.5 \
        send a "Who's there?\\nTurnip who?\\nn\\n" expect a "Turnip\\n$KK_TURNIP_PUNCH$KK_BYE" eof a \
        expect b "$KK_KNOCK"
    kk_peer_passed
    stop_server
}

@test "stage 7: kk-server: serves a second client after the first leaves" {
    hint "after one conversation, close that client's socket and accept the next: a fresh conversation, from the first joke" "$S_WRONG"
    kk_start
    kk_assert_served
    kk_assert_served
    stop_server
}

@test "stage 7: kk-server: a client that resets mid-joke is forgotten quietly" { kk_test_reset_mid_joke; }
@test "stage 7: kk-server: a client that half-closes mid-joke gets its replies, then EOF" { kk_test_eof_mid_joke; }
@test "stage 7: kk-server: 100 clients one after another: its open descriptors do not grow" { kk_test_descriptors_after_100_clients; }

@test "stage 7: kk-server: an accept() error that concerns one client is logged, and the server goes on" {
    local tracee status=0
    strace -o /dev/null true 2>/dev/null || skip "strace is missing or cannot trace here"
    hint "accept() can fail because of one client (EPROTO, ECONNABORTED, ENETUNREACH...): log one line and accept the next; only a failure of the server itself ends it" "$S_WRONG"
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

@test "stage 7: kk-server: --once exits 0 after the whole transcript" {
    local status=0
    hint "--once: serve one client, then close the listening socket and exit 0, as the tutorial's server does" "$S_JAVA"
    start_server kk-server --once 0
    run timeout "$(tmo 10)" kk-client localhost "$SERVER_PORT" < <(kk_transcript_input)
    kk_same_lines "$(kk_transcript_output)"
    assert_success
    wait_exit "$SERVER_PID" 5 || status=$? # in this shell: a subshell (run) cannot wait for our children
    [ "$status" -ne 124 ] || fail "kk-server --once was still running 5 s after its client left"
    assert_equal "exit status $status" "exit status 0"
    run cat "$SERVER_ERR"
    assert_output --regexp '^connection from 127\.0\.0\.1:[0-9]+
closed 127\.0\.0\.1:[0-9]+$'
}

@test "stage 7: kk-server: -b ::1 serves kk-client over IPv6" {
    has_ipv6_loopback || skip "no IPv6 loopback (::1) here"
    hint "-b ::1 listens on the IPv6 loopback; the listening line shows it in brackets: [::1]:PORT" "$S_WRONG"
    start_server kk-server -q -b ::1 0
    assert_equal "$SERVER_ENDPOINT" "[::1]:$SERVER_PORT"
    run timeout "$(tmo 10)" kk-client ::1 "$SERVER_PORT" < <(kk_transcript_input)
    kk_same_lines "$(kk_transcript_output)"
    assert_success
    stop_server
}

# ---- stage 8: ending a conversation well ------------------------------------------------------

@test "stage 8: kk-server: \"Bye.\" arrives although the client sent more than the server read" { kk_test_bye_survives_unread_input; }
@test "stage 8: kk-server: after \"Bye.\" it waits at most about a second for the client to close" { kk_test_linger_is_bounded; }

# ---- stage 9: kk-client talks -----------------------------------------------------------------

@test "stage 9: kk-client: against a Java Knock Knock server (KnockPeerServer): the same 37 lines" {
    local port
    need_java_peers
    hint "kk-client relays: \"Server: LINE\" for each server line, then one line of yours as \"Client: LINE\", sent with its \"\\n\"; it stops after \"Bye.\"" "$S_JAVA"
    port=$(free_port)
    java_peer_server 20 KnockPeerServer "$port"
    run timeout "$(tmo 10)" kk-client 127.0.0.1 "$port" < <(kk_transcript_input)
    client_says 0 "$(kk_transcript_output)"
    wait_exit "$JAVA_PEER_PID" 10 # it serves one client, then exits 0
}

@test "stage 9: kk-client: a refused connection is a one-line failure" {
    local port
    hint "a failed connect() is one line naming host and port, and exit 1" "$S_WRONG"
    port=$(free_port)
    run timeout "$(tmo 5)" kk-client 127.0.0.1 "$port" </dev/null
    client_says 1 "kk-client: cannot connect to 127.0.0.1 port $port: Connection refused"
}

@test "stage 9: kk-client: an unknown host is a one-line failure" {
    hint "a name that does not resolve is one line naming host and port, with the resolver's reason, and exit 1" "$S_WRONG"
    run timeout "$(tmo 10)" kk-client no-such-host.invalid 4444 </dev/null
    assert_failure 1
    assert_output --regexp '^kk-client: cannot resolve no-such-host\.invalid port 4444: .+$'
}

# ---- stage 10: kk-client never hangs ----------------------------------------------------------

@test "stage 10: kk-client: stdin ending mid-joke half-closes, shows the rest, exits 1 without hanging" {
    hint "when your input ends before \"Bye.\", shutdown(SHUT_WR): the server reads EOF and hangs up; print what it still sends, then fail. Without the half-close both sides wait for each other" "$S_WRONG"
    kk_start
    run timeout "$(tmo 5)" kk-client 127.0.0.1 "$SERVER_PORT" < <(printf "Who's there?\n")
    client_says 1 "Server: Knock! Knock!
Client: Who's there?
Server: Turnip
kk-client: input ended before 127.0.0.1 port $SERVER_PORT said Bye."
    stop_server
}

@test "stage 10: kk-client: empty stdin: the greeting, then the error" {
    hint "empty input ends at once, before or after the greeting: half-close, show what the server still says, fail" "$S_WRONG"
    kk_start
    # Empty stdin ends at once, before or after the greeting arrives: either way kk-client
    # half-closes, and the server greets, reads the end and hangs up.
    run timeout "$(tmo 5)" kk-client 127.0.0.1 "$SERVER_PORT" </dev/null
    client_says 1 "Server: Knock! Knock!
kk-client: input ended before 127.0.0.1 port $SERVER_PORT said Bye."
    kk_assert_served
    stop_server
}

@test "stage 10: kk-client: against echo-server, which never greets, empty stdin ends it at once" {
    hint "before the greeting, watch stdin too (poll() on both): a server that never speaks must not hold a client whose input has already ended" "$S_WRONG"
    start_server echo-server -q 0
    run timeout "$(tmo 5)" kk-client 127.0.0.1 "$SERVER_PORT" </dev/null
    client_says 1 "kk-client: input ended before 127.0.0.1 port $SERVER_PORT said anything"
    stop_server
}

# silent_server_clients - two kk-clients with --timeout 1 against $SERVER_PORT at once (so
# the test waits one second, not two): stdin "open" (silent for 10 s) and stdin STDIN
# ("typed": the 18 lines, or "closed": empty). Each must end by itself: exit 1 and the one
# line of a missing greeting.
silent_server_clients() {
    local open other status_open=0 status_other=0 want
    want="kk-client: cannot read from 127.0.0.1 port $SERVER_PORT: no greeting within 1 s"
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
    status=$status_open output=$(cat "$BATS_TEST_TMPDIR/open.out")
    client_says 1 "$want" || fail "(that was kk-client --timeout 1 with stdin open and silent)"
    status=$status_other output=$(cat "$BATS_TEST_TMPDIR/other.out")
    client_says 1 "$want" || fail "(that was kk-client --timeout 1 with stdin $1)"
}

@test "stage 10: kk-client: against echo-server, which never greets, stdin open or typed ahead: --timeout ends it" {
    hint "--timeout SECS bounds the wait for the greeting: lines typed ahead wait for it, nothing is sent before it" "$S_WRONG"
    start_server echo-server -q 0
    silent_server_clients typed
    stop_server
}

@test "stage 10: kk-client: against a listener that accepts and stays silent, --timeout ends it" {
    hint "--timeout SECS bounds every wait for the server, also after the half-close: this listener neither speaks nor closes" "$S_WRONG"
    start_server python3 -c "$ODD_SERVER_PY" silent 0
    silent_server_clients closed
    stop_server
}

@test "stage 10: kk-client: --timeout ends the wait for a reply that never comes" {
    hint "--timeout SECS bounds the wait for each reply too, not only for the greeting" "$S_WRONG"
    start_server python3 -c "$ODD_SERVER_PY" greet 0
    run timeout "$(tmo 5)" kk-client --timeout 1 127.0.0.1 "$SERVER_PORT" < <(kk_transcript_input)
    client_says 1 "Server: Knock! Knock!
Client: Who's there?
kk-client: cannot read from 127.0.0.1 port $SERVER_PORT: no reply within 1 s"
    stop_server
}

@test "stage 10: kk-client: notices at once a server that hangs up while it waits for your line" {
    hint "while waiting for your line, watch the server too: poll() on stdin and the socket; a readable socket with nothing in it (recv() returns 0) is a server that hung up" "$S_WRONG"
    fake_server 0 # says "Knock! Knock!" and closes at once
    # stdin stays open and silent for 10 s: a client that only watched stdin would wait it out.
    run timeout "$(tmo 5)" kk-client 127.0.0.1 "$FAKE_PORT" < <(sleep 10 3>&-)
    client_says 1 "Server: Knock! Knock!
kk-client: cannot read from 127.0.0.1 port $FAKE_PORT: server closed the connection"
}

# busy_ms PID - how long PID has been running or ready to run, in ms: on a CPU, or waiting in
# the run queue for one (/proc/PID/schedstat), which a loaded machine does not shrink; where
# the kernel keeps no schedstat, its CPU time (/proc/PID/stat, in ticks of 10 ms).
busy_ms() {
    if [ -r "/proc/$1/schedstat" ]; then
        awk '{ printf "%d\n", ($1 + $2) / 1000000 }' "/proc/$1/schedstat"
    else
        awk '{ print ($14 + $15) * 10 }' "/proc/$1/stat"
    fi
}

@test "stage 10: kk-client: a server speaking out of turn is heard after your next line, without spinning" {
    local out=$BATS_TEST_TMPDIR/out pid client before after
    hint "bytes the server sent out of turn stay readable: a poll() still watching the socket returns at once, again and again (a busy loop); watch stdin alone until your line is sent" "$S_WRONG"
    start_server python3 -c "$ODD_SERVER_PY" out-of-turn 0
    # Your lines come 2 s after the greeting; "Hurry up!" arrives 0.3 s after it. A client
    # that kept watching the socket would be woken again and again: from 0.8 s to 1.8 s it
    # must be asleep, not running nor waiting for a CPU.
    timeout "$(tmo 10)" kk-client 127.0.0.1 "$SERVER_PORT" \
        < <(sleep 2 3>&-; printf "Who's there?\nx\n") >"$out" 2>&1 3>&- &
    pid=$!
    sleep 0.8
    client=$(pgrep -n -P "$pid") || fail "kk-client ended before its input came: $(cat "$out")"
    before=$(busy_ms "$client")
    sleep 1
    after=$(busy_ms "$client")
    wait_exit "$pid" 5 || true
    run cat "$out"
    kk_same_lines "Server: Knock! Knock!
Client: Who's there?
Server: Hurry up!
Client: x
Server: Bye."
    # valgrind alone costs more than that
    [ -n "$VALGRIND" ] || [ $((after - before)) -lt 250 ] ||
        fail "kk-client was running, or ready to run, for $((after - before)) ms of the second it only waited for your line: it spins"
    stop_server
}

@test "stage 10: kk-client: a server closing before Bye. is an error" {
    hint "the end of the stream before \"Bye.\" is a failure: one line, exit 1" "$S_WRONG"
    fake_server 1
    run timeout "$(tmo 5)" kk-client 127.0.0.1 "$FAKE_PORT" < <(kk_transcript_input)
    client_says 1 "Server: Knock! Knock!
Client: Who's there?
kk-client: cannot read from 127.0.0.1 port $FAKE_PORT: server closed the connection"
    wait_exit "$FAKE_PID" 5
}

# ---- stage 11: the usage contract --------------------------------------------------------------

@test "stage 11: kk-protocol: -h prints usage, extra arguments are bad usage" {
    hint "-h prints the usage line on stdout, exit 0; bad usage: what was wrong, then the usage line, on stderr, exit 2" "$S_WRONG"
    run kk-protocol -h
    assert_success
    assert_output 'usage: kk-protocol < CLIENT-LINES'
    assert_usage_errors kk-protocol 'usage: kk-protocol < CLIENT-LINES' <<'EOF'
extra	unexpected argument: extra
-x	unknown option: -x
EOF
}

@test "stage 11: kk-server: -h prints usage, bad usage exits 2" {
    hint "-h prints the usage line on stdout, exit 0; bad usage: what was wrong, then the usage line, on stderr, exit 2" "$S_WRONG"
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

@test "stage 11: kk-client: -h prints usage naming kk-client, bad usage exits 2" {
    hint "-h prints the usage line on stdout, exit 0; bad usage: what was wrong, then the usage line, on stderr, exit 2" "$S_WRONG"
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
