#!/usr/bin/env bats
# tests/01-what-is-a-socket.bats - lesson 01: endpoints, lookup, connect-info, in stages that
# follow the README: the endpoints table (stages 1-3), lookup (4-5), connect-info (6-9), then
# the usage contract of all three (10).
#
# The endpoints table has five space-separated columns: role k fd local remote
# (role listening|client|accepted; k and remote are "-" for the listener).

# shellcheck disable=SC2030,SC2031 # each @test runs in a subshell: $output, $status are per test
load test_helper

# Resolver texts for a name that does not exist: glibc says the first; a resolver with no
# network at all may say one of the others.
UNKNOWN_HOST_REASON='(Name or service not known|No address associated with hostname|Temporary failure in name resolution)'

# The README's sections, for the hints.
S_ENDPOINTS="\`endpoints [N]\`: both ends of N connections, in one process"
S_LOOKUP="\`lookup HOST [SERVICE]\`: what a name means to a client"
S_CONNECT="\`connect-info HOST PORT\`: the two endpoints of one real connection"
S_WRONG='What can go wrong'

# ---- helpers ------------------------------------------------------------------------------

# run_prog SECS PROG [ARGS...] - run PROG under a time limit of SECS (scaled), stdout and
# stderr apart, and remember the command line for a failure message (RAN).
run_prog() {
    local secs=$1
    shift
    RAN="$*"
    run --separate-stderr timeout "$(tmo "$secs")" "$@"
}

# why LINE... - fail the test: print LINEs (what is wrong), then the command that ran, its
# exit status, and the start of what it printed (12 lines of stdout, 5 of stderr).
why() {
    local lines
    printf '%s\n' "$@"
    printf 'ran: %s\nexit status: %s\n' "$RAN" "$status"
    lines=$(wc -l <<<"$output")
    if [ -z "$output" ]; then
        echo "stdout: (nothing)"
    else
        echo "stdout:"
        head -n 12 <<<"$output" | sed 's/^/  /'
        [ "$lines" -le 12 ] || echo "  ... ($lines lines in all)"
    fi
    # shellcheck disable=SC2154 # stderr: set by bats' run --separate-stderr
    [ -z "$stderr" ] || { echo "stderr:" && head -n 5 <<<"$stderr" | sed 's/^/  /'; }
    return 1
}

# expect_success - the program ran exited 0 (and was not killed by the time limit).
expect_success() {
    [ "$status" -ne 124 ] || why "it did not finish in time: it hangs"
    [ "$status" -eq 0 ] || why "it exited $status, not 0"
}

# row ROLE K - the table row of ROLE K in $output (K "-" for the listener), as its five fields.
row() {
    awk -v role="$1" -v k="$2" 'NF == 5 && $1 == role && $2 == k { print; exit }' <<<"$output"
}

# column ROLE K N - field N (3 fd, 4 local, 5 remote) of row ROLE K of the table in $output.
column() {
    awk -v role="$1" -v k="$2" -v n="$3" 'NF == 5 && $1 == role && $2 == k { print $n; exit }' <<<"$output"
}

# port_of ENDPOINT - the port of "127.0.0.1:5000" or "[::1]:5000".
port_of() {
    echo "${1##*:}"
}

# swapped PORT - PORT with its two bytes exchanged: what a port printed without ntohs() is.
swapped() {
    echo $((($1 >> 8) | (($1 & 255) << 8)))
}

# IPV4_ENDPOINT, IPV6_ENDPOINT: "127.0.0.1:5000", "[::1]:5000".
IPV4_ENDPOINT='^127\.0\.0\.1:[0-9]+$'

# start_socat ADDRESS - start socat as a one-connection server that sends nothing, on port 0
# (bind given in ADDRESS, e.g. TCP-LISTEN:0,bind=127.0.0.1); wait for its "listening on" log
# line and set SOCAT_PID, SOCAT_PORT, SOCAT_LOG.
start_socat() {
    local n=0
    SOCAT_LOG=$BATS_TEST_TMPDIR/socat.log
    : >"$SOCAT_LOG" # now: the background job opens it only once it runs
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
            echo "no line matching '$2' in the server's log:"
            sed 's/^/  /' "$1"
            return 1
        fi
        sleep 0.05
    done
}

# socat_peer_port - the client port socat logged for the connection it accepted.
socat_peer_port() {
    sed -n 's/.* accepting connection from .*:\([0-9][0-9]*\) on .*/\1/p' "$SOCAT_LOG"
}

