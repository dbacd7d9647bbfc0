#!/usr/bin/env bats
# tests/90-two-hosts.bats - the tutorial's client and server on two different hosts, for real.
#
# Two network namespaces are two hosts as far as TCP is concerned: each has its own
# interfaces, addresses, loopback and ports. A veth pair is the cable between them:
#
#     host "srv" (ns kit-srv-PID)                host "cli" (ns kit-cli-PID)
#     lo 127.0.0.1                               lo 127.0.0.1
#     veth 10.200.0.1/24, fd00:c0de::1/64  <-->  veth 10.200.0.2/24, fd00:c0de::2/64
#
# The addresses exist only inside the two namespaces. Runs as root where `ip netns` works;
# elsewhere every test is skipped with the reason. The namespaces are removed in
# teardown_file, which bats runs even when a test fails (a test below checks exactly that).

load test_helper

SRV_IP4=10.200.0.1
CLI_IP4=10.200.0.2
SRV_IP6=fd00:c0de::1
CLI_IP6=fd00:c0de::2

# ---- the two hosts ----------------------------------------------------------------------

# two_hosts_up PREFIX - namespaces PREFIX-srv and PREFIX-cli joined by a veth pair, loopback
# up in both. On failure, removes what it made and prints why.
two_hosts_up() {
    local srv=$1-srv cli=$1-cli
    {
        ip netns add "$srv" &&
            ip netns add "$cli" &&
            # Both ends are created inside the namespaces: no name ever lands on the real host.
            ip link add veth0 netns "$srv" type veth peer name veth0 netns "$cli" &&
            ip -n "$srv" link set lo up && ip -n "$cli" link set lo up &&
            ip -n "$srv" addr add "$SRV_IP4/24" dev veth0 &&
            ip -n "$cli" addr add "$CLI_IP4/24" dev veth0 &&
            # nodad: the IPv6 addresses are usable at once, not "tentative" for a second or two.
            ip -n "$srv" addr add "$SRV_IP6/64" dev veth0 nodad &&
            ip -n "$cli" addr add "$CLI_IP6/64" dev veth0 nodad &&
            ip -n "$srv" link set veth0 up && ip -n "$cli" link set veth0 up
    } 2>&1 || {
        two_hosts_down "$1"
        return 1
    }
}

# two_hosts_down PREFIX - delete both namespaces (the veth pair goes with them).
two_hosts_down() {
    ip netns del "$1-srv" 2>/dev/null || true
    ip netns del "$1-cli" 2>/dev/null || true
}

setup_file() {
    # Unique per bats run: parallel runs of the suite never share a namespace.
    export NET=kit-$BATS_ROOT_PID
    export SRV=$NET-srv CLI=$NET-cli
    # bats 1.8 cannot skip from setup_file: the reason is handed to setup(), which skips.
    export TWO_HOSTS_SKIP=
    local why
    if [ "$(id -u)" -ne 0 ]; then
        TWO_HOSTS_SKIP="creating network namespaces needs root"
    elif ! command -v ip >/dev/null 2>&1; then
        TWO_HOSTS_SKIP="ip (iproute2) is not installed"
    elif ! why=$(two_hosts_up "$NET"); then
        TWO_HOSTS_SKIP="ip netns does not work here: ${why//$'\n'/ }"
    fi
}

teardown_file() {
    two_hosts_down "$NET"
}

# Run a program on one host: "${ON_SRV[@]}" PROG ARGS... (the PATH wrappers work there too).
# An array, not a function, so `timeout` and start_server can run it: ip netns exec then
# execs PROG in place, and the PID a test holds is the program's own.
setup() {
    kit_setup
    [ -z "$TWO_HOSTS_SKIP" ] || skip "$TWO_HOSTS_SKIP"
    ON_SRV=(ip netns exec "$SRV")
    ON_CLI=(ip netns exec "$CLI")
}

# ---- who can reach the server --------------------------------------------------------------

@test "two hosts: each namespace has its own address and reaches the other over the veth" {
    run "${ON_CLI[@]}" ip -4 -o addr show dev veth0
    assert_success
    assert_output --partial "inet $CLI_IP4/24"
    run "${ON_SRV[@]}" ip -4 -o addr show dev veth0
    assert_output --partial "inet $SRV_IP4/24"
    # The server host's loopback is its own: nothing of the client host's is on it.
    run "${ON_CLI[@]}" ip -4 -o addr show
    refute_output --partial "$SRV_IP4"
}

@test "two hosts: echo-server -b 0.0.0.0 is reachable from the other host" {
    start_server "${ON_SRV[@]}" echo-server -b 0.0.0.0 0
    assert_equal "$SERVER_ENDPOINT" "0.0.0.0:$SERVER_PORT"
    run timeout "$(tmo 5)" "${ON_CLI[@]}" echo-client "$SRV_IP4" "$SERVER_PORT" <<<$'hello from the other host\nsecond line'
    assert_success
    assert_output $'echo: hello from the other host\necho: second line'
    # The server saw the client host's address, not a loopback one.
    stop_server
    run grep -c "^connection from $CLI_IP4:[0-9]*$" "$SERVER_ERR"
    assert_output 1
}

