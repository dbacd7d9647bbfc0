#!/usr/bin/env bats
# tests/05-multi-client-fork.bats - lesson 05, first part: echo-fork-server, a process per
# client, in the stages the README teaches: it listens and echoes one client as lesson 03's
# server does (1), every byte back (2), a child per client, each side closing what is not its
# own (3), reaping (4), stopping the children (5), --max-clients (6), what can go wrong (7).
# The threaded servers' stages (8 to 14) are in tests/05-multi-client.bats (kk-multi-server)
# and tests/05-multi-client-echo.bats (echo-multi-server). The echo checks shared with lessons
# 03 and 06 live in lib/echo_server_tests.bash, lesson 05's own helpers in
# lib/multi_client.bash.

load test_helper
load lib/echo_server_tests
load lib/multi_client

# shellcheck disable=SC2034 # all read by lib/echo_server_tests.bash or test_helper.bash
{
    ECHO_SERVER=echo-fork-server
    ECHO_SERVER_ARGS=(-q)
    ECHO_S_ECHO=$M_S_FORK
    ECHO_S_CLOSE=$M_S_FORK
    ECHO_S_CLIENTS=$M_S_FORK
    ECHO_S_WRITE=$M_S_FORK
    ECHO_S_VANISH=$M_S_WRONG
    ECHO_S_STOP=$M_S_STOP_CHILDREN
    ECHO_S_LISTEN=$M_S_WRONG
    ECHO_S_ACCEPT=$M_S_WRONG
    STOP_HINT_SECTION=$M_S_STOP_CHILDREN
    STOP_HINT_IGNORED="SIGTERM must end the parent: it waits for clients only in sig_wait_fd() (through multi_accept), which returns on a stop; then it closes the listener, sends SIGTERM to each child and waits for each"
}

USAGE='usage: echo-fork-server [-b ADDR] [--max-clients N] [-q] PORT'

# ---- stage 1: it listens and echoes one client, as lesson 03's server does ----------------

@test "stage 1: echo-fork-server: prints \"listening on 127.0.0.1:PORT\" and listens there only" { echo_test_listens_on_loopback_only; }
@test "stage 1: echo-fork-server: echoes what nc -N sends, then closes" { echo_test_half_close_nc; }
@test "stage 1: echo-fork-server: echoes bytes without a newline at once" { echo_test_no_newline; }
@test "stage 1: echo-fork-server: a port in use is a one-line failure" { echo_test_port_in_use; }

@test "stage 1: echo-fork-server: -h prints usage, bad usage exits 2" {
    hint "the command line is multi.c's (multi_parse_args), as the starter gives it" "$M_S_RUN"
    run echo-fork-server -h
    assert_success
    assert_output "$USAGE"
    assert_usage_errors echo-fork-server "$USAGE" <<'EOF'
-	missing PORT
--once 0	unknown option: --once
--max-clients 0 0	--max-clients must be at least 1: 0
--max-clients x 0	--max-clients must be a number from 1 to 1000000: x
--max-clients	option --max-clients needs a value
65536	port must be a number from 0 to 65535: 65536
1 2	unexpected argument: 2
EOF
}

# ---- stage 2: every byte back ---------------------------------------------------------------

@test "stage 2: echo-fork-server: echoes many lines sent in one write" { echo_test_many_lines_one_write; }
@test "stage 2: echo-fork-server: echoes bytes sent one at a time, in order" { echo_test_bytes_one_at_a_time; }
@test "stage 2: echo-fork-server: CRLF, lone CR, NUL and all 256 byte values come back unchanged" { echo_test_transparency; }
@test "stage 2: echo-fork-server: after a half-close all pending echo arrives" { echo_test_half_close; }
@test "stage 2: echo-fork-server: round-trips 1 MiB of random bytes" { echo_test_binary_1mib; }
@test "stage 2: echo-fork-server: round-trips 50 MiB of random bytes (5 MiB under valgrind)" { echo_test_binary_50mib; }
@test "stage 2: echo-fork-server: a client that reads slowly gets every byte of 8 MiB back" { echo_test_slow_reader; }

