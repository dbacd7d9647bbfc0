#!/usr/bin/env bash
# demo.sh - `make run`: a short tour of the lesson. echo-poll-server, then echo-event-server,
# each with a few clients, 1,000 clients at once, and 100 busy clients beside thousands of
# idle ones; then kk-event-server with lesson 04's client.
#
# Every command it prints can be typed as it is in this directory, one after the other, in
# an interactive shell: the servers start in the background and are stopped by their PID
# ("$pid", set by the line printed after them). Every client runs under timeout; nothing
# outlives the script.
# shellcheck disable=SC2016 # the printed commands hold $ for the learner's shell, not ours
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=SCRIPTDIR/../../common/listening.sh
source ../../common/listening.sh

KK_CLIENT=../04-knock-knock/kk-client
work=$(mktemp -d)
pid=
log=
cleanup() {
    [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
    [ -z "$log" ] || rm -f "$log"
    rm -rf "$work"
}
trap cleanup EXIT

# say COMMAND - print COMMAND as typed at a prompt.
say() {
    printf '$ %s\n' "$1"
}

# start PROG ARGS... - start a server in the background, its log in $log (or nowhere with
# -q); wait for its "listening on" line; set pid and port.
start() {
    local out=$work/out
    if [ "$2" = -q ]; then
        say "$* &"
        "$@" >"$out" </dev/null &
    else
        say 'log=$(mktemp)'
        log=$(mktemp)
        say "$* 2>\"\$log\" &"
        "$@" >"$out" 2>"$log" </dev/null &
    fi
    pid=$!
    say 'pid=$!'
    port=$(kit_wait_port "$out" "$pid") || { echo "demo: $* did not start" >&2 && exit 1; }
    cat "$out"
}

# stop - SIGTERM to the server, wait for it, print its exit status.
stop() {
    local status=0
    say 'kill -TERM "$pid"; wait "$pid"; echo "exit status $?"'
    kill -TERM "$pid"
    wait "$pid" || status=$?
    pid=
    echo "exit status $status"
}

# bench ARGS... - bench/echo-bench ARGS against the server, printed first.
bench() {
    say "bench/echo-bench $* 127.0.0.1 $port"
    timeout 60 bench/echo-bench "$@" 127.0.0.1 "$port"
}

# Idle connections for the poll/epoll comparison: 5,000, or fewer under a low limit on
# open files (the client holds one descriptor per connection, the server too).
idle=5000
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt $((idle + 300)) ]; then
    idle=$((hard - 300))
fi

# busy_beside_idle - the same 100 busy clients alone, then beside $idle idle ones.
busy_beside_idle() {
    bench -c 100 -d 1
    bench -c 100 -i "$idle" -d 1
}

echo "# echo-poll-server: one thread, poll() over an array of every socket"
start ./echo-poll-server 0
if command -v nc >/dev/null 2>&1; then # installed by "make deps"; the tour needs only cc
    say "printf 'hello\\nworld\\n' | nc -N 127.0.0.1 $port"
    printf 'hello\nworld\n' | timeout 5 nc -N 127.0.0.1 "$port"
fi
bench -c 1000 -n 20
busy_beside_idle
stop
say 'grep -c "^connection from" "$log"; head -2 "$log"'
grep -c "^connection from" "$log"
head -2 "$log"
rm -f "$log"
log=

echo
echo "# echo-event-server: one thread, epoll: the same clients"
start ./echo-event-server -q 0
bench -c 1000 -n 20
busy_beside_idle
stop

if [ -x "$KK_CLIENT" ]; then
    echo
    echo "# kk-event-server: lesson 04's Knock Knock on the same loop"
    start ./kk-event-server -q 0
    say "printf '%s\\n' \"Who's there?\" \"Turnip who?\" n | $KK_CLIENT localhost $port"
    printf '%s\n' "Who's there?" "Turnip who?" n | timeout 5 "$KK_CLIENT" localhost "$port"
    stop
fi
