#!/usr/bin/env bats
# tests/01-what-is-a-socket.bats - lesson 01: endpoints, lookup, connect-info.
#
# The endpoints table has five space-separated columns: role k fd local remote
# (role listening|client|accepted; k and remote are "-" for the listener).

# shellcheck disable=SC2030,SC2031 # each @test runs in a subshell: $output, $status are per test
load test_helper

# Resolver texts for a name that does not exist: glibc says the first; a resolver with no
# network at all may say one of the others.
UNKNOWN_HOST_REASON='(Name or service not known|No address associated with hostname|Temporary failure in name resolution)'

# ---- helpers ------------------------------------------------------------------------------

# column ROLE K N - field N (3 fd, 4 local, 5 remote) of row ROLE K of the table in $output
# (table rows have five fields; the two message lines after the table have more).
column() {
    awk -v role="$1" -v k="$2" -v n="$3" 'NF == 5 && $1 == role && $2 == k { print $n }' <<<"$output"
}

# port_of ENDPOINT - the port of "127.0.0.1:5000" or "[::1]:5000".
port_of() {
    echo "${1##*:}"
}

# start_socat ADDRESS... - start socat as a one-connection server that sends nothing, on port
# 0 (bind given in ADDRESS, e.g. TCP-LISTEN:0,bind=127.0.0.1); wait for its "listening on"
# log line and set SOCAT_PID, SOCAT_PORT, SOCAT_LOG.
start_socat() {
    local n=0
    SOCAT_LOG=$BATS_TEST_TMPDIR/socat.log
    socat -d -d "$1,reuseaddr" - </dev/null >/dev/null 2>"$SOCAT_LOG" 3>&- &
    SOCAT_PID=$!
    KIT_SERVER_PIDS+=("$SOCAT_PID")
    until SOCAT_PORT=$(sed -n 's/.* listening on .*:\([0-9][0-9]*\)$/\1/p' "$SOCAT_LOG") &&
        [ -n "$SOCAT_PORT" ]; do
        if ! kill -0 "$SOCAT_PID" 2>/dev/null || [ $((n += 1)) -gt $((100 * KIT_SLOW)) ]; then
            sed 's/^/# socat: /' "$SOCAT_LOG" >&3
            return 1
        fi
        sleep 0.05
    done
}

# wait_for_log FILE REGEX - wait (5 s, scaled) until a line of FILE matches REGEX.
wait_for_log() {
    local n=0
    until grep -qE "$2" "$1"; do
        if [ $((n += 1)) -gt $((100 * KIT_SLOW)) ]; then
            echo "# no line matching '$2' in $1:" >&3
            sed 's/^/#   /' "$1" >&3
            return 1
        fi
        sleep 0.05
    done
}

# socat_peer_port - the client port socat logged for the connection it accepted.
socat_peer_port() {
    sed -n 's/.* accepting connection from .*:\([0-9][0-9]*\) on .*/\1/p' "$SOCAT_LOG"
}

# ---- endpoints: the table ---------------------------------------------------------------------

@test "endpoints: prints a header, the listener, and a client and an accepted row per connection" {
    run --separate-stderr timeout "$(tmo 5)" endpoints
    assert_success
    [ -z "$stderr" ]
    assert_line --index 0 --regexp '^role +k +fd +local +remote$'
    assert_line --index 1 --regexp '^listening +- +[0-9]+ +127\.0\.0\.1:[0-9]+ +-$'
    assert_line --index 2 --regexp '^client +1 +[0-9]+ +127\.0\.0\.1:[0-9]+ +127\.0\.0\.1:[0-9]+$'
    assert_line --index 3 --regexp '^accepted +1 +[0-9]+ +127\.0\.0\.1:[0-9]+ +127\.0\.0\.1:[0-9]+$'
    assert_line --index 4 --regexp '^client +2 '
    assert_line --index 5 --regexp '^accepted +2 '
    [ "$(grep -cE '^(listening|client|accepted) +[-0-9]+ +[0-9]+ ' <<<"$output")" -eq 5 ]
}