@test "two hosts: echo-server with its default loopback bind refuses the other host" {
    start_server "${ON_SRV[@]}" echo-server 0
    assert_equal "$SERVER_ENDPOINT" "127.0.0.1:$SERVER_PORT"
    run timeout "$(tmo 5)" "${ON_CLI[@]}" echo-client "$SRV_IP4" "$SERVER_PORT" <<<'anyone there?'
    assert_failure 1
    assert_output "echo-client: cannot connect to $SRV_IP4 port $SERVER_PORT: Connection refused"
    # The server is up all the while: on its own host, through loopback, it answers.
    run timeout "$(tmo 5)" "${ON_SRV[@]}" echo-client 127.0.0.1 "$SERVER_PORT" <<<'from the same host'
    assert_success
    assert_output 'echo: from the same host'
    stop_server
}

@test "two hosts: echo-server -b :: serves the other host over IPv6 and IPv4 alike" {
    start_server "${ON_SRV[@]}" echo-server -b :: 0
    assert_equal "$SERVER_ENDPOINT" "[::]:$SERVER_PORT"
    run timeout "$(tmo 5)" "${ON_CLI[@]}" echo-client "$SRV_IP6" "$SERVER_PORT" <<<'over IPv6'
    assert_success
    assert_output 'echo: over IPv6'
    run timeout "$(tmo 5)" "${ON_CLI[@]}" echo-client "$SRV_IP4" "$SERVER_PORT" <<<'over IPv4'
    assert_success
    assert_output 'echo: over IPv4'
    stop_server
    run grep -c "^connection from \[$CLI_IP6\]:[0-9]*$" "$SERVER_ERR"
    assert_output 1
    # A dual-stack socket sees an IPv4 client as an IPv4-mapped IPv6 address.
    run grep -c "^connection from \[::ffff:$CLI_IP4\]:[0-9]*$" "$SERVER_ERR"
    assert_output 1
}

@test "two hosts: kk-client and kk-server --once tell the whole joke cycle across the hosts" {
    start_server "${ON_SRV[@]}" kk-server -b 0.0.0.0 --once 0
    local answers=("Who's there?" "Turnip who?" y "Who's there?" "Little Old Lady who?" y
        "Who's there?" "Atch who?" y "Who's there?" "Who who?" y "Who's there?" "Who who?" y
        "Who's there?" "Turnip who?" n)
    run timeout "$(tmo 10)" "${ON_CLI[@]}" kk-client "$SRV_IP4" "$SERVER_PORT" < <(printf '%s\n' "${answers[@]}")
    assert_success
    assert_equal "${#lines[@]}" 37
    assert_equal "${lines[0]}" "Server: Knock! Knock!"
    assert_equal "${lines[1]}" "Client: Who's there?"
    assert_equal "${lines[2]}" "Server: Turnip"
    assert_equal "${lines[4]}" "Server: Turnip the heat, it's cold in here! Want another? (y/n)"
    assert_equal "${lines[35]}" "Client: n"
    assert_equal "${lines[36]}" "Server: Bye."
    # Not `run wait_exit`: run's subshell cannot wait for the server, a child of this shell.
    local status=0
    wait_exit "$SERVER_PID" 5 || status=$?
    assert_equal "$status" 0
}

@test "two hosts: kk-client is refused by a kk-server bound to loopback only" {
    start_server "${ON_SRV[@]}" kk-server 0
    run timeout "$(tmo 5)" "${ON_CLI[@]}" kk-client "$SRV_IP4" "$SERVER_PORT" </dev/null
    assert_failure 1
    assert_output "kk-client: cannot connect to $SRV_IP4 port $SERVER_PORT: Connection refused"
    stop_server
}

# ---- the cleanup itself ------------------------------------------------------------------------

@test "two hosts: the namespaces are removed even when a test fails" {
    local prefix=kit-$BATS_ROOT_PID-meta$BATS_TEST_NUMBER dir=$BATS_TEST_TMPDIR
    # A tiny suite with this file's own two_hosts_up/two_hosts_down and a failing test.
    {
        declare -p SRV_IP4 CLI_IP4 SRV_IP6 CLI_IP6
        declare -f two_hosts_up two_hosts_down
        cat <<EOF
setup_file() { two_hosts_up $prefix; }
teardown_file() { two_hosts_down $prefix; }
EOF
        # Spelled with printf: bats would take a literal test line in this file for its own.
        printf '@%s "fails after the hosts exist" {\n' test
        printf '    ip netns list >"%s/during"\n    false\n}\n' "$dir"
    } >"$dir/failing.bats"
    # A clean environment: the outer bats's variables and PATH would confuse the inner one.
    run env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$HOME" timeout "$(tmo 30)" bats --tap "$dir/failing.bats"
    assert_failure 1
    assert_line "not ok 1 fails after the hosts exist"
    run grep -c "^$prefix-\(srv\|cli\)\b" "$dir/during"
    assert_output 2
    run ip netns list
    refute_output --partial "$prefix"
}
