#!/usr/bin/env bats
# tests/03-echo-server.bats - lesson 03: the iterative echo server, in stages that follow the
# README and the starter's TODOs: it listens (1), echoes one client (2), bytes and not lines
# (3), one client after another (4), stops cleanly (5), its addresses (6), every byte however
# the client reads (7), clients that vanish (8), accept errors (9), its command line (10).
# The peers are programs we did not write (socat, nc) and the raw python peers of
# tests/peers/. The checks every echo server must pass live in
# tests/lib/echo_server_tests.bash; lessons 05 and 06 run them too.

# shellcheck disable=SC2034 # all read by lib/echo_server_tests.bash or test_helper.bash
ECHO_SERVER=echo-server
ECHO_SERVER_ARGS=(-q)

# The README's sections, for the hints.
S_JAVA='The Java original beside the C'
S_BACKLOG='The backlog, and why the Java server reset the second client'
S_RUN='Build and run'
S_LISTEN="\`net_listen\`: from \"127.0.0.1\" and \"5000\" to a listening socket"
S_LISTEN_ON="\`listen_on\`: one address"
S_ACCEPT="\`net_accept\`: the next client"
S_STOP='Stopping cleanly, and the race a flag alone leaves open'
S_WHO='Who can reach my server?'
S_WRONG='What can go wrong'
S_TRACE="\`make trace\`"

# shellcheck disable=SC2034 # read by lib/echo_server_tests.bash and test_helper.bash
{
    ECHO_S_ECHO=$S_JAVA
    ECHO_S_CLOSE=$S_TRACE
    ECHO_S_CLIENTS=$S_BACKLOG
    ECHO_S_WRITE=$S_WRONG
    ECHO_S_VANISH=$S_WRONG
    ECHO_S_STOP=$S_STOP
    ECHO_S_LISTEN=$S_LISTEN_ON
    ECHO_S_ACCEPT=$S_ACCEPT
    STOP_HINT_SECTION=$S_STOP
    STOP_HINT_IGNORED="SIGTERM must end the server: sig_setup_stop() lets SIGINT and SIGTERM in only inside sig_wait_fd(), so every wait (for a client, for bytes, for room to send) must go through it, never a blocking accept(), read() or send()"
}

load test_helper
load lib/echo_server_tests

USAGE="usage: echo-server [-b ADDR] [--once] [-q] PORT"

# ---- stage 1: it listens ----------------------------------------------------------------

@test "stage 1: echo-server: prints one line, \"listening on 127.0.0.1:PORT\", at once" {
    if ! start_server echo-server 0; then
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            hint "once the socket listens, print \"listening on ADDR:PORT\" (getsockname() tells the port) and fflush(stdout): stdout to a file is flushed only when its buffer is full" "$S_RUN"
        else
            hint "first the listening socket: getaddrinfo() for the address of -b (127.0.0.1 by default) and the port, then socket(), bind() and listen(); then the \"listening on\" line" "$S_LISTEN"
        fi
        false
    fi
    if [ "$SERVER_ENDPOINT" != "127.0.0.1:$SERVER_PORT" ]; then
        hint "without -b, listen on 127.0.0.1 only, and say so: \"listening on 127.0.0.1:PORT\"" "$S_WHO"
        echo "the server says \"listening on $SERVER_ENDPOINT\"; without -b it must listen on 127.0.0.1"
        false
    fi
    stop_server
    run cat "$SERVER_OUT"
    if [ "$output" != "listening on 127.0.0.1:$SERVER_PORT" ]; then
        echo "stdout holds more than the one line \"listening on 127.0.0.1:$SERVER_PORT\":"
        head -n 5 "$SERVER_OUT" | sed 's/^/  /'
        false
    fi
}

@test "stage 1: echo-server: listens on 127.0.0.1 only, not on every interface" { echo_test_listens_on_loopback_only; }

# ---- stage 2: one client ----------------------------------------------------------------

@test "stage 2: echo-server: echoes what nc -N sends, then closes" { echo_test_half_close_nc; }
@test "stage 2: echo-server: echoes bytes that end without a newline at once" { echo_test_no_newline; }