@test "endpoints: every accepted socket's local port is the listening port" {
    local port k
    run --separate-stderr timeout "$(tmo 5)" endpoints 5
    assert_success
    port=$(port_of "$(column listening - 4)")
    [ -n "$port" ] && [ "$port" -gt 0 ]
    for k in 1 2 3 4 5; do
        [ "$(column accepted "$k" 4)" = "127.0.0.1:$port" ]
    done
}

@test "endpoints: accepted k's remote end is client k's local end, and the reverse" {
    local k
    run --separate-stderr timeout "$(tmo 5)" endpoints 5
    assert_success
    for k in 1 2 3 4 5; do
        [ -n "$(column client "$k" 4)" ]
        [ "$(column accepted "$k" 5)" = "$(column client "$k" 4)" ]
        [ "$(column client "$k" 5)" = "$(column accepted "$k" 4)" ]
    done
}

@test "endpoints: the client ports are not the listening port, and all differ" {
    local port k ports=()
    run --separate-stderr timeout "$(tmo 5)" endpoints 10
    assert_success
    port=$(port_of "$(column listening - 4)")
    for k in $(seq 10); do
        ports+=("$(port_of "$(column client "$k" 4)")")
        [ "${ports[-1]}" != "$port" ]
    done
    [ "$(printf '%s\n' "${ports[@]}" | sort -u | wc -l)" -eq 10 ]
}

@test "endpoints: all N connections share the server port, yet their four-tuples differ" {
    local k tuples=()
    run --separate-stderr timeout "$(tmo 10)" endpoints 20
    assert_success
    for k in $(seq 20); do
        tuples+=("$(column accepted "$k" 4) $(column accepted "$k" 5)")
    done
    [ "$(printf '%s\n' "${tuples[@]}" | sort -u | wc -l)" -eq 20 ]
    [ "$(printf '%s\n' "${tuples[@]}" | cut -d' ' -f1 | sort -u | wc -l)" -eq 1 ]
}

@test "endpoints: every socket has its own descriptor" {
    run --separate-stderr timeout "$(tmo 5)" endpoints 3
    assert_success
    [ "$(awk 'NR > 1 && NF == 5 { print $3 }' <<<"$output" | sort -u | wc -l)" -eq 7 ]
}

@test "endpoints: one line crosses connection 1 each way, naming both endpoints" {
    local client server
    run --separate-stderr timeout "$(tmo 5)" endpoints
    assert_success
    client=$(column client 1 4)
    server=$(column accepted 1 4)
    assert_line "client 1 -> accepted 1: hello from $client"
    assert_line "accepted 1 -> client 1: hello $client, this is $server"
}

@test "endpoints: opens 100 connections, the most it allows" {
    run --separate-stderr timeout "$(tmo 10)" endpoints 100
    assert_success
    [ "$(grep -cE '^accepted +[0-9]+ +[0-9]+ ' <<<"$output")" -eq 100 ]
    assert_line --regexp '^accepted +100 '
}

@test "endpoints: -h prints usage and exits 0" {
    run --separate-stderr endpoints -h
    assert_success
    assert_line --index 0 'usage: endpoints [N]'
    [ -z "$stderr" ]
}

@test "endpoints: N outside 1..100, not a number, or two arguments: what was wrong, then usage" {
    assert_usage_errors endpoints 'usage: endpoints [N]' <<'EOF'
0	N must be at least 1: 0
101	N must be at most 100: 101
x	N must be a number from 1 to 100: x
1x	N must be a number from 1 to 100: 1x
-1	unknown option: -1
2 2	unexpected argument: 2
--bogus	unknown option: --bogus
EOF
}

# ---- lookup --------------------------------------------------------------------------------------