# connected_ends - $output must be the one line "connected from LOCAL to REMOTE"; sets
# LOCAL and REMOTE.
connected_ends() {
    [[ $output =~ ^connected\ from\ ([^ ]+)\ to\ ([^ ]+)$ ]] ||
        why 'expected one line on stdout: "connected from LOCAL to REMOTE"'
    LOCAL=${BASH_REMATCH[1]}
    REMOTE=${BASH_REMATCH[2]}
}

# check_ends CLIENT SERVER - LOCAL must be CLIENT (the endpoint the server saw) and REMOTE
# SERVER (the endpoint asked for); a difference is explained in a learner's words.
check_ends() {
    local client=$1 server=$2 host port shape='^([0-9.]+|\[[0-9a-f:.]+\]):[0-9]+$'
    [ "$LOCAL $REMOTE" != "$client $server" ] || return 0
    if ! [[ $LOCAL =~ $shape && $REMOTE =~ $shape ]]; then
        why "expected \"connected from $client to $server\": each endpoint ADDRESS:PORT, an IPv6" \
            "one as [ADDRESS]:PORT (the brackets keep its colons apart from the port's)"
    fi
    if [ "$LOCAL $REMOTE" = "$server $client" ]; then
        why "local and remote are swapped: the server is at $server and saw its client at" \
            "$client, so expected \"connected from $client to $server\"." \
            "getsockname() names our own end, getpeername() the far end."
    fi
    host=${server%:*}
    port=$(port_of "$server")
    if [ "$REMOTE" = "$host:$(swapped "$port")" ]; then
        why "the remote end is $host:$port, printed as $REMOTE: $(swapped "$port") is $port with" \
            "its two bytes swapped. sin_port holds the port in network byte order: ntohs() forgotten?"
    fi
    [ "$REMOTE" = "$server" ] ||
        why "the remote end should be the server, $server (the endpoint asked for), not $REMOTE"
    port=$(port_of "$client")
    if [ "$LOCAL" = "${client%:*}:$(swapped "$port")" ]; then
        why "the local end is $client (the server saw it), printed as $LOCAL: $(swapped "$port")" \
            "is $port with its two bytes swapped. ntohs() forgotten?"
    fi
    why "the server saw its client at $client, but connect-info printed $LOCAL as its local end"
}

# ---- stage 1: the endpoints table --------------------------------------------------------------

@test "stage 1: endpoints: prints a header, the listener, and a client and an accepted row per connection" {
    local line k role fields
    hint "each socket is one row: role, k, fd, local endpoint (getsockname), remote endpoint (getpeername); the listener has no remote end" "$S_ENDPOINTS"
    run_prog 5 endpoints
    expect_success
    [ -z "$stderr" ] || why "nothing should go to stderr when all goes well"
    [[ ${lines[0]} =~ ^role\ +k\ +fd\ +local\ +remote$ ]] ||
        why 'the first line should be the header: "role k fd local remote" (spaced out)'
    line=$(row listening -)
    [ -n "$line" ] || why 'no row "listening - FD LOCAL -" for the listening socket'
    read -ra fields <<<"$line"
    if [ "${fields[3]}" = - ] && [[ ${fields[4]} =~ $IPV4_ENDPOINT ]]; then
        why "the listening row has its endpoint in the remote column: local and remote swapped?" \
            "A listening socket has a local endpoint (127.0.0.1:PORT) and no peer (\"-\")."
    fi
    [[ ${fields[2]} =~ ^[0-9]+$ && ${fields[3]} =~ $IPV4_ENDPOINT && ${fields[4]} = - ]] ||
        why "the listening row should be \"listening - FD 127.0.0.1:PORT -\", not \"$line\""
    for k in 1 2; do
        for role in client accepted; do
            line=$(row "$role" "$k")
            [ -n "$line" ] || why "no row for \"$role $k\": expected a client and an accepted row per connection"
            read -ra fields <<<"$line"
            [[ ${fields[2]} =~ ^[0-9]+$ && ${fields[3]} =~ $IPV4_ENDPOINT && ${fields[4]} =~ $IPV4_ENDPOINT ]] ||
                why "the row \"$role $k\" should be \"$role $k FD 127.0.0.1:PORT 127.0.0.1:PORT\", not \"$line\""
        done
    done
    [ "$(grep -cE '^(listening|client|accepted) +[-0-9]+ +[0-9]+ ' <<<"$output")" -eq 5 ] ||
        why "endpoints with the default N = 2 should print 5 rows: the listener, then 2 x (client, accepted)"
}