@test "stage 2: echo-server: logs 'connection from' and 'closed' with the client's address" {
    local port expected
    hint "log \"connection from ADDR:PORT\" on stderr with the address accept() gave, and \"closed ADDR:PORT\" once the client's socket is closed" "$S_RUN"
    start_server echo-server 0
    port=$(free_port)
    run timeout "$(tmo 5)" socat -t "$(tmo 5)" - "TCP:127.0.0.1:$SERVER_PORT,sourceport=$port,reuseaddr" <<<"logged"
    if [ "$status" -eq 124 ]; then
        echo "socat got \"$output\" back, then waited $(tmo 5) s for the server to close the connection"
        false
    fi
    if [ "$output" != logged ]; then
        echo "socat sent \"logged\" and got \"$output\" back (exit status $status)"
        false
    fi
    stop_server
    expected="connection from 127.0.0.1:$port
closed 127.0.0.1:$port"
    if [ "$(cat "$SERVER_ERR")" != "$expected" ]; then
        echo "the log on stderr, for one client from 127.0.0.1:$port:"
        echo "expected:"
        printf '  %s\n' "connection from 127.0.0.1:$port" "closed 127.0.0.1:$port"
        echo "got:"
        head -n 5 "$SERVER_ERR" | sed 's/^/  /'
        false
    fi
}

@test "stage 2: echo-server: -q logs nothing" {
    hint "-q: no connection log at all on stderr" "$S_RUN"
    start_server echo-server -q 0
    run timeout "$(tmo 5)" nc -N 127.0.0.1 "$SERVER_PORT" <<<"quiet"
    if [ "$output" != quiet ]; then
        echo "nc -N sent \"quiet\" and got \"$output\" back (exit status $status)"
        false
    fi
    stop_server
    if [ -s "$SERVER_ERR" ]; then
        echo "with -q, stderr holds:"
        head -n 5 "$SERVER_ERR" | sed 's/^/  /'
        false
    fi
}

# ---- stage 3: bytes, not lines ----------------------------------------------------------

@test "stage 3: echo-server: echoes one write holding many lines" { echo_test_many_lines_one_write; }
@test "stage 3: echo-server: echoes bytes sent one at a time" { echo_test_bytes_one_at_a_time; }
@test "stage 3: echo-server: returns CRLF, lone CR, NUL and all 256 byte values unchanged" { echo_test_transparency; }
@test "stage 3: echo-server: sends everything pending after a half-close, then closes" { echo_test_half_close; }

# ---- stage 4: one client after another --------------------------------------------------

@test "stage 4: echo-server: serves a second client after the first leaves" { echo_test_second_client_queued; }
@test "stage 4: echo-server: serves 100 clients one after another, keeping no descriptor" { echo_test_sequential_100_clients; }
@test "stage 4: echo-server: --once exits 0 after its first client leaves" { echo_test_once; }

# ---- stage 5: stopping cleanly -------------------------------------------------------------

@test "stage 5: echo-server: exits 0 on SIGINT while waiting for a client" {
    local status=0
    hint "SIGINT (Ctrl-C) must end the server with exit 0 too, as SIGTERM does" "$S_STOP"
    start_server echo-server -q 0
    kill -INT "$SERVER_PID"
    wait_exit "$SERVER_PID" 5 || status=$?
    if [ "$status" -ne 0 ]; then
        echo "after SIGINT the server $([ "$status" -eq 124 ] && echo "still ran $(tmo 5) s later" ||
            kit_describe_exit "$status") (exit 0 expected)"
        false
    fi
}

@test "stage 5: echo-server: exits 0 on SIGTERM while a client is connected" { echo_test_sigterm_with_client; }

# ---- stage 6: addresses -----------------------------------------------------------------

@test "stage 6: echo-server: -b ::1 serves IPv6 only" { echo_test_ipv6_bind; }
@test "stage 6: echo-server: -b :: serves both 127.0.0.1 and ::1" { echo_test_dual_stack_bind; }
@test "stage 6: echo-server: binds again at once after a stop (SO_REUSEADDR)" { echo_test_restart_after_stop; }
@test "stage 6: echo-server: reports a port in use and exits 1" { echo_test_port_in_use; }