# ---- stage 3: a process per client ----------------------------------------------------------

@test "stage 3: echo-fork-server: a client that never reads does not stop another being served" {
    hint "after accept(), fork(): the child serves the client while the parent goes back to accept() at once; a parent that serves the client itself serves one at a time" "$M_S_FORK"
    multi_test_never_reads_while_another_served
}

# The listener's inode, from the kernel's table of TCP sockets: a child holding that socket
# kept the listener; one holding another socket more kept a copy of an earlier client's.
@test "stage 3: echo-fork-server: a child per client, holding only its client's socket; the parent only its listener" {
    local child n listener
    local -a children
    hint "after fork() each process closes what is not its own: the child the listening socket, the parent the client's socket (the child has its own copy)" "$M_S_FORK"
    echo_start
    multi_hold_echo_clients 5
    mapfile -t children < <(multi_child_pids "$SERVER_PID")
    if [ "${#children[@]}" -ne 5 ]; then
        echo "with 5 clients connected the server has ${#children[@]} child processes, not 5: one per client"
        multi_release_clients
        return 1
    fi
    n=$(multi_socket_count "$SERVER_PID")
    if [ "$n" -ne 1 ]; then
        echo "with 5 clients connected the parent holds $n sockets, not 1 (its listener): it keeps" \
            "a copy of each client's socket after fork(), so no connection ends when its child" \
            "closes it, and a descriptor leaks per client"
        multi_release_clients
        return 1
    fi
    listener=$(awk -v port="$(printf ':%04X' "$SERVER_PORT")" \
        '$4 == "0A" && substr($2, length($2) - 4) == port { print $10 }' /proc/net/tcp)
    for child in "${children[@]}"; do
        n=$(multi_socket_count "$child")
        [ "$n" -ne 1 ] || continue
        if [ -n "$listener" ] && find "/proc/$child/fd" -lname "socket:\[$listener\]" | grep -q .; then
            echo "child $child holds $n sockets: its client's and the listening socket it inherited" \
                "(a child holding it keeps the port open after the server has stopped)"
        else
            echo "child $child holds $n sockets, not 1: its client's and $((n - 1)) more"
        fi
        multi_release_clients
        return 1
    done
    multi_release_clients
    stop_server
}

# ---- stage 4: reaping -----------------------------------------------------------------------

# 30 clients are echoed, then the server is stopped (SIGSTOP) while all 30 leave: their
# children end meanwhile, and signals do not queue, so the server gets one SIGCHLD for all 30
# once it goes on (SIGCONT). With no new client, every child must be reaped: a handler that
# reaps one child per signal leaves 29 zombies.
@test "stage 4: echo-fork-server: 30 children that end together are all reaped at once, no zombie stays" {
    local pid state n=0 zombies=0 left
    local -a children
    hint "a child that has ended stays a zombie until its parent waits for it: reap in a SIGCHLD handler, with waitpid(-1, NULL, WNOHANG) in a loop until it finds no more (one SIGCHLD may stand for many children)" "$M_S_REAP"
    echo_start
    multi_hold_echo_clients 30
    mapfile -t children < <(multi_child_pids "$SERVER_PID")
    kill -STOP "$SERVER_PID"
    multi_release_clients # all 30 leave, their children end: one SIGCHLD stays pending
    for pid in "${children[@]}"; do # each child ends, a zombie (Z) until reaped
        while state=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$pid/stat" 2>/dev/null) &&
            [ -n "$state" ] && [ "$state" != Z ]; do
            if [ $((n += 1)) -gt $((100 * KIT_SLOW)) ]; then
                kill -CONT "$SERVER_PID"
                fail "child $pid still runs 5 s after its client left"
            fi
            sleep 0.05
        done
    done
    kill -CONT "$SERVER_PID"
    n=0
    while left=$(multi_child_pids "$SERVER_PID" | wc -l) && [ "$left" -gt 0 ]; do
        if [ $((n += 1)) -gt $((40 * KIT_SLOW)) ]; then
            zombies=$(ps -o stat= --ppid "$SERVER_PID" | awk '/^Z/ { n++ } END { print n + 0 }')
            echo "$left of the 30 children that ended while the server was stopped are still there" \
                "$((2 * KIT_SLOW)) s after it went on ($zombies of them zombies: Z, <defunct>), and" \
                "no new client came"
            [ "$left" -lt 30 ] && echo "(some were reaped: one SIGCHLD, one waitpid()?)"
            return 1
        fi
        sleep 0.05
    done
    stop_server
}

