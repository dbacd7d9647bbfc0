#!/usr/bin/env bats
# tests/09-datagrams.bats - lesson 09: quote-server and quote-client over UDP, the multicast
# pair, and echo-load --udp; against peers we did not write (socat's UDP modes, python peers
# in tests/peers/, the kit's own Java peers that behave as the tutorial's QuoteServer and
# QuoteClient), through a relay that loses, duplicates and reorders datagrams on purpose,
# and across network namespaces for what loopback cannot show (multicast, a host that sends
# no ICMP).
#
# The namespaces are made once for the file, with names unique to this bats run, and removed
# in teardown_file, which bats runs even when a test fails:
#
#     "lo" host (ns kit-PID-mlo)       lo up, with MULTICAST on: multicast without a cable
#     host "srv" (ns kit-PID-msrv)  <-> host "cli" (ns kit-PID-mcli), joined by a veth pair
#       veth0 10.201.0.1/24, fd00:d09::1/64    veth0 10.201.0.2/24, fd00:d09::2/64
#     In "cli", 10.201.0.9 is a black hole: a static neighbour entry sends its datagrams to
#     a MAC address nobody has, so they vanish without an ICMP error.
#
# Root and a working `ip netns` are needed for those tests; elsewhere they are skipped with
# the reason. Every other test runs on loopback.
#
# A failing test says what was sent, expected and got, in a learner's words (ran,
# assert_text), with a hint naming the README section. The classic faults of
# tests/mutants/09-*.patch each fail one of them ("Find the bug").

# shellcheck disable=SC2154 # $stderr is set by bats' run --separate-stderr
load test_helper
load lib/java_peers

PEERS=$KIT_ROOT/tests/peers
# The README section that a server failing to stop on SIGTERM is pointed to (test_helper).
# shellcheck disable=SC2034 # read by test_helper.bash
STOP_HINT_SECTION="\`make trace\`"

SERVER_USAGE="usage: quote-server [-b ADDR] [-f FILE] [--batch] [-q] PORT"
CLIENT_USAGE="usage: quote-client [--timeout MS] [--retries N] [--no-tag] [-v] HOST PORT"
MSERVER_USAGE="usage: quote-multicast-server [-g GROUP] [-i IFACE] [-f FILE] [--interval MS] [--count N] [-q] PORT"
MCLIENT_USAGE="usage: quote-multicast-client [-g GROUP] [-i IFACE] [--count N] [--timeout MS] [-q] PORT"

# The first of quote-server's built-in quotes, the one a fresh server sends first.
FIRST_BUILTIN="A datagram is a letter, not a phone call."

SRV_IP4=10.201.0.1
CLI_IP4=10.201.0.2
HOLE_IP4=10.201.0.9
SRV_IP6=fd00:d09::1
CLI_IP6=fd00:d09::2
# Inside namespaces made for this run only, a fixed port collides with nothing.
MPORT=4446

# ---- the namespaces ---------------------------------------------------------------------

# hosts_up PREFIX - the three namespaces above. On failure, removes what it made, says why.
hosts_up() {
    local lo=$1-mlo srv=$1-msrv cli=$1-mcli
    {
        ip netns add "$lo" && ip -n "$lo" link set lo multicast on && ip -n "$lo" link set lo up &&
            ip netns add "$srv" && ip netns add "$cli" &&
            ip link add veth0 netns "$srv" type veth peer name veth0 netns "$cli" &&
            ip -n "$srv" link set lo up && ip -n "$cli" link set lo up &&
            ip -n "$srv" addr add "$SRV_IP4/24" dev veth0 &&
            ip -n "$cli" addr add "$CLI_IP4/24" dev veth0 &&
            ip -n "$srv" addr add "$SRV_IP6/64" dev veth0 nodad &&
            ip -n "$cli" addr add "$CLI_IP6/64" dev veth0 nodad &&
            ip -n "$srv" link set veth0 up && ip -n "$cli" link set veth0 up &&
            ip -n "$cli" neigh add "$HOLE_IP4" lladdr 02:00:00:00:00:09 dev veth0 nud permanent
    } 2>&1 || {
        hosts_down "$1"
        return 1
    }
}

hosts_down() {
    local ns
    for ns in "$1-mlo" "$1-msrv" "$1-mcli"; do
        ip netns del "$ns" 2>/dev/null || true
    done
}

setup_file() {
    local why
    export NET=kit-$BATS_ROOT_PID
    export ON_LO_NS=$NET-mlo ON_SRV_NS=$NET-msrv ON_CLI_NS=$NET-mcli
    # bats 1.8 cannot skip from setup_file: the reason goes to need_hosts.
    export HOSTS_SKIP=
    if [ "$(id -u)" -ne 0 ]; then
        HOSTS_SKIP="creating network namespaces needs root"
    elif ! command -v ip >/dev/null 2>&1; then
        HOSTS_SKIP="ip (iproute2) is not installed"
    elif ! why=$(hosts_up "$NET"); then
        HOSTS_SKIP="ip netns does not work here: ${why//$'\n'/ }"
    fi
    # The kit's Java quote peers (tests/peers/java), compiled once for the file.
    java_peers_build QuotePeerClient QuotePeerServer
    printf 'first quote\nsecond quote\nthird quote\n' >"$BATS_FILE_TMPDIR/quotes"
    export QUOTES=$BATS_FILE_TMPDIR/quotes
}

teardown_file() {
    hosts_down "$NET"
}

# need_hosts - skip unless the namespaces exist; then ON_LO, ON_SRV, ON_CLI run a command in
# them (arrays: `ip netns exec` execs the program in place, so a PID we hold is its own).
need_hosts() {
    [ -z "$HOSTS_SKIP" ] || skip "$HOSTS_SKIP"
    ON_LO=(ip netns exec "$ON_LO_NS")
    ON_SRV=(ip netns exec "$ON_SRV_NS")
    ON_CLI=(ip netns exec "$ON_CLI_NS")
}

# ---- helpers -----------------------------------------------------------------------------

