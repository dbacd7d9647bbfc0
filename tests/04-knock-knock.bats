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
kk-client: input ended before the server said Bye."
    stop_server
}

@test "kk-client: empty stdin: the greeting, then the error" {
    kk_start
    run timeout "$(tmo 5)" kk-client 127.0.0.1 "$SERVER_PORT" </dev/null
    assert_failure 1
    assert_output $'Server: Knock! Knock!\nkk-client: input ended before the server said Bye.'
    kk_assert_served
    stop_server
}

@test "kk-client: notices at once a server that hangs up while it waits for your line" {
    fake_server 0 # says "Knock! Knock!" and closes at once
    # stdin stays open and silent for 10 s: a client that only watched stdin would wait it out.
    run timeout "$(tmo 5)" kk-client 127.0.0.1 "$FAKE_PORT" < <(sleep 10 3>&-)
    assert_failure 1 # not 124: timeout did not have to end it
    assert_output $'Server: Knock! Knock!\nkk-client: server closed the connection'
}

@test "kk-client: a server closing before Bye. is an error" {
    fake_server 1
    run timeout "$(tmo 5)" kk-client 127.0.0.1 "$FAKE_PORT" < <(kk_transcript_input)
    assert_failure 1
    assert_output $'Server: Knock! Knock!\nClient: Who\'s there?\nkk-client: server closed the connection'
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
    assert_output 'usage: kk-client HOST PORT'
    assert_usage_errors kk-client 'usage: kk-client HOST PORT' <<'EOF'
-	missing HOST and PORT
localhost	missing PORT
localhost 0	port must be a number from 1 to 65535: 0
localhost 65536	port must be a number from 1 to 65535: 65536
localhost 1 2	unexpected argument: 2
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