@test "lookup: localhost gives 127.0.0.1, and ::1 exactly when the system maps it" {
    run --separate-stderr timeout "$(tmo 5)" lookup localhost 7
    assert_success
    assert_line 'IPv4 127.0.0.1 port 7'
    if has_ipv6_localhost; then
        assert_line 'IPv6 ::1 port 7'
    else
        refute_line 'IPv6 ::1 port 7'
    fi
    # and nothing but addresses: every line is "FAMILY ADDRESS port 7"
    [ "$(grep -cvE '^IPv[46] [0-9a-f:.]+ port 7$' <<<"$output")" -eq 0 ]
}

@test "lookup: with stock Debian's /etc/hosts, localhost is ::1 first, then 127.0.0.1" {
    need_ipv6_localhost
    run --separate-stderr as_ipv6_localhost timeout "$(tmo 5)" lookup localhost 7
    assert_success
    assert_output $'IPv6 ::1 port 7\nIPv4 127.0.0.1 port 7'
}

@test "lookup: a numeric IPv4 address is itself, once" {
    run --separate-stderr timeout "$(tmo 5)" lookup 127.0.0.1 80
    assert_success
    assert_output 'IPv4 127.0.0.1 port 80'
}

@test "lookup: a numeric IPv6 address is itself, in its short form" {
    run --separate-stderr timeout "$(tmo 5)" lookup ::1 80
    assert_success
    assert_output 'IPv6 ::1 port 80'
    run --separate-stderr timeout "$(tmo 5)" lookup 0:0:0:0:0:0:0:1 443
    assert_success
    assert_output 'IPv6 ::1 port 443'
}

@test "lookup: without a service the port is 0; a service name becomes its number" {
    run --separate-stderr timeout "$(tmo 5)" lookup 127.0.0.1
    assert_success
    assert_output 'IPv4 127.0.0.1 port 0'
    grep -qE '^http[[:space:]]+80/tcp' /etc/services 2>/dev/null || skip "/etc/services has no http"
    run --separate-stderr timeout "$(tmo 5)" lookup 127.0.0.1 http
    assert_success
    assert_output 'IPv4 127.0.0.1 port 80'
}

@test "lookup: an unknown name fails with the resolver's reason, exit 1" {
    run --separate-stderr timeout "$(tmo 20)" lookup nosuch.invalid
    [ "$status" -eq 1 ]
    assert_output ''
    [[ $stderr =~ ^lookup:\ cannot\ resolve\ nosuch\.invalid:\ $UNKNOWN_HOST_REASON$ ]]
}

@test "lookup: -h exits 0; a missing HOST, a third argument or -4 with -6 exit 2" {
    run --separate-stderr lookup -h
    assert_success
    assert_line --index 0 'usage: lookup [-4 | -6] HOST [SERVICE]'
    assert_usage_errors lookup 'usage: lookup [-4 | -6] HOST [SERVICE]' <<'EOF'
-	missing HOST
a b c	unexpected argument: c
-x localhost	unknown option: -x
-4 -6 localhost	-4 and -6 exclude each other: give one, or neither
EOF
}

@test "lookup: -4 and -6 ask for one address family only" {
    run --separate-stderr timeout "$(tmo 5)" lookup -4 localhost 7
    assert_success
    assert_output 'IPv4 127.0.0.1 port 7'
    run --separate-stderr timeout "$(tmo 5)" lookup -6 ::1 7
    assert_success
    assert_output 'IPv6 ::1 port 7'
    run --separate-stderr timeout "$(tmo 5)" lookup -6 127.0.0.1 7
    assert_failure 1
    assert_output ''
    assert_equal "${stderr%%:*}" lookup
}

# ---- connect-info ----------------------------------------------------------------------------------