# ---- stage 2: whose port is whose --------------------------------------------------------------

@test "stage 2: endpoints: every accepted socket's local end is the listening endpoint" {
    local listening k
    hint "accept() returns a new socket whose local end is the listener's own address and port" "$S_ENDPOINTS"
    run_prog 5 endpoints 5
    expect_success
    listening=$(column listening - 4)
    [ "$(port_of "$listening")" -gt 0 ] 2>/dev/null ||
        why "the listening socket's local port should be the one the system picked, not \"$listening\""
    for k in 1 2 3 4 5; do
        [ "$(column accepted "$k" 4)" = "$listening" ] ||
            why "accepted $k's local end is \"$(column accepted "$k" 4)\", not the listening endpoint $listening"
    done
}

@test "stage 2: endpoints: the client ports are picked by the system: not the listening port, all different" {
    local port k client ports=()
    hint "a client's local port is picked by the system at connect(): print the client socket's own getsockname(), not the server's" "$S_ENDPOINTS"
    run_prog 5 endpoints 10
    expect_success
    port=$(port_of "$(column listening - 4)")
    for k in $(seq 10); do
        client=$(column client "$k" 4)
        [ -n "$client" ] || why "no row for client $k"
        ports+=("$(port_of "$client")")
        [ "${ports[-1]}" != "$port" ] ||
            why "client $k's local end is $client: that is the listening port, $port." \
                "The client's own port is another one, picked by the system when it connects."
    done
    [ "$(printf '%s\n' "${ports[@]}" | sort -u | wc -l)" -eq 10 ] ||
        why "the 10 clients' local ports are not all different: ${ports[*]}"
}

@test "stage 2: endpoints: every socket has its own descriptor" {
    local fds
    hint "socket() and accept() each return a new descriptor: print each row's own" "$S_ENDPOINTS"
    run_prog 5 endpoints 3
    expect_success
    fds=$(awk 'NR > 1 && NF == 5 { print $3 }' <<<"$output")
    [ "$(sort -u <<<"$fds" | wc -l)" -eq 7 ] ||
        why "expected 7 different descriptors (1 listener, 3 clients, 3 accepted), got: $(tr '\n' ' ' <<<"$fds")"
}

# ---- stage 3: the two ends of each connection --------------------------------------------------

@test "stage 3: endpoints: accepted k's remote end is client k's local end, and the reverse" {
    local k
    hint "client k and accepted k are the two ends of one connection: each one's remote end is the other's local end" "$S_ENDPOINTS"
    run_prog 5 endpoints 5
    expect_success
    for k in 1 2 3 4 5; do
        [ "$(column accepted "$k" 5)" = "$(column client "$k" 4)" ] ||
            why "accepted $k's remote end is \"$(column accepted "$k" 5)\", but client $k's local end is \"$(column client "$k" 4)\""
        [ "$(column client "$k" 5)" = "$(column accepted "$k" 4)" ] ||
            why "client $k's remote end is \"$(column client "$k" 5)\", but accepted $k's local end is \"$(column accepted "$k" 4)\""
    done
}

@test "stage 3: endpoints: all N connections share the server port, yet their four-tuples differ" {
    local k tuples=()
    hint "TCP tells connections apart by all four numbers: same server endpoint, a different client endpoint each" "$S_ENDPOINTS"
    run_prog 10 endpoints 20
    expect_success
    for k in $(seq 20); do
        tuples+=("$(column accepted "$k" 4) $(column accepted "$k" 5)")
    done
    [ "$(printf '%s\n' "${tuples[@]}" | sort -u | wc -l)" -eq 20 ] ||
        why "the 20 accepted sockets should show 20 different (local, remote) pairs"
    [ "$(printf '%s\n' "${tuples[@]}" | cut -d' ' -f1 | sort -u | wc -l)" -eq 1 ] ||
        why "the 20 accepted sockets should all have the same local end, the server's"
}

@test "stage 3: endpoints: one line crosses connection 1 each way, naming both endpoints" {
    local client server
    hint "send a line from client 1, read it on accepted 1, print it; then the answer the other way" "$S_ENDPOINTS"
    run_prog 5 endpoints
    expect_success
    client=$(column client 1 4)
    server=$(column accepted 1 4)
    grep -qxF "client 1 -> accepted 1: hello from $client" <<<"$output" ||
        why "expected the line \"client 1 -> accepted 1: hello from $client\""
    grep -qxF "accepted 1 -> client 1: hello $client, this is $server" <<<"$output" ||
        why "expected the line \"accepted 1 -> client 1: hello $client, this is $server\""
}