# free_udp_port - a UDP port nothing is bound to right now.
free_udp_port() {
    python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_udp_peer PORT CMD... - a peer that binds a fixed UDP PORT and prints nothing (socat,
# the Java peers), in the background; waits (bounded) until the port is bound, so that no
# datagram is sent before and refused. Sets UDP_PEER_PID.
start_udp_peer() {
    local port=$1 n=0
    shift
    "$@" </dev/null 3>&- &
    UDP_PEER_PID=$!
    KIT_SERVER_PIDS+=("$UDP_PEER_PID")
    until ss -Huln "( sport = :$port )" | grep -q .; do
        [ $((n += 1)) -le $((100 * KIT_SLOW)) ] || fail "$*: never bound port $port"
        sleep 0.02
    done
}

# start_quote_server ARGS... - quote-server ARGS 0 (quotes from $QUOTES unless ARGS say -f),
# started and waited for; sets Q_PID, Q_PORT, Q_ERR as well as start_server's variables.
start_quote_server() {
    start_server quote-server "$@" 0
    Q_PID=$SERVER_PID Q_PORT=$SERVER_PORT Q_ERR=$SERVER_ERR
}

# start_relay ARGS... - tests/peers/udp_relay.py ARGS in front of quote-server at $Q_PORT;
# sets R_PID, R_PORT, R_ERR (its log).
start_relay() {
    start_server python3 "$PEERS/udp_relay.py" "$@" 127.0.0.1 "$Q_PORT"
    R_PID=$SERVER_PID R_PORT=$SERVER_PORT R_ERR=$SERVER_ERR
}

# wait_for_line FILE REGEX [SECS] - wait (bounded, scaled) until a line of FILE matches.
wait_for_line() {
    local n=0 limit=$((${3:-5} * 20 * KIT_SLOW))
    until grep -qE "$2" "$1" 2>/dev/null; do
        [ $((n += 1)) -le "$limit" ] || fail "no line matching '$2' in $1 after ${3:-5} s: $(cat "$1")"
        sleep 0.05
    done
}

# elapsed_ms START_NS - milliseconds since START_NS (from date +%s%N).
elapsed_ms() {
    echo $((($(date +%s%N) - $1) / 1000000))
}

# ran CMD... - for a failure message, after `run --separate-stderr CMD...`: the command, then
# its exit status, stdout and stderr, each on a line of its own, bytes made visible.
ran() {
    local out err
    printf '%s' "$output" >"$BATS_TEST_TMPDIR/ran.out"
    printf '%s' "$stderr" >"$BATS_TEST_TMPDIR/ran.err"
    out=$(show_bytes "$BATS_TEST_TMPDIR/ran.out" 200)
    err=$(show_bytes "$BATS_TEST_TMPDIR/ran.err" 400)
    printf 'ran:    %s\ngot:    exit %s\nstdout: %s\nstderr: %s' "$*" "$status" "$out" "$err"
}

# ---- stage 1: the contract -----------------------------------------------------------------

@test "stage 1: every program prints its usage for -h and --help, on stdout, exit 0" {
    hint "-h and --help print the usage line on stdout and exit 0" "Build and run"
    local prog usage
    for prog in quote-server quote-client quote-multicast-server quote-multicast-client; do
        case $prog in
        quote-server) usage=$SERVER_USAGE ;;
        quote-client) usage=$CLIENT_USAGE ;;
        quote-multicast-server) usage=$MSERVER_USAGE ;;
        quote-multicast-client) usage=$MCLIENT_USAGE ;;
        esac
        run timeout "$(tmo 5)" "$prog" -h
        assert_success
        assert_line --index 0 "$usage"
        run timeout "$(tmo 5)" "$prog" --help
        assert_success
        assert_line --index 0 "$usage"
    done
}

@test "stage 1: bad usage says what was wrong, then the usage line, exit 2" {
    hint "one line saying what was wrong, then the usage line, on stderr, exit 2" "Build and run"
    assert_usage_errors quote-server "$SERVER_USAGE" <<'EOF'
-	missing PORT
1 2	unexpected argument: 2
65536	port must be a number from 0 to 65535: 65536
-f	option -f needs a value
--batch=1 0	option --batch takes no value: --batch=1
--bogus 0	unknown option: --bogus
EOF
    assert_usage_errors quote-client "$CLIENT_USAGE" <<'EOF'
-	missing HOST and PORT
h	missing PORT
h 0	port must be a number from 1 to 65535: 0
--timeout 0 h 1	--timeout must be at least 1: 0
--timeout 60001 h 1	--timeout must be at most 60000: 60001
--retries 11 h 1	--retries must be at most 10: 11
--retries x h 1	--retries must be a number from 0 to 10: x
EOF
    assert_usage_errors quote-multicast-server "$MSERVER_USAGE" <<'EOF'
-	missing PORT
0	port must be a number from 1 to 65535: 0
-g 10.0.0.1 4446	10.0.0.1 is not a multicast address (224.0.0.0/4 or ff00::/8)
-g example.com 4446	example.com is not a multicast address (224.0.0.0/4 or ff00::/8)
--interval 0 4446	--interval must be at least 1: 0
--count 0 4446	--count must be at least 1: 0
EOF
    assert_usage_errors quote-multicast-client "$MCLIENT_USAGE" <<'EOF'
-	missing PORT
-g ::1 4446	::1 is not a multicast address (224.0.0.0/4 or ff00::/8)
--count 0 4446	--count must be at least 1: 0
--timeout x 4446	--timeout must be a number from 1 to 3600000: x
EOF
}

@test "stage 1: run-time failures are one line and exit 1: a quote file, a port in use, a name" {
    hint "a run-time failure is one line, PROG: what failed: reason, and exit 1" "What can go wrong"
    run --separate-stderr timeout "$(tmo 5)" quote-server -f "$BATS_TEST_TMPDIR/none" 0
    assert_failure 1
    assert_equal "$stderr" "quote-server: cannot read $BATS_TEST_TMPDIR/none: No such file or directory"
    : >"$BATS_TEST_TMPDIR/empty"
    run --separate-stderr timeout "$(tmo 5)" quote-server -f "$BATS_TEST_TMPDIR/empty" 0
    assert_failure 1
    assert_equal "$stderr" "quote-server: $BATS_TEST_TMPDIR/empty holds no quotes"
    # UDP has no TIME_WAIT, so quote-server sets no SO_REUSEADDR: a second server on the same
    # port fails instead of quietly sharing the first one's requests.
    start_quote_server -f "$QUOTES"
    run --separate-stderr timeout "$(tmo 5)" quote-server "$Q_PORT"
    assert_failure 1
    assert_equal "$stderr" "quote-server: cannot bind to 127.0.0.1 port $Q_PORT: Address already in use"
    assert_output ''
    stop_server "$Q_PID"
    run --separate-stderr timeout "$(tmo 5)" quote-client nosuch.invalid 7
    assert_failure 1
    [[ $stderr == "quote-client: cannot resolve nosuch.invalid port 7: "* ]]
}