@test "stage 6: echo-server: reports an address it cannot bind" {
    hint "when bind() fails, end with one line, \"echo-server: cannot listen on ADDR port PORT: \" and strerror(errno), and exit status 1" "$S_LISTEN_ON"
    run timeout "$(tmo 5)" echo-server -b 192.0.2.1 0
    assert_failure 1
    assert_output "echo-server: cannot listen on 192.0.2.1 port 0: Cannot assign requested address"
}

@test "stage 6: echo-server: reports a bind name that does not resolve" {
    local reason
    hint "when getaddrinfo() fails, say why with gai_strerror() (not strerror): \"echo-server: cannot listen on NAME port PORT: reason\", exit status 1" "$S_LISTEN"
    reason=$(python3 -c 'import socket
try:
    socket.getaddrinfo("no-such-host.invalid", 0, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
except socket.gaierror as e:
    print(e.strerror)')
    assert [ -n "$reason" ]
    run timeout "$(tmo 10)" echo-server -b no-such-host.invalid 0
    assert_failure 1
    assert_output "echo-server: cannot listen on no-such-host.invalid port 0: $reason"
}

# ---- stage 7: every byte, however the client reads ----------------------------------------

@test "stage 7: echo-server: a client that reads slowly gets every byte of 8 MiB back" { echo_test_slow_reader; }
@test "stage 7: echo-server: round-trips 1 MiB of random binary" { echo_test_binary_1mib; }
@test "stage 7: echo-server: round-trips 50 MiB of random binary" { echo_test_binary_50mib; }
@test "stage 7: echo-server: blocks without CPU on a client that never reads, then serves the next" { echo_test_never_reads_then_leaves; }

@test "stage 7: echo-server: exits 0 on SIGTERM while blocked writing to a client that never reads" {
    hint "SIGTERM must stop the server also while it waits to send to a client that never reads: wait for POLLOUT in a stop-aware poll (sig_wait_fd), not in a blocking send() that SIGTERM cannot interrupt" "$S_STOP"
    start_server echo-server -q 0
    echo_noread_start
    if ! stop_server; then
        hint "SIGTERM must stop the server also while it waits to send to a client that never reads: wait for POLLOUT in a stop-aware poll (sig_wait_fd), not in a blocking send() that SIGTERM cannot interrupt" "$S_STOP"
        echo_noread_release
        false
    fi
    echo_noread_release
}

# ---- stage 8: clients that vanish ---------------------------------------------------------

@test "stage 8: echo-server: survives a reset mid-stream and serves the next client" { echo_test_rst_then_next_client; }
@test "stage 8: echo-server: survives a client gone before its echo (no death by SIGPIPE)" { echo_test_gone_before_echo; }
@test "stage 8: echo-server: logs one line for a client that resets mid-stream" { echo_test_rst_logged; }
@test "stage 8: echo-server: closes the socket of every client, also of those that reset" { echo_test_closes_every_client; }

# ---- stage 9: accept errors ---------------------------------------------------------------

@test "stage 9: echo-server: an accept() error of one client (EPROTO) is logged, the next are served" { echo_test_accept_error_skipped; }
@test "stage 9: echo-server: out of descriptors, waits and says so once instead of exiting" { echo_test_out_of_descriptors_waits; }

# ---- stage 10: the command line -------------------------------------------------------------

@test "stage 10: echo-server: -h prints usage on stdout and exits 0" {
    hint "-h and --help print the usage line on stdout and exit 0" "$S_RUN"
    run echo-server -h
    assert_success
    assert_line --index 0 "$USAGE"
    run echo-server --help
    assert_success
    assert_line --index 0 "$USAGE"
}

@test "stage 10: echo-server: bad usage says what was wrong, prints the usage line and exits 2" {
    hint "a bad command line: one line saying what was wrong, then the usage line, both on stderr, exit status 2" "$S_RUN"
    assert_usage_errors echo-server "$USAGE" <<'EOF'
-	missing PORT
1 2	unexpected argument: 2
x	port must be a number from 0 to 65535: x
65536	port must be a number from 0 to 65535: 65536
99999	port must be a number from 0 to 65535: 99999
-1	unknown option: -1
-x 0	unknown option: -x
--bogus 0	unknown option: --bogus
-b	option -b needs a value
--once=yes 0	option --once takes no value: --once=yes
EOF
}