@test "stage 3: endpoints: opens 100 connections, the most it allows" {
    hint "100 connections hold 201 descriptors: every one must stay open until the table is printed" "$S_ENDPOINTS"
    run_prog 10 endpoints 100
    expect_success
    [ "$(grep -cE '^accepted +[0-9]+ +[0-9]+ ' <<<"$output")" -eq 100 ] ||
        why "expected 100 accepted rows"
    grep -qE '^accepted +100 ' <<<"$output" || why "expected the last accepted row to be number 100"
}

# ---- stage 4: lookup, addresses as they are ----------------------------------------------------

@test "stage 4: lookup: a numeric address is itself, once; IPv6 in its short form" {
    hint "a numeric address resolves to itself; getnameinfo(NI_NUMERICHOST) prints it, IPv6 in its short form" "$S_LOOKUP"
    run_prog 5 lookup 127.0.0.1 80
    expect_success
    [ "$output" = 'IPv4 127.0.0.1 port 80' ] || why 'expected exactly "IPv4 127.0.0.1 port 80"'
    run_prog 5 lookup ::1 80
    expect_success
    [ "$output" = 'IPv6 ::1 port 80' ] || why 'expected exactly "IPv6 ::1 port 80"'
    run_prog 5 lookup 0:0:0:0:0:0:0:1 443
    expect_success
    [ "$output" = 'IPv6 ::1 port 443' ] || why 'expected exactly "IPv6 ::1 port 443": the short form of the address'
}

@test "stage 4: lookup: without a service the port is 0; a service name becomes its number" {
    hint "SERVICE NULL gives port 0; a name such as http is looked up in /etc/services" "$S_LOOKUP"
    run_prog 5 lookup 127.0.0.1
    expect_success
    [ "$output" = 'IPv4 127.0.0.1 port 0' ] || why 'expected exactly "IPv4 127.0.0.1 port 0"'
    grep -qE '^http[[:space:]]+80/tcp' /etc/services 2>/dev/null || skip "/etc/services has no http"
    run_prog 5 lookup 127.0.0.1 http
    expect_success
    [ "$output" = 'IPv4 127.0.0.1 port 80' ] || why 'expected exactly "IPv4 127.0.0.1 port 80": http is port 80'
}

@test "stage 4: lookup: -4 and -6 ask for one address family only" {
    hint "-4 sets hints.ai_family to AF_INET, -6 to AF_INET6" "$S_LOOKUP"
    run_prog 5 lookup -4 localhost 7
    expect_success
    [ "$output" = 'IPv4 127.0.0.1 port 7' ] || why 'expected exactly "IPv4 127.0.0.1 port 7"'
    run_prog 5 lookup -6 ::1 7
    expect_success
    [ "$output" = 'IPv6 ::1 port 7' ] || why 'expected exactly "IPv6 ::1 port 7"'
    run_prog 5 lookup -6 127.0.0.1 7
    [ "$status" -eq 1 ] && [ -z "$output" ] && [ "${stderr%%:*}" = lookup ] ||
        why "an IPv4 address asked for as IPv6 has no answer: expected exit 1, nothing on stdout," \
            "one line \"lookup: ...\" on stderr"
}

# ---- stage 5: lookup, every address of a name ---------------------------------------------------

@test "stage 5: lookup: localhost gives 127.0.0.1, and ::1 exactly when the system maps it" {
    hint "print one line per address of getaddrinfo's list, and nothing else" "$S_LOOKUP"
    run_prog 5 lookup localhost 7
    expect_success
    grep -qxF 'IPv4 127.0.0.1 port 7' <<<"$output" || why 'expected the line "IPv4 127.0.0.1 port 7"'
    if has_ipv6_localhost; then
        grep -qxF 'IPv6 ::1 port 7' <<<"$output" ||
            why 'localhost is also ::1 on this system: expected the line "IPv6 ::1 port 7"'
    else
        ! grep -qxF 'IPv6 ::1 port 7' <<<"$output" ||
            why 'localhost is not ::1 on this system: "IPv6 ::1 port 7" should not be printed'
    fi
    [ "$(grep -cvE '^IPv[46] [0-9a-f:.]+ port 7$' <<<"$output")" -eq 0 ] ||
        why 'every line should be "FAMILY ADDRESS port 7", and nothing else'
}