# One client stays connected, and three more come one after another, each leaving before
# the next: the child of each ends while that first child still runs. A SIGCHLD handler that
# waits for a child still running (wait(), or waitpid() without WNOHANG) blocks the parent
# until the first client leaves, and the next client is never accepted meanwhile.
@test "stage 4: echo-fork-server: while one client stays, others come and go, each served at once" {
    local i
    hint "the SIGCHLD handler must never wait for a child still running: waitpid(-1, NULL, WNOHANG), which returns 0 when no other child has ended, not wait() or waitpid() without WNOHANG, which block the parent, and its accept(), until the next child ends" "$M_S_REAP"
    echo_start
    echo_hold_client $'stays\n'
    for i in 1 2 3; do
        if ! run echo_text_round_trip 127.0.0.1 "client $i, while the first one stays"$'\n' || [ "$status" -ne 0 ]; then
            echo "with one client connected, client $i of 3 (each coming after the one before it" \
                "had left) was not served:"
            printf '  %s\n' "${lines[@]:0:2}"
            echo_release_client || true
            return 1
        fi
    done
    echo_release_client
    stop_server
}

# accept-fail.so makes the first accept() fail with ECONNABORTED (a client that gave up in
# the backlog, which a server takes as nothing and accepts the next) and then sends the
# process a SIGCHLD, before accept() returns: as when a child ends right at that moment. The
# handler's last waitpid() fails with ECHILD (no child left). If the handler does not put
# errno back, the server reads ECHILD instead, and dies "accept: No child processes".
@test "stage 4: echo-fork-server: a SIGCHLD right after accept() failed leaves errno as it was" {
    [ -z "$KIT_VARIANT" ] || skip "a sanitizer's runtime must be loaded first: no LD_PRELOAD"
    [ "$(uname -s)" = Linux ] || skip "needs Linux: accept-fail.so is a shim for its LD_PRELOAD"
    local shim=$KIT_ROOT/build/tests/accept-fail.so shim_log=$BATS_TEST_TMPDIR/accept-fail.log
    [ -f "$shim" ] || fail "$shim is not built: run make at the top of the kit"
    hint "a signal handler runs between any two instructions, also between a failed call and the line that reads its errno: save errno on entry to the SIGCHLD handler and restore it before returning (its last waitpid() fails with ECHILD)" "$M_S_REAP"
    start_server env LD_PRELOAD="$shim" KIT_ACCEPT_FAIL=1:ECONNABORTED \
        KIT_ACCEPT_FAIL_SIGNAL=CHLD KIT_ACCEPT_FAIL_LOG="$shim_log" echo-fork-server -q 0
    timeout "$(tmo 5)" python3 -c '
import socket, sys
try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5) as s:
        s.recv(10)  # reset by the shim
except OSError:
    pass
' "$SERVER_PORT" 3>&-
    [ -s "$shim_log" ] || skip "accept-fail.so never ran: is echo-fork-server linked statically?"
    run echo_text_round_trip 127.0.0.1 $'after the failed accept\n'
    if ! echo_running; then
        echo_assert_running "when accept() failed with ECONNABORTED and a SIGCHLD came at once" || true
        echo "its stderr: $(head -n 1 "$SERVER_ERR")"
        if grep -q 'No child processes' "$SERVER_ERR"; then
            echo "(ECHILD is what the SIGCHLD handler's last waitpid() leaves in errno)"
        else
            hint "ECONNABORTED from accept() is a client that gave up before it was accepted: accept the next" "$M_S_WRONG"
        fi
        return 1
    fi
    assert_success
    stop_server
}