# ---- stage 2: one datagram in, one datagram out ---------------------------------------------

@test "stage 2: quote-client prints the quotes in turn, and quote-server logs each request" {
    hint "the server answers every datagram with the next quote, cycling; the client prints 'Quote of the Moment: ' and the quote" "Build and run"
    local n want=("first quote" "second quote" "third quote" "first quote")
    start_quote_server -f "$QUOTES"
    assert_equal "$SERVER_ENDPOINT" "127.0.0.1:$Q_PORT"
    # n, not i: bats' run uses a global i of its own.
    for n in 0 1 2 3; do
        run --separate-stderr timeout "$(tmo 5)" quote-client 127.0.0.1 "$Q_PORT"
        assert_success
        assert_output "Quote of the Moment: ${want[n]}"
        assert_equal "$stderr" ''
    done
    stop_server "$Q_PID"
    # The request is the client's tag, 8 hex digits, a dash and the try: 10 bytes.
    run cat "$Q_ERR"
    assert_equal "${#lines[@]}" 4
    assert_line --index 0 --regexp '^request from 127\.0\.0\.1:[0-9]+ \(10 bytes\): sent quote 1 \(22 bytes\)$'
    assert_line --index 1 --regexp '^request from 127\.0\.0\.1:[0-9]+ \(10 bytes\): sent quote 2 \(23 bytes\)$'
    assert_line --index 3 --regexp '^request from 127\.0\.0\.1:[0-9]+ \(10 bytes\): sent quote 1 \(22 bytes\)$'
}

@test "stage 2: without -f the server has its own quotes; -q logs nothing; SIGTERM exits 0" {
    hint "without -f the built-in quotes, the first one first; -q: no line on stderr; SIGTERM: exit 0" "Build and run"
    start_quote_server -q
    run --separate-stderr timeout "$(tmo 5)" quote-client 127.0.0.1 "$Q_PORT"
    assert_success
    assert_output "Quote of the Moment: $FIRST_BUILTIN"
    stop_server "$Q_PID"
    run cat "$Q_ERR"
    assert_output ''
}

@test "stage 2: the reply carries the request's tag, as socat shows; an untagged request gets the quote alone" {
    hint "the tag is the request's bytes before the first NUL, CR or LF; the reply is the tag, a space, the quote (the quote alone for an empty tag)" "The quote protocol"
    start_quote_server -f "$QUOTES"
    # socat's UDP client: one datagram out, what comes back on stdout (-t: how long to wait
    # for it once the input has ended).
    run timeout "$(tmo 5)" socat -t "0.$KIT_SLOW" - "UDP:127.0.0.1:$Q_PORT" < <(printf 'my-tag\nignored')
    assert_success
    assert_output 'my-tag first quote'
    run timeout "$(tmo 5)" socat -t "0.$KIT_SLOW" - "UDP:127.0.0.1:$Q_PORT" < <(printf '\0\0\0\0')
    assert_output 'second quote'
    stop_server "$Q_PID"
    run grep -c 'request from 127\.0\.0\.1:[0-9]* (14 bytes): sent quote 1 (18 bytes)$' "$Q_ERR"
    assert_output 1
}

