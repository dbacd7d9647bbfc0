#!/usr/bin/env bats
# tests/06-event-loop.bats - lesson 06, first step: echo-poll-server (one thread, poll()), in
# stages that follow the README: it starts and echoes (1), serves many clients at once (2),
# sends back every byte through its output buffers (3), holds a client that never reads
# (backpressure, 4), survives resets and stops on signals (5), its options (6), and what can
# go wrong (7). The epoll servers follow in 06-event-loop-epoll.bats (stages 8 to 14) and
# 06-event-loop-kk.bats (15 to 19). The checks shared with lessons 03 and 05 are in
# lib/echo_server_tests.bash, lesson 06's own in lib/event_loop_tests.bash; every test
# names the likely mistake (hint) and the README section that explains it.

load test_helper
load lib/echo_server_tests
load lib/event_loop_tests

# shellcheck disable=SC2034 # read by lib/echo_server_tests.bash and lib/event_loop_tests.bash
ECHO_SERVER=echo-poll-server
# shellcheck disable=SC2034
ECHO_SERVER_ARGS=(-q)

setup() {
    ev_setup echo-poll-server
}

teardown() {
    ev_teardown
}

# ---- stage 1: it starts, echoes, and stops ---------------------------------------------------

@test "stage 1: echo-poll-server: says \"listening on 127.0.0.1:PORT\" at once, exits 0 on SIGTERM and on SIGINT" { ev_test_starts; }
@test "stage 1: echo-poll-server: -h prints usage; bad usage says what was wrong, then usage, exit 2" { ev_test_usage echo-poll-server; }
@test "stage 1: echo-poll-server: six round trips on one connection, with pauses, then EOF" { ev_test_round_trips; }
@test "stage 1: echo-poll-server: answers nc -N with the exact bytes, then closes" {
    ev_hinted "after the client's EOF (read() returns 0), send what is left, then close" "$EV_S_POLL" echo_test_half_close_nc
}

# ---- stage 2: many clients at once, on one thread ------------------------------------------

@test "stage 2: echo-poll-server: serves a client while another is connected and silent" { ev_test_two_clients; }
@test "stage 2: echo-poll-server: 1,000 clients at once, 20 lines each" { ev_test_thousand_clients; }
@test "stage 2: echo-poll-server: 100 clients one after another, and no descriptor left open" { ev_test_hundred_clients; }
@test "stage 2: echo-poll-server: logs 'connection from' and 'closed' with the client's address" { ev_test_logs; }

# ---- stage 3: every byte back: partial writes and the output buffer --------------------------

@test "stage 3: echo-poll-server: 1 MiB through a client that reads slowly: every byte back, in order" { ev_test_slow_reader; }
@test "stage 3: echo-poll-server: echoes one write holding many lines" {
    ev_hinted "2,000 lines in one write (48 KiB): a read brings many lines at once, and the echo may go out in pieces: keep what send() did not take" "$EV_S_POLL" echo_test_many_lines_one_write
}
@test "stage 3: echo-poll-server: echoes bytes sent one at a time" {
    ev_hinted "bytes sent one per write come back as they come, in order, without waiting for a newline" "$EV_S_POLL" echo_test_bytes_one_at_a_time
}
@test "stage 3: echo-poll-server: returns CRLF, lone CR, NUL and all 256 byte values unchanged" {
    ev_hinted "echo bytes, not strings: keep read()'s count, never strlen() or printf(\"%s\"), and a NUL or a CR is a byte like any other" "$EV_S_POLL" echo_test_transparency
}
@test "stage 3: echo-poll-server: round-trips random binary, 50 MiB (5 under valgrind), sha256" {
    ev_hinted "50 MiB sent while reading: every byte back, in order; what send() did not take waits in the output buffer, and is sent first when POLLOUT comes" "$EV_S_WRONG" echo_test_binary_50mib
}
@test "stage 3: echo-poll-server: sends everything pending after a half-close, then closes" {
    ev_hinted "at the client's EOF some echo may still wait in the output buffer: send it all, then close" "$EV_S_POLL" echo_test_half_close
}
@test "stage 3: echo-poll-server: 1,000 concurrent connections each echo 64 KiB, every byte checked" { ev_test_thousand_64k; }