# ---- stage 5: stopping the children ---------------------------------------------------------

@test "stage 5: echo-fork-server: SIGTERM with a client connected exits 0" { echo_test_sigterm_with_client; }

@test "stage 5: echo-fork-server: SIGTERM with 20 clients: each child closes its client and says so, exit 0 within 2 s" {
    hint "on SIGTERM the parent closes the listener, sends SIGTERM to each child it has not reaped, and waits for each (waitpid) before it exits 0; each child, stopped in its wait, closes its client's socket, logs \"closed\" and exits" "$M_S_STOP_CHILDREN"
    multi_test_stop_closes_every_client "the parent must send each child SIGTERM and wait for each (waitpid) before it exits"
}

@test "stage 5: echo-fork-server: SIGTERM while a client streams and others keep connecting exits 0 within 1 s" {
    hint "SIGTERM must stop the parent at its next wait, even while connections keep coming: wait in sig_wait_fd() (through multi_accept), which lets the signal in before it polls" "$M_S_STOP_CHILDREN"
    multi_test_sigterm_while_busy
}

# ---- stage 6: --max-clients -------------------------------------------------------------

@test "stage 6: echo-fork-server: --max-clients 2 turns the third client away, then takes the next" {
    hint "count the children not yet reaped; with --max-clients of them, tell the next client \"Server busy, try again later.\" (multi_refuse) instead of forking; a reaped child frees its slot" "$M_S_CAP"
    multi_test_max_clients_echo
}

@test "stage 6: echo-fork-server: refused clients that sent a request read the busy line, then EOF" {
    hint "a refused client may have sent bytes already: closing with them unread sends a reset, which can destroy the busy line; half-close, read and drop what comes for a moment, then close (multi_refuse)" "$M_S_CAP"
    echo_test_refused_read_busy_line
}

# ---- stage 7: what can go wrong ---------------------------------------------------------------

@test "stage 7: echo-fork-server: a client that resets mid-stream does not stop the next" { echo_test_rst_then_next_client; }

# The client is gone before its echo comes: the child's send() fails with EPIPE, and
# SIGPIPE would kill that child, not the server: only the child's missing "closed" line
# shows it. The log is on here.
@test "stage 7: echo-fork-server: a child whose client is gone before its echo is not killed by SIGPIPE" {
    # shellcheck disable=SC2034 # read by echo_start
    local -a ECHO_SERVER_ARGS=() # the log on: the child must say "closed" as it ends
    echo_test_gone_before_echo
    hint "a send() to a client that has closed fails with EPIPE and raises SIGPIPE, which kills the child serving it before it can close and log: the child inherits the parent's SIG_IGN for SIGPIPE (sig_setup_stop), or sends with MSG_NOSIGNAL" "$ECHO_S_VANISH"
    multi_assert_all_logged_closed 2 "the child serving the client that was gone ended without its \"closed\" line: killed, by SIGPIPE?"
}

@test "stage 7: echo-fork-server: closes every client's socket, also of those that reset: no descriptor more after 100" { echo_test_closes_every_client; }
@test "stage 7: echo-fork-server: a client that never reads costs no CPU and is served once it leaves" { echo_test_never_reads_then_leaves; }
@test "stage 7: echo-fork-server: an accept() error of one client (EPROTO) is logged, the next are served" { echo_test_accept_error_skipped; }
@test "stage 7: echo-fork-server: -b ::1 serves IPv6 only" { echo_test_ipv6_bind; }
@test "stage 7: echo-fork-server: -b :: serves IPv4 and IPv6" { echo_test_dual_stack_bind; }
@test "stage 7: echo-fork-server: a restarted server binds the same port at once" { echo_test_restart_after_stop; }