@test "stage 5: lookup: every address of a name: localhost as ::1, then 127.0.0.1" {
    need_ipv6_localhost
    hint "getaddrinfo returns a list: walk it with ai_next to the end, not just its first entry" "$S_LOOKUP"
    RAN="lookup localhost 7   (where localhost is ::1 first, then 127.0.0.1, as stock Debian's /etc/hosts says)"
    run --separate-stderr as_ipv6_localhost timeout "$(tmo 5)" lookup localhost 7
    expect_success
    if [ "$output" = 'IPv6 ::1 port 7' ]; then
        why "printed only the first address of the list: localhost has two here"
    fi
    [ "$output" = $'IPv6 ::1 port 7\nIPv4 127.0.0.1 port 7' ] ||
        why 'expected exactly two lines, in the resolver'"'"'s order: "IPv6 ::1 port 7", then "IPv4 127.0.0.1 port 7"'
}

@test "stage 5: lookup: an unknown name fails with the resolver's reason, exit 1" {
    hint "when getaddrinfo fails, print gai_strerror's reason in one line and exit 1" "$S_WRONG"
    run_prog 20 lookup nosuch.invalid
    [ "$status" -eq 1 ] && [ -z "$output" ] &&
        [[ $stderr =~ ^lookup:\ cannot\ resolve\ nosuch\.invalid:\ $UNKNOWN_HOST_REASON$ ]] ||
        why "expected exit 1, nothing on stdout, and on stderr the one line" \
            "\"lookup: cannot resolve nosuch.invalid: Name or service not known\""
}

# ---- stage 6: connect-info connects, and names both ends -----------------------------------------

@test "stage 6: connect-info: names both endpoints of a connection to socat, as socat saw them" {
    hint "connect, then getsockname() for our end and getpeername() for the server's; print \"connected from LOCAL to REMOTE\"" "$S_CONNECT"
    start_socat TCP-LISTEN:0,bind=127.0.0.1
    run_prog 5 connect-info 127.0.0.1 "$SOCAT_PORT"
    expect_success
    connected_ends
    wait_exit "$SOCAT_PID" 5 # socat ends once our client has closed
    check_ends "127.0.0.1:$(socat_peer_port)" "127.0.0.1:$SOCAT_PORT"
}

@test "stage 6: connect-info: connects to an nc listener, which sees the same client port" {
    local port nc_pid
    hint "the local end is the client socket's own address and port: getsockname() after connect()" "$S_CONNECT"
    port=$(free_port)
    : >"$BATS_TEST_TMPDIR/nc.log" # now: the background job opens it only once it runs
    nc -n -v -l 127.0.0.1 "$port" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/nc.log" 3>&- &
    nc_pid=$!
    KIT_SERVER_PIDS+=("$nc_pid")
    wait_for_log "$BATS_TEST_TMPDIR/nc.log" "^Listening on 127\.0\.0\.1 $port\$"
    run_prog 5 connect-info 127.0.0.1 "$port"
    expect_success
    connected_ends
    [[ $LOCAL =~ $IPV4_ENDPOINT ]] || why "the local end should be 127.0.0.1:PORT, not $LOCAL"
    wait_for_log "$BATS_TEST_TMPDIR/nc.log" "^Connection received on 127\.0\.0\.1 [0-9]+\$"
    check_ends "127.0.0.1:$(sed -n 's/^Connection received on 127\.0\.0\.1 //p' "$BATS_TEST_TMPDIR/nc.log")" \
        "127.0.0.1:$port"
    kill "$nc_pid" 2>/dev/null || true # nc may stay after its client left
    wait "$nc_pid" 2>/dev/null || true
}

# ---- stage 7: over IPv6 -----------------------------------------------------------------------

@test "stage 7: connect-info: connects over IPv6 to ::1, endpoints in brackets" {
    hint "an IPv6 endpoint is a sockaddr_in6 (ss_family AF_INET6), printed as [ADDRESS]:PORT" "$S_CONNECT"
    has_ipv6_loopback || skip "no IPv6 loopback (::1) on this machine"
    start_socat 'TCP6-LISTEN:0,bind=[::1]'
    run_prog 5 connect-info ::1 "$SOCAT_PORT"
    expect_success
    connected_ends
    wait_exit "$SOCAT_PID" 5
    check_ends "[::1]:$(socat_peer_port)" "[::1]:$SOCAT_PORT"
}

# ---- stage 8: every address of a name ------------------------------------------------------------