# ---- stage 4: backpressure ---------------------------------------------------------------------

@test "stage 4: echo-poll-server: holds a client sending 100 MiB without reading to its buffer bound" { ev_test_hog; }
@test "stage 4: echo-poll-server: a client that never reads costs no CPU, and others are served" { ev_test_never_reads; }

# ---- stage 5: resets, SIGPIPE and stopping -----------------------------------------------------

@test "stage 5: echo-poll-server: a reset mid-stream is logged with its reason, and the next client served" {
    ev_hinted "a reset is one client's end: ECONNRESET (or EPIPE) from read() or send() closes that connection, logged as \"closed ADDR:PORT: reason\"; the server goes on" "$EV_S_WRONG" echo_test_rst_logged
}
@test "stage 5: echo-poll-server: survives a client that resets before its echo is sent (SIGPIPE)" { ev_test_sigpipe; }
@test "stage 5: echo-poll-server: exits 0 within 2 s on SIGTERM with 1,000 connections open" { ev_test_sigterm_thousand; }

# ---- stage 6: the options ------------------------------------------------------------------------

@test "stage 6: echo-poll-server: --idle-timeout closes a silent client, also when nothing else happens" { ev_test_idle_timeout; }
@test "stage 6: echo-poll-server: --max-clients 2 turns the third client away at once" { ev_test_max_clients; }
@test "stage 6: echo-poll-server: clients refused by --max-clients after sending read the busy line, then EOF" {
    ev_hinted "a refused client may have sent something already: after the busy line, half-close (shutdown SHUT_WR) and drop what it sends until it closes (1 s at most); close() with its bytes unread sends a reset, which can destroy the line" "$EV_S_RUN" echo_test_refused_read_busy_line
}
@test "stage 6: echo-poll-server: --once exits 0 after its first client leaves" {
    ev_hinted "--once: stop accepting after the first client, and leave the loop (exit 0) once it has gone" "$EV_S_RUN" echo_test_once
}

# ---- stage 7: what can go wrong ------------------------------------------------------------------

@test "stage 7: echo-poll-server: out of descriptors, keeps serving and says so once" {
    ev_hinted "accept() failing with EMFILE leaves the client in the backlog, and poll() reports the listener again at once: say so once, stop polling the listener until a client closes (or a second passes)" "$EV_S_WRONG" echo_test_out_of_descriptors_serves_others
}
@test "stage 7: echo-poll-server: skips a client whose accept() fails (EPROTO) and serves the next at once" {
    ev_hinted "an accept() error that concerns one client (EPROTO, ECONNABORTED...): say so in one line, and accept the next at once" "$EV_S_WRONG" echo_test_accept_error_skipped
}
@test "stage 7: echo-poll-server: reports a port in use and exits 1; binds again at once after a stop (SO_REUSEADDR)" {
    ev_hinted "a port in use: one line \"PROG: cannot listen on 127.0.0.1 port N: Address already in use\", exit 1; SO_REUSEADDR before bind() (net_listen() sets it): a restarted server binds at once, old connections in TIME_WAIT or not" "$EV_S_WRONG" \
        echo_test_port_in_use
    echo_test_restart_after_stop
}
@test "stage 7: echo-poll-server: -b ::1 serves IPv6 only; -b :: serves both 127.0.0.1 and ::1" {
    ev_hinted "-b ADDR: listen on that address, IPv6 too, shown in brackets in the listening line; -b :: is dual-stack: IPV6_V6ONLY off, so IPv4 clients come too (net_listen() does both)" "$EV_S_RUN" \
        echo_test_ipv6_bind
    echo_test_dual_stack_bind
}
