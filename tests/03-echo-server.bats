#!/usr/bin/env bats
# tests/03-echo-server.bats - lesson 03: the iterative echo server, against peers we did not
# write (socat, nc, the raw python peers in tests/peers/). The checks every echo server must
# pass live in tests/lib/echo_server_tests.bash; lessons 05 and 06 run them too.

# shellcheck disable=SC2034 # both read by lib/echo_server_tests.bash
ECHO_SERVER=echo-server
ECHO_SERVER_ARGS=(-q)

load test_helper
load lib/echo_server_tests

# ---- the shared echo-server checks ------------------------------------------------------

@test "echo-server: echoes bytes that end without a newline at once" { echo_test_no_newline; }
@test "echo-server: echoes one write holding many lines" { echo_test_many_lines_one_write; }
@test "echo-server: echoes bytes sent one at a time" { echo_test_bytes_one_at_a_time; }
@test "echo-server: round-trips 1 MiB of random binary (sha256)" { echo_test_binary_1mib; }
@test "echo-server: round-trips 50 MiB of random binary (sha256)" { echo_test_binary_50mib; }
@test "echo-server: returns CRLF, lone CR, NUL and all 256 byte values unchanged" { echo_test_transparency; }
@test "echo-server: sends everything pending after a half-close, then closes" { echo_test_half_close; }
@test "echo-server: answers nc -N with the exact bytes, then closes" { echo_test_half_close_nc; }
@test "echo-server: survives a reset mid-stream and serves the next client" { echo_test_rst_then_next_client; }
@test "echo-server: blocks without CPU on a client that never reads, then serves the next" { echo_test_never_reads_then_leaves; }
@test "echo-server: serves 100 clients one after another" { echo_test_sequential_100_clients; }
@test "echo-server: -b ::1 serves IPv6 only" { echo_test_ipv6_bind; }
@test "echo-server: -b :: serves both 127.0.0.1 and ::1" { echo_test_dual_stack_bind; }
@test "echo-server: reports a port in use and exits 1" { echo_test_port_in_use; }
@test "echo-server: binds again at once after a stop (SO_REUSEADDR)" { echo_test_restart_after_stop; }
@test "echo-server: exits 0 on SIGTERM while a client is connected" { echo_test_sigterm_with_client; }
@test "echo-server: an accept() error of one client (EPROTO) is logged, the next are served" { echo_test_accept_error_skipped; }
@test "echo-server: serves a second client after the first leaves" { echo_test_second_client_queued; }
@test "echo-server: --once exits 0 after its first client leaves" { echo_test_once; }
@test "echo-server: out of descriptors, waits and says so once instead of exiting" { echo_test_out_of_descriptors_waits; }

# ---- echo-server's own contract ---------------------------------------------------------

USAGE="usage: echo-server [-b ADDR] [--once] [-q] PORT"

@test "echo-server: -h prints usage on stdout and exits 0" {
    run echo-server -h
    assert_success
    assert_line --index 0 "$USAGE"
    run echo-server --help
    assert_success
    assert_line --index 0 "$USAGE"
}

@test "echo-server: bad usage says what was wrong, prints the usage line and exits 2" {
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

@test "echo-server: prints exactly one 'listening on' line on stdout" {
    start_server echo-server 0
    assert_equal "$SERVER_ENDPOINT" "127.0.0.1:$SERVER_PORT"
    stop_server
    assert_equal "$(cat "$SERVER_OUT")" "listening on 127.0.0.1:$SERVER_PORT"
}

@test "echo-server: logs 'connection from' and 'closed' with the client's address" {
    local port
    start_server echo-server 0
    port=$(free_port)
    run timeout "$(tmo 5)" socat -t "$(tmo 5)" - "TCP:127.0.0.1:$SERVER_PORT,sourceport=$port,reuseaddr" <<<"logged"
    assert_success
    assert_output "logged"
    stop_server
    assert_equal "$(cat "$SERVER_ERR")" "connection from 127.0.0.1:$port
closed 127.0.0.1:$port"
}

@test "echo-server: -q logs nothing" {
    start_server echo-server -q 0
    run timeout "$(tmo 5)" nc -N 127.0.0.1 "$SERVER_PORT" <<<"quiet"
    assert_output "quiet"
    stop_server
    assert_equal "$(cat "$SERVER_ERR")" ""
}

@test "echo-server: logs one line for a client that resets mid-stream" { echo_test_rst_logged; }

@test "echo-server: exits 0 on SIGINT while blocked in accept" {
    local status=0
    start_server echo-server -q 0
    kill -INT "$SERVER_PID"
    wait_exit "$SERVER_PID" 5 || status=$?
    assert_equal "$status" 0
}

@test "echo-server: exits 0 on SIGTERM while blocked writing to a client that never reads" {
    local fifo=$BATS_TEST_TMPDIR/noread.fifo out=$BATS_TEST_TMPDIR/noread.out pid
    start_server echo-server -q 0
    mkfifo "$fifo"
    timeout "$(tmo 30)" python3 "$ECHO_PEERS/noread.py" 127.0.0.1 "$SERVER_PORT" <"$fifo" >"$out" 3>&- &
    pid=$!
    exec 5>"$fifo"
    echo_wait_output "$out" '^blocked after [1-9][0-9]* bytes$'
    stop_server
    exec 5>&-
    wait_exit "$pid" 10
}

@test "echo-server: reports an address it cannot bind" {
    run timeout "$(tmo 5)" echo-server -b 192.0.2.1 0
    assert_failure 1
    assert_output "echo-server: cannot listen on 192.0.2.1 port 0: Cannot assign requested address"
}

@test "echo-server: reports a bind name that does not resolve" {
    local reason
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