@test "stage 8: connect-info: tries every address: localhost reaches a server on 127.0.0.1 only when ::1 comes first" {
    need_ipv6_localhost
    hint "when connect() fails, close that socket and try the next address of the list (ai_next); give up only after the last" "$S_LOOKUP"
    start_socat TCP-LISTEN:0,bind=127.0.0.1
    RAN="connect-info localhost $SOCAT_PORT   (localhost is ::1 first, then 127.0.0.1; the server listens on 127.0.0.1 only)"
    run --separate-stderr as_ipv6_localhost timeout "$(tmo 5)" connect-info localhost "$SOCAT_PORT"
    if [ "$status" -ne 0 ] && [[ $stderr == *refused* ]]; then
        why "::1 refused, and connect-info gave up: only the first address was tried." \
            "127.0.0.1, the second address of localhost, would have answered."
    fi
    expect_success
    connected_ends
    wait_exit "$SOCAT_PID" 5
    check_ends "127.0.0.1:$(socat_peer_port)" "127.0.0.1:$SOCAT_PORT"
}

# ---- stage 9: what can go wrong ------------------------------------------------------------------

@test "stage 9: connect-info: a port nobody listens on is refused: exit 1, one line naming host and port" {
    local port want
    hint "a failed connect() is an error: one line on stderr with strerror(errno), then exit 1 (never 0)" "$S_WRONG"
    port=$(free_port)
    want="connect-info: cannot connect to 127.0.0.1 port $port: Connection refused"
    run_prog 5 connect-info 127.0.0.1 "$port"
    [ "$status" -ne 0 ] ||
        why "the connection was refused, yet connect-info exited 0: a script would think it connected." \
            "A failure exits 1."
    [ "$status" -eq 1 ] || why "a refused connection should exit 1, not $status"
    [ -z "$output" ] || why "nothing should go to stdout when the connection fails"
    [ "$stderr" = "$want" ] || why "expected on stderr exactly: \"$want\""
}

@test "stage 9: connect-info: an unknown host fails with the resolver's reason, exit 1" {
    hint "when getaddrinfo fails, print gai_strerror's reason in one line and exit 1" "$S_WRONG"
    run_prog 20 connect-info nosuch.invalid 80
    [ "$status" -eq 1 ] && [ -z "$output" ] &&
        [[ $stderr =~ ^connect-info:\ cannot\ resolve\ nosuch\.invalid\ port\ 80:\ $UNKNOWN_HOST_REASON$ ]] ||
        why "expected exit 1, nothing on stdout, and on stderr the one line" \
            "\"connect-info: cannot resolve nosuch.invalid port 80: Name or service not known\""
}

# ---- stage 10: the usage contract ---------------------------------------------------------------

@test "stage 10: endpoints: -h prints usage and exits 0; bad N or arguments: what was wrong, then usage" {
    hint "-h: usage on stdout, exit 0; bad usage: what was wrong and the usage line on stderr, exit 2" "$S_WRONG"
    run_prog 5 endpoints -h
    [ "$status" -eq 0 ] && [ "${lines[0]}" = 'usage: endpoints [N]' ] && [ -z "$stderr" ] ||
        why 'expected exit 0 and "usage: endpoints [N]" first on stdout'
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

@test "stage 10: lookup: -h exits 0; a missing HOST, a third argument or -4 with -6 exit 2" {
    hint "-h: usage on stdout, exit 0; bad usage: what was wrong and the usage line on stderr, exit 2" "$S_WRONG"
    run_prog 5 lookup -h
    [ "$status" -eq 0 ] && [ "${lines[0]}" = 'usage: lookup [-4 | -6] HOST [SERVICE]' ] ||
        why 'expected exit 0 and "usage: lookup [-4 | -6] HOST [SERVICE]" first on stdout'
    assert_usage_errors lookup 'usage: lookup [-4 | -6] HOST [SERVICE]' <<'EOF'
-	missing HOST
a b c	unexpected argument: c
-x localhost	unknown option: -x
-4 -6 localhost	-4 and -6 exclude each other: give one, or neither
EOF
}

@test "stage 10: connect-info: -h exits 0; a missing, zero or non-numeric port exits 2" {
    hint "-h: usage on stdout, exit 0; bad usage: what was wrong and the usage line on stderr, exit 2" "$S_WRONG"
    run_prog 5 connect-info -h
    [ "$status" -eq 0 ] && [ "$output" = 'usage: connect-info HOST PORT' ] ||
        why 'expected exit 0 and exactly "usage: connect-info HOST PORT" on stdout'
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