@test "stage 2: quote-client takes its reply from socat's UDP server, and ignores one without its tag" {
    hint "quote-client sends its tag and takes only a reply that starts with that tag and a space" "The quote protocol"
    local port script=$BATS_TEST_TMPDIR/answer.sh
    port=$(free_udp_port)
    # socat's UDP server: each datagram to a process of its own, whose output is the reply.
    cat >"$script" <<'EOF'
#!/bin/sh
read -r tag || :
printf '%s Quoted by socat.' "$tag"
EOF
    chmod +x "$script"
    start_udp_peer "$port" socat "UDP4-RECVFROM:$port,bind=127.0.0.1,fork" "EXEC:$script"
    run --separate-stderr timeout "$(tmo 5)" quote-client 127.0.0.1 "$port"
    assert_success
    assert_output "Quote of the Moment: Quoted by socat."
    # The same server with a reply that lacks the tag: every reply is ignored.
    printf '#!/bin/sh\ncat >/dev/null\nprintf "%%s" "No tag here."\n' >"$script"
    run --separate-stderr timeout "$(tmo 5)" quote-client -v --timeout 50 --retries 1 127.0.0.1 "$port"
    [ "$status" -eq 1 ] && [ -z "$output" ] ||
        fail "socat answered each request with \"No tag here.\", a reply without the request's tag: it must be ignored, and after 2 tries comes one line and exit 1
$(ran quote-client -v --timeout 50 --retries 1 127.0.0.1 "$port")"
    [[ ${stderr} =~ ignored\ a\ reply\ that\ is\ not\ for\ \"[0-9a-f]{8}-1\":\ \"No\ tag\ here\.\" ]]
    assert_equal "${stderr##*$'\n'}" "quote-client: no reply from 127.0.0.1 port $port after 2 tries"
}

@test "stage 2: the Java QuotePeerClient gets a quote; quote-client --no-tag reads the Java QuotePeerServer to its Goodbye" {
    hint "the tutorial's client sends 256 zero bytes: an empty tag, answered with the quote alone; --no-tag sends the same and takes any reply" "The tutorial's Java programs, and ours against them"
    need_java_peers
    local port pid status=0
    start_quote_server -f "$QUOTES"
    run timeout "$(tmo 20)" "${JAVA_PEER[@]}" QuotePeerClient 127.0.0.1 "$Q_PORT"
    assert_success
    assert_output 'Quote of the Moment: first quote'
    stop_server "$Q_PID"
    # The Java server answers whatever comes, untagged: only --no-tag takes its replies.
    printf 'one\ntwo\n' >"$BATS_TEST_TMPDIR/two"
    port=$(free_udp_port)
    start_udp_peer "$port" timeout "$(tmo 20)" "${JAVA_PEER[@]}" QuotePeerServer "$port" "$BATS_TEST_TMPDIR/two"
    pid=$UDP_PEER_PID
    run --separate-stderr timeout "$(tmo 5)" quote-client --timeout 100 --retries 0 127.0.0.1 "$port"
    [ "$status" -eq 1 ] && [ "$stderr" = "quote-client: no reply from 127.0.0.1 port $port after 1 tries" ] ||
        fail "the Java QuotePeerServer answers with a quote alone, without the request's tag: without --no-tag, quote-client must ignore it
$(ran quote-client --timeout 100 --retries 0 127.0.0.1 "$port")"
    run timeout "$(tmo 5)" quote-client --no-tag 127.0.0.1 "$port"
    assert_output 'Quote of the Moment: two'
    run timeout "$(tmo 5)" quote-client --no-tag 127.0.0.1 "$port"
    assert_output 'Quote of the Moment: No more quotes. Goodbye.'
    wait_exit "$pid" 10 || status=$?
    assert_equal "$status" 0
}

# ---- stage 3: what a datagram is --------------------------------------------------------------

@test "stage 3: three datagrams sent back to back come back as three replies, never merged; an empty one too" {
    hint "one recvmsg() is one datagram: never two, never half of one" "What a datagram keeps"
    local batch
    for batch in '' --batch; do
        start_quote_server -f "$QUOTES" ${batch:+"$batch"}
        run timeout "$(tmo 5)" python3 "$PEERS/udp_peer.py" 127.0.0.1 "$Q_PORT" a b c empty:
        assert_success
        assert_output '13 "a first quote"
14 "b second quote"
13 "c third quote"
11 "first quote"'
        stop_server "$Q_PID"
        run grep -c '^request from 127\.0\.0\.1:[0-9]* (1 bytes): sent quote' "$Q_ERR"
        assert_output 3
        run grep -c '^request from 127\.0\.0\.1:[0-9]* (0 bytes): sent quote 1 (11 bytes)$' "$Q_ERR"
        assert_output 1
    done
}

@test "stage 3: a request longer than 512 bytes is cut short by the kernel: reported, not answered" {
    hint "recvmsg() sets MSG_TRUNC in msg_flags when the datagram did not fit: check it" "What a datagram keeps"
    local batch
    for batch in '' --batch; do
        start_quote_server -f "$QUOTES" ${batch:+"$batch"}
        # Three back to back: the first is cut to 512 bytes by the kernel, and has no reply.
        run timeout "$(tmo 5)" python3 "$PEERS/udp_peer.py" --expect 2 127.0.0.1 "$Q_PORT" x:513 x:512 m
        assert_text "524 \"(512 x) first quote\"
14 \"m second quote\"" "${output//$(printf 'x%.0s' {1..512})/(512 x)}" \
            "quote-server${batch:+ $batch}: the replies (LENGTH \"BYTES\") to three datagrams sent back to back: 513 bytes of x (too long: no reply), 512 bytes of x, then \"m\""
        stop_server "$Q_PID"
        run cat "$Q_ERR"
        assert_line --index 0 --regexp '^request from 127\.0\.0\.1:[0-9]+ \(more than 512 bytes\): cut short, not answered$'
        assert_line --index 1 --regexp '^request from 127\.0\.0\.1:[0-9]+ \(512 bytes\): sent quote 1 \(524 bytes\)$'
        assert_line --index 2 --regexp '^request from 127\.0\.0\.1:[0-9]+ \(1 bytes\): sent quote 2 \(14 bytes\)$'
    done
}

@test "stage 3: the largest datagram, 65,507 bytes, goes through IPv4 loopback; one byte more is 'Message too long'" {
    hint "a UDP payload over IPv4 is at most 65,535 - 20 - 8 = 65,507 bytes; sendmsg() says EMSGSIZE beyond" "What a datagram keeps"
    local file=$BATS_TEST_TMPDIR/big
    # Two quotes: 65,507 bytes of 'a', then 65,508 of 'b'. An untagged request (--no-tag)
    # gets the quote alone, so the first reply is exactly the largest IPv4 datagram.
    { head -c 65507 /dev/zero | tr '\0' a; echo; head -c 65508 /dev/zero | tr '\0' b; echo; } >"$file"
    start_quote_server -f "$file"
    timeout "$(tmo 5)" quote-client --no-tag 127.0.0.1 "$Q_PORT" >"$BATS_TEST_TMPDIR/got"
    { printf 'Quote of the Moment: '; head -n 1 "$file"; } >"$BATS_TEST_TMPDIR/want"
    assert_same_bytes "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
    run --separate-stderr timeout "$(tmo 5)" quote-client --no-tag --timeout 100 --retries 0 127.0.0.1 "$Q_PORT"
    assert_failure 1
    assert_equal "$stderr" "quote-client: no reply from 127.0.0.1 port $Q_PORT after 1 tries"
    stop_server "$Q_PID"
    run cat "$Q_ERR"
    assert_line --index 0 --regexp '^request from 127\.0\.0\.1:[0-9]+ \(256 bytes\): sent quote 1 \(65507 bytes\)$'
    assert_line --index 1 --regexp '^request from 127\.0\.0\.1:[0-9]+ \(256 bytes\): cannot send quote 2 \(65508 bytes\): Message too long$'
    # IPv6 counts its header apart: over ::1 the same 65,508 bytes fit.
    has_ipv6_loopback || return 0
    start_quote_server -f "$file" -b ::1
    run timeout "$(tmo 5)" quote-client --no-tag ::1 "$Q_PORT"
    run timeout "$(tmo 5)" quote-client --no-tag ::1 "$Q_PORT"
    assert_success
    assert_equal "${#output}" $((21 + 65508))
    stop_server "$Q_PID"
}

@test "stage 3: the Java QuotePeerClient's 256-byte packet silently cuts a longer quote" {
    hint "read a reply into a buffer larger than any datagram (64 KiB): a smaller one cuts it, as Java's 256-byte packet does" "What a datagram keeps"
    need_java_peers
    local long
    long=$(printf 'q%.0s' {1..300})
    printf '%s\n' "$long" >"$BATS_TEST_TMPDIR/long"
    start_quote_server -f "$BATS_TEST_TMPDIR/long"
    run timeout "$(tmo 20)" "${JAVA_PEER[@]}" QuotePeerClient 127.0.0.1 "$Q_PORT"
    assert_success
    assert_output "Quote of the Moment: ${long:0:256}"
    # quote-client reads into 64 KiB, more than any datagram: it gets all 300 bytes.
    run timeout "$(tmo 5)" quote-client --no-tag 127.0.0.1 "$Q_PORT"
    assert_output "Quote of the Moment: $long"
    stop_server "$Q_PID"
}

# ---- stage 4: nothing listening ------------------------------------------------------------------

@test "stage 4: nothing listening: 'Connection refused' through the connected socket, exit 1, at once" {
    hint "a connected UDP socket gets the ICMP port unreachable as ECONNREFUSED on its next recv(): stop there" "Nothing listening: the ICMP surprise"
    local port start ms
    port=$(free_udp_port)
    start=$(date +%s%N)
    run --separate-stderr timeout "$(tmo 5)" quote-client 127.0.0.1 "$port"
    ms=$(elapsed_ms "$start")
    assert_failure 1
    assert_output ''
    assert_equal "$stderr" "quote-client: no reply from 127.0.0.1 port $port: Connection refused"
    # Well before the first timeout (500 ms): the refusal does not wait for it.
    [ "$ms" -lt $((400 * KIT_SLOW)) ] ||
        fail "the refusal took $ms ms to report: it comes with the first recv(), before any timeout (500 ms)"
}

@test "stage 4: localhost is tried address by address: ::1 refuses at once, 127.0.0.1 answers" {
    hint "try every address of the name; a refusal moves on to the next one at once" "Nothing listening: the ICMP surprise"
    need_ipv6_localhost
    start_quote_server -f "$QUOTES"
    run --separate-stderr as_ipv6_localhost timeout "$(tmo 5)" quote-client -v localhost "$Q_PORT"
    [ "$status" -eq 0 ] && [ "$output" = 'Quote of the Moment: first quote' ] ||
        fail "localhost is ::1 first, then 127.0.0.1, and the server listens on 127.0.0.1 only: ::1 refuses, and the quote must come from 127.0.0.1
$(ran quote-client -v localhost "$Q_PORT")"
    [[ $stderr =~ sent\ \"[0-9a-f]{8}-1\"\ to\ \[::1\]:$Q_PORT, ]]
    [[ $stderr == *"quote-client: Connection refused, trying the next address"* ]]
    [[ $stderr =~ sent\ \"[0-9a-f]{8}-1\"\ to\ 127\.0\.0\.1:$Q_PORT, ]]
    stop_server "$Q_PID"
}

@test "stage 4: no listener and no ICMP (a black hole): four tries, each wait twice the last, then one line" {
    hint "wait for a reply with a timeout, send again with a doubled timeout, give up after the last try" "Loss, and what the client does about it"
    need_hosts
    local start ms
    start=$(date +%s%N)
    run --separate-stderr timeout "$(tmo 5)" "${ON_CLI[@]}" quote-client -v --timeout 20 "$HOLE_IP4" "$MPORT"
    ms=$(elapsed_ms "$start")
    # 20 + 40 + 80 + 160 ms of waiting, no less.
    [ "$ms" -ge 300 ] ||
        fail "quote-client --timeout 20 gave up after $ms ms: four tries that wait 20, 40, 80 and 160 ms take 300 ms at least
$(ran quote-client -v --timeout 20 "$HOLE_IP4" "$MPORT")"
    assert_failure 1
    assert_output ''
    assert_text "quote-client: try 1 of 4: sent \"TAG-1\" to $HOLE_IP4:$MPORT, waiting 20 ms
quote-client: no reply in 20 ms
quote-client: try 2 of 4: sent \"TAG-2\" to $HOLE_IP4:$MPORT, waiting 40 ms
quote-client: no reply in 40 ms
quote-client: try 3 of 4: sent \"TAG-3\" to $HOLE_IP4:$MPORT, waiting 80 ms
quote-client: no reply in 80 ms
quote-client: try 4 of 4: sent \"TAG-4\" to $HOLE_IP4:$MPORT, waiting 160 ms
quote-client: no reply in 160 ms
quote-client: no reply from $HOLE_IP4 port $MPORT after 4 tries" "$(sed -E 's/"[0-9a-f]{8}-/"TAG-/' <<<"$stderr")" \
        "quote-client -v's stderr (its run's tag shown as TAG)"
}

# ---- stage 5: loss, duplicates, reordering --------------------------------------------------------

@test "stage 5: the relay drops the first two requests: quote-client prints one quote after three tries" {
    hint "no reply within the timeout: send again, with a new tag, and wait twice as long" "Loss, and what the client does about it"
    local t=$((50 * KIT_SLOW)) start ms
    start_quote_server -f "$QUOTES"
    start_relay --up drop,drop
    start=$(date +%s%N)
    run --separate-stderr timeout "$(tmo 5)" quote-client -v --timeout "$t" 127.0.0.1 "$R_PORT"
    ms=$(elapsed_ms "$start")
    stop_server "$R_PID"
    assert_text "request 1 from CLIENT \"TAG-1\": dropped
request 2 from CLIENT \"TAG-2\": dropped
request 3 from CLIENT \"TAG-3\": passed
reply 1 to CLIENT \"TAG-3 first quote\": passed" \
        "$(sed -E 's/127\.0\.0\.1:[0-9]+/CLIENT/; s/"[0-9a-f]{8}-/"TAG-/' "$R_ERR")" \
        "the relay's log, a line per datagram (it drops the first two requests; the client's tag shown as TAG)"
    [ "$status" -eq 0 ] && [ "$output" = 'Quote of the Moment: first quote' ] ||
        fail "the relay dropped the first two requests and passed the third, and its reply: quote-client must print that quote
$(ran quote-client -v --timeout "$t" 127.0.0.1 "$R_PORT")"
    # Two waits, t and 2t, came before the third request went out.
    [ "$ms" -ge $((3 * t)) ] ||
        fail "the quote came after $ms ms: two waits of $t and $((2 * t)) ms come before the third try"
    assert_text "quote-client: try 1 of 4: sent \"TAG-1\" to 127.0.0.1:$R_PORT, waiting $t ms
quote-client: no reply in $t ms
quote-client: try 2 of 4: sent \"TAG-2\" to 127.0.0.1:$R_PORT, waiting $((2 * t)) ms
quote-client: no reply in $((2 * t)) ms
quote-client: try 3 of 4: sent \"TAG-3\" to 127.0.0.1:$R_PORT, waiting $((4 * t)) ms" \
        "$(sed -E 's/"[0-9a-f]{8}-/"TAG-/' <<<"$stderr")" "quote-client -v's stderr (its run's tag shown as TAG)"
    stop_server "$Q_PID"
}

@test "stage 5: a late reply to an earlier try is ignored; the reply to the latest try is taken" {
    hint "take only the reply whose tag is the latest request's: an older one is late, or a duplicate" "Loss, and what the client does about it"
    local t=$((100 * KIT_SLOW))
    start_quote_server -f "$QUOTES"
    # Reply 1 arrives 150 ms late, during the second try's wait; reply 2, 100 ms late.
    start_relay --down "delay=$((3 * t / 2)),delay=$t"
    run --separate-stderr timeout "$(tmo 5)" quote-client -v --timeout "$t" 127.0.0.1 "$R_PORT"
    [ "$status" -eq 0 ] && [ "$output" = 'Quote of the Moment: second quote' ] ||
        fail "the reply to try 1 (first quote) arrived late, during try 2's wait; only try 2's reply (second quote) may be printed:
$(ran quote-client -v --timeout "$t" 127.0.0.1 "$R_PORT")"
    assert_text "quote-client: try 1 of 4: sent \"TAG-1\" to 127.0.0.1:$R_PORT, waiting $t ms
quote-client: no reply in $t ms
quote-client: try 2 of 4: sent \"TAG-2\" to 127.0.0.1:$R_PORT, waiting $((2 * t)) ms
quote-client: ignored a reply that is not for \"TAG-2\": \"TAG-1 first quote\"" \
        "$(sed -E 's/"[0-9a-f]{8}-/"TAG-/g' <<<"$stderr")" \
        "quote-client -v's stderr (its run's tag shown as TAG)"
    stop_server "$R_PID"
    stop_server "$Q_PID"
}

@test "stage 5: through a relay that drops, duplicates and reorders at random (seeded), each run prints one right quote or its one line" {
    hint "whatever the network does, exactly one quote, the right one, or the one failure line" "Loss, and what the client does about it"
    local n ok=0 t=$((15 * KIT_SLOW))
    start_quote_server -q -f "$QUOTES"
    start_relay --seed 9 --drop 0.3 --dup 0.3 --reorder 0.2
    for n in $(seq 10); do
        run --separate-stderr timeout "$(tmo 5)" quote-client --timeout "$t" --retries 3 127.0.0.1 "$R_PORT"
        if [ "$status" -eq 0 ]; then
            [[ $output =~ ^Quote\ of\ the\ Moment:\ (first|second|third)\ quote$ ]] ||
                fail "run $n printed: $output"
            assert_equal "$stderr" ''
            ok=$((ok + 1))
        else
            assert_failure 1
            assert_output ''
            assert_equal "$stderr" "quote-client: no reply from 127.0.0.1 port $R_PORT after 4 tries"
        fi
    done
    # The relay did its job, and retrying got through most of it.
    grep -q ': dropped$' "$R_ERR"
    grep -q ': duplicated$' "$R_ERR"
    grep -q ': held back, to go after the next one$' "$R_ERR"
    [ "$ok" -ge 5 ] || fail "only $ok of 10 runs got a quote"
    stop_server "$R_PID"
    stop_server "$Q_PID"
}

# ---- stage 6: one socket for every client ---------------------------------------------------------

@test "stage 6: 1,000 clients at once each get their own quote, matched by tag (and --batch too)" {
    hint "one socket serves every client: answer each datagram to the address it came from" "One socket, every client"
    local batch
    for batch in '' --batch; do
        start_quote_server -q -f "$QUOTES" ${batch:+"$batch"}
        run timeout "$(tmo 20)" python3 "$PEERS/udp_clients.py" --clients 1000 \
            --timeout $((100 * KIT_SLOW)) 127.0.0.1 "$Q_PORT" "$QUOTES"
        assert_success
        assert_output --regexp '^clients 1000, answered 1000, wrong 0, tries [0-9]+, distinct quotes 3$'
        stop_server "$Q_PID"
    done
}

@test "stage 6: -b 0.0.0.0 answers from the address each request came to (127.0.0.2 here)" {
    hint "a wildcard-bound server must reply from the address the client wrote to (IP_PKTINFO), or a connected client drops the reply" "One socket, every client"
    local batch
    for batch in '' --batch; do
        start_quote_server -b 0.0.0.0 -f "$QUOTES" ${batch:+"$batch"}
        assert_equal "$SERVER_ENDPOINT" "0.0.0.0:$Q_PORT"
        # A socket that is not connected takes the reply from any address, and says which.
        run timeout "$(tmo 5)" python3 "$PEERS/udp_peer.py" --from 127.0.0.2 "$Q_PORT" tag
        [ "$output" = "15 \"tag first quote\" from 127.0.0.2:$Q_PORT" ] ||
            fail "quote-server -b 0.0.0.0${batch:+ $batch}: a request sent to 127.0.0.2:$Q_PORT must be answered from 127.0.0.2:$Q_PORT, or a client that connect()ed there drops the reply; the reply: ${output:-none}"
        run --separate-stderr timeout "$(tmo 5)" quote-client --timeout "$((200 * KIT_SLOW))" --retries 0 127.0.0.2 "$Q_PORT"
        [ "$status" -eq 0 ] && [ "$output" = 'Quote of the Moment: second quote' ] ||
            fail "quote-client must print the quote from 127.0.0.2:
$(ran quote-client --retries 0 127.0.0.2 "$Q_PORT")"
        stop_server "$Q_PID"
    done
}

@test "stage 6: -b :: is dual-stack: clients over IPv6 and IPv4 alike" {
    hint "-b :: binds an IPv6 socket with IPV6_V6ONLY off: IPv4 clients come as ::ffff:127.0.0.1" "One socket, every client"
    has_ipv6_loopback || skip "no IPv6 loopback (::1) on this machine"
    start_quote_server -b :: -f "$QUOTES"
    assert_equal "$SERVER_ENDPOINT" "[::]:$Q_PORT"
    run timeout "$(tmo 5)" quote-client ::1 "$Q_PORT"
    assert_output 'Quote of the Moment: first quote'
    run timeout "$(tmo 5)" quote-client 127.0.0.1 "$Q_PORT"
    assert_output 'Quote of the Moment: second quote'
    stop_server "$Q_PID"
    run cat "$Q_ERR"
    assert_line --index 0 --regexp '^request from \[::1\]:[0-9]+ '
    # An IPv4 client seen by a dual-stack socket: an IPv4-mapped IPv6 address.
    assert_line --index 1 --regexp '^request from \[::ffff:127\.0\.0\.1\]:[0-9]+ '
}

# ---- stage 7: many datagrams per system call, and measuring ------------------------------------

@test "stage 7: echo-load --udp loads quote-server and its --batch mode: every reply checked" {
    hint "echo-load --udp counts a reply right when it starts with its request's bytes before the newline" "Batches: recvmmsg and sendmmsg"
    local batch
    for batch in '' --batch; do
        start_quote_server -q ${batch:+"$batch"}
        run timeout "$(tmo 10)" echo-load --udp -c 20 -w 2 -n 4000 127.0.0.1 "$Q_PORT"
        assert_success
        assert_line --index 0 'connections  20'
        assert_line --index 1 --regexp '^requests     4000 in [0-9]+\.[0-9]{2} s$'
        assert_line --index 5 'errors       0'
        assert_line --index 6 'lost         0 (no reply within 1000 ms)'
        stop_server "$Q_PID"
    done
}

@test "stage 7: echo-load --udp against socat's UDP echo, a peer that answers wrong, and nothing at all" {
    hint "echo-load --udp checks each reply against its request, and reports a refusal or a wrong reply in one line each" "Batches: recvmmsg and sendmmsg"
    local port script=$BATS_TEST_TMPDIR/wrong.sh
    port=$(free_udp_port)
    start_udp_peer "$port" socat "UDP4-RECVFROM:$port,bind=127.0.0.1,fork" PIPE
    run timeout "$(tmo 10)" echo-load --udp --csv -c 2 -n 20 127.0.0.1 "$port"
    assert_success
    assert_line --index 0 'connections,bytes,window,seconds,requests,requests_per_s,mb_per_s,p50_us,p90_us,p99_us,max_us,errors,lost'
    assert_line --index 1 --regexp '^2,64,1,[0-9.]+,20,[0-9]+,[0-9.]+,[0-9]+,[0-9]+,[0-9]+,[0-9]+,0,0$'
    port=$(free_udp_port)
    printf '#!/bin/sh\ncat >/dev/null\nprintf "garbage"\n' >"$script"
    chmod +x "$script"
    start_udp_peer "$port" socat "UDP4-RECVFROM:$port,bind=127.0.0.1,fork" "EXEC:$script"
    run --separate-stderr timeout "$(tmo 10)" echo-load --udp -n 1 127.0.0.1 "$port"
    assert_failure 1
    assert_line --index 5 'errors       1 (1 echoed wrong bytes)'
    assert_equal "$stderr" 'echo-load: connection 1: a reply of 7 bytes answers no request sent: "garbage"'
    port=$(free_udp_port)
    run --separate-stderr timeout "$(tmo 10)" echo-load --udp -c 2 -n 10 127.0.0.1 "$port"
    assert_failure 1
    assert_line --index 5 'errors       2'
    assert_equal "$stderr" "echo-load: connection 1: no reply from 127.0.0.1 port $port: Connection refused
echo-load: connection 2: no reply from 127.0.0.1 port $port: Connection refused"
    run --separate-stderr echo-load --udp -s 65508 h 1
    assert_failure 2
    assert_equal "${stderr%%$'\n'*}" 'echo-load: -s must be at most 65507 with --udp (one datagram): 65508'
}

# ---- stage 8: multicast ---------------------------------------------------------------------------

# start_bg NAME REGEX CMD... - CMD in the background, stdout in $BATS_TEST_TMPDIR/NAME.out and
# stderr in NAME.err; waits (bounded) until a line of either matches REGEX; sets BG_PID.
start_bg() {
    local regex=$2 out=$BATS_TEST_TMPDIR/$1.out err=$BATS_TEST_TMPDIR/$1.err n=0
    shift 2
    "$@" >"$out" 2>"$err" </dev/null 3>&- &
    BG_PID=$!
    KIT_SERVER_PIDS+=("$BG_PID")
    until grep -qE "$regex" "$out" "$err"; do
        [ $((n += 1)) -le $((100 * KIT_SLOW)) ] || fail "$*: no line matching '$regex': $(cat "$out" "$err")"
        sleep 0.05
    done
}

@test "stage 8: multicast on loopback: two clients both receive every quote, then leave" {
    hint "join with MCAST_JOIN_GROUP on the interface; several clients bind the same group and port with SO_REUSEADDR" "Multicast"
    need_hosts
    local status=0 want
    start_bg a "^joined " "${ON_LO[@]}" quote-multicast-client -i lo --count 3 --timeout 5000 "$MPORT"
    local pid_a=$BG_PID
    start_bg b "^joined " "${ON_LO[@]}" quote-multicast-client -i lo --count 3 --timeout 5000 "$MPORT"
    local pid_b=$BG_PID
    run --separate-stderr timeout "$(tmo 5)" "${ON_LO[@]}" quote-multicast-server -i lo -f "$QUOTES" --interval 20 --count 3 "$MPORT"
    assert_success
    assert_output "sending to 239.255.0.1:$MPORT on lo every 20 ms"
    assert_equal "$stderr" "sent quote 1 (11 bytes)
sent quote 2 (12 bytes)
sent quote 3 (11 bytes)"
    want='Quote of the Moment: first quote
Quote of the Moment: second quote
Quote of the Moment: third quote'
    wait_exit "$pid_a" 5 || status=$?
    assert_equal "$status" 0
    wait_exit "$pid_b" 5 || status=$?
    assert_equal "$status" 0
    run cat "$BATS_TEST_TMPDIR/a.out"
    assert_output "$want"
    run cat "$BATS_TEST_TMPDIR/b.out"
    assert_output "$want"
    run cat "$BATS_TEST_TMPDIR/a.err"
    assert_output "joined 239.255.0.1:$MPORT on lo
left 239.255.0.1:$MPORT on lo"
}

# igmp_users HEX - how many sockets of the "lo" host are members of group HEX, as
# /proc/net/igmp writes it (239.255.0.1 is 0100FFEF); nothing once none is.
igmp_users() {
    # shellcheck disable=SC2016 # $1 and $2 are awk's fields, not the shell's
    "${ON_LO[@]}" awk -v g="$1" '$1 == g { print $2 }' /proc/net/igmp
}

@test "stage 8: a client that leaves the group stops receiving: the host's membership count drops" {
    hint "leave the group (MCAST_LEAVE_GROUP) when done, and on SIGTERM, before exiting 0" "Multicast"
    need_hosts
    local status=0 group=0100FFEF # 239.255.0.1 as /proc/net/igmp writes it
    start_bg a "^joined " "${ON_LO[@]}" quote-multicast-client -i lo --count 1 --timeout 5000 "$MPORT"
    local pid_a=$BG_PID
    start_bg b "^joined " "${ON_LO[@]}" quote-multicast-client -i lo --count 100000 "$MPORT"
    local pid_b=$BG_PID
    run igmp_users "$group"
    assert_output 2
    start_bg m '^sending to ' "${ON_LO[@]}" quote-multicast-server -q -i lo -f "$QUOTES" --interval 20 "$MPORT"
    local pid_m=$BG_PID
    # a has its quote and leaves; b is still a member, and stays one until SIGTERM.
    wait_exit "$pid_a" 5 || status=$?
    assert_equal "$status" 0
    run igmp_users "$group"
    assert_output 1
    kill -TERM "$pid_b"
    wait_exit "$pid_b" 5 || status=$?
    assert_equal "$status" 0
    run igmp_users "$group"
    assert_output ''
    stop_server "$pid_m"
    run cat "$BATS_TEST_TMPDIR/a.out"
    assert_output 'Quote of the Moment: first quote'
    run head -n 1 "$BATS_TEST_TMPDIR/b.out"
    assert_output 'Quote of the Moment: first quote'
}

@test "stage 8: multicast across two hosts over a veth, IPv4 and IPv6 (ff12::, link scope)" {
    hint "the same code for IPv4 and IPv6: MCAST_JOIN_GROUP takes a sockaddr of either family and the interface's index" "Multicast"
    need_hosts
    local group status
    for group in 239.255.0.1 ff12::4446; do
        status=0
        start_bg c "^joined " "${ON_CLI[@]}" quote-multicast-client -g "$group" -i veth0 --count 2 --timeout 5000 "$MPORT"
        local pid_c=$BG_PID
        run timeout "$(tmo 5)" "${ON_SRV[@]}" quote-multicast-server -q -g "$group" -i veth0 -f "$QUOTES" --interval 20 --count 2 "$MPORT"
        assert_success
        wait_exit "$pid_c" 5 || status=$?
        assert_equal "$status" 0
        run cat "$BATS_TEST_TMPDIR/c.out"
        assert_output 'Quote of the Moment: first quote
Quote of the Moment: second quote'
    done
    run cat "$BATS_TEST_TMPDIR/c.err"
    assert_output "joined [ff12::4446]:$MPORT on veth0
left [ff12::4446]:$MPORT on veth0"
}

@test "stage 8: no route for the group and no -i: 'Network is unreachable', 'No such device'; a silent group times out" {
    hint "without -i the routing table picks the interface; a host with no route for 224.0.0.0/4 has none to give" "Multicast"
    need_hosts
    run --separate-stderr timeout "$(tmo 5)" "${ON_LO[@]}" quote-multicast-server --count 1 "$MPORT"
    assert_failure 1
    assert_equal "$stderr" "quote-multicast-server: cannot send to 239.255.0.1:$MPORT: Network is unreachable"
    run --separate-stderr timeout "$(tmo 5)" "${ON_LO[@]}" quote-multicast-client "$MPORT"
    assert_failure 1
    assert_output ''
    assert_equal "$stderr" "quote-multicast-client: cannot join 239.255.0.1:$MPORT: No such device"
    run --separate-stderr timeout "$(tmo 5)" "${ON_LO[@]}" quote-multicast-client -i nosuch0 "$MPORT"
    assert_failure 1
    assert_equal "$stderr" "quote-multicast-client: no interface named nosuch0"
    run --separate-stderr timeout "$(tmo 5)" "${ON_LO[@]}" quote-multicast-client -i lo --timeout 100 "$MPORT"
    assert_failure 1
    assert_equal "$stderr" "joined 239.255.0.1:$MPORT on lo
left 239.255.0.1:$MPORT on lo
quote-multicast-client: no quote from 239.255.0.1:$MPORT in 100 ms"
}

@test "stage 8: SIGTERM: a waiting multicast client leaves and exits 0, and so does the server" {
    hint "SIGTERM while waiting: leave the group, close, exit 0; the server too" "Multicast"
    need_hosts
    local status=0
    start_bg a "^joined " "${ON_LO[@]}" quote-multicast-client -i lo "$MPORT"
    local pid_a=$BG_PID
    kill -TERM "$pid_a"
    wait_exit "$pid_a" 5 || status=$?
    assert_equal "$status" 0
    run cat "$BATS_TEST_TMPDIR/a.err"
    assert_output "joined 239.255.0.1:$MPORT on lo
left 239.255.0.1:$MPORT on lo"
    start_bg m '^sent quote 1 ' "${ON_LO[@]}" quote-multicast-server -i lo "$MPORT"
    local pid_m=$BG_PID
    stop_server "$pid_m"
}