@test "connect-info: names both endpoints of a connection to socat, as socat saw them" {
    start_socat TCP-LISTEN:0,bind=127.0.0.1
    run --separate-stderr timeout "$(tmo 5)" connect-info 127.0.0.1 "$SOCAT_PORT"
    assert_success
    assert_output --regexp "^connected from 127\.0\.0\.1:[0-9]+ to 127\.0\.0\.1:$SOCAT_PORT\$"
    wait_exit "$SOCAT_PID" 5 # socat ends once our client has closed
    [ "$output" = "connected from 127.0.0.1:$(socat_peer_port) to 127.0.0.1:$SOCAT_PORT" ]
}

@test "connect-info: connects to an nc listener on a free port, which sees the same client port" {
    local port nc_pid client
    port=$(free_port)
    nc -n -v -l 127.0.0.1 "$port" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/nc.log" 3>&- &
    nc_pid=$!
    KIT_SERVER_PIDS+=("$nc_pid")
    wait_for_log "$BATS_TEST_TMPDIR/nc.log" "^Listening on 127\.0\.0\.1 $port\$"
    run --separate-stderr timeout "$(tmo 5)" connect-info 127.0.0.1 "$port"
    assert_success
    assert_output --regexp "^connected from 127\.0\.0\.1:[0-9]+ to 127\.0\.0\.1:$port\$"
    client=${output#connected from }
    client=${client%% to *}
    wait_for_log "$BATS_TEST_TMPDIR/nc.log" "^Connection received on 127\.0\.0\.1 $(port_of "$client")\$"
    kill "$nc_pid" 2>/dev/null || true # nc may stay after its client left
    wait "$nc_pid" 2>/dev/null || true
}

@test "connect-info: connects over IPv6 to ::1" {
    start_socat 'TCP6-LISTEN:0,bind=[::1]'
    run --separate-stderr timeout "$(tmo 5)" connect-info ::1 "$SOCAT_PORT"
    assert_success
    assert_output "connected from [::1]:$(socat_peer_port) to [::1]:$SOCAT_PORT"
    wait_exit "$SOCAT_PID" 5
}

@test "connect-info: localhost reaches a server on 127.0.0.1 only, when ::1 comes first" {
    need_ipv6_localhost
    start_socat TCP-LISTEN:0,bind=127.0.0.1
    run --separate-stderr as_ipv6_localhost timeout "$(tmo 5)" connect-info localhost "$SOCAT_PORT"
    assert_success
    assert_output --regexp "^connected from 127\.0\.0\.1:[0-9]+ to 127\.0\.0\.1:$SOCAT_PORT\$"
    wait_exit "$SOCAT_PID" 5
}

@test "connect-info: a port nobody listens on is refused, exit 1, one line naming host and port" {
    local port
    port=$(free_port)
    run --separate-stderr timeout "$(tmo 5)" connect-info 127.0.0.1 "$port"
    [ "$status" -eq 1 ]
    assert_output ''
    [ "$stderr" = "connect-info: cannot connect to 127.0.0.1 port $port: Connection refused" ]
}

@test "connect-info: an unknown host fails with the resolver's reason, exit 1" {
    run --separate-stderr timeout "$(tmo 20)" connect-info nosuch.invalid 80
    [ "$status" -eq 1 ]
    assert_output ''
    [[ $stderr =~ ^connect-info:\ cannot\ resolve\ nosuch\.invalid\ port\ 80:\ $UNKNOWN_HOST_REASON$ ]]
}

@test "connect-info: -h exits 0; a missing, zero or non-numeric port exits 2" {
    local args
    run --separate-stderr connect-info -h
    assert_success
    assert_output 'usage: connect-info HOST PORT'
    assert_usage_errors connect-info 'usage: connect-info HOST PORT' <<'EOF'
-	missing HOST and PORT
localhost	missing PORT
localhost 0	port must be a number from 1 to 65535: 0
localhost 65536	port must be a number from 1 to 65535: 65536
localhost http	port must be a number from 1 to 65535: http
localhost 80 x	unexpected argument: x
-x localhost 80	unknown option: -x
EOF
}
