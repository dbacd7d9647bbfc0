#!/usr/bin/env bash
# demo.sh - `make run` (a short tour of the lesson) and `make trace` (demo.sh --trace: the
# system calls of the event loop serving two clients, under strace).
#
# Every server starts on port 0 and is stopped by its PID with SIGTERM; every client runs
# under timeout. Nothing outlives the script.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=SCRIPTDIR/../../common/listening.sh
source ../../common/listening.sh

work=$(mktemp -d)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# start OUT PROG ARGS... - start a server (stdout to OUT, stderr to OUT.err); wait for its
# "listening on" line; set pid and port.
start() {
    local out=$1
    shift
    "$@" >"$out" 2>"$out.err" </dev/null &
    pid=$!
    pids+=("$pid")
    port=$(kit_wait_port "$out" "$pid") || { echo "demo: $* did not start" >&2 && exit 1; }
}

# stop PID - SIGTERM, then wait for it; print its exit status.
stop() {
    local status=0
    kill -TERM "$1"
    wait "$1" || status=$?
    echo "(exit status $status)"
}

tour() {
    local kk_client=../04-knock-knock/kk-client
    echo '$ ./echo-event-server 0 &'
    start "$work/echo" ./echo-event-server 0
    cat "$work/echo"
    if command -v nc >/dev/null 2>&1; then # installed by "make deps"; the tour needs only cc
        printf '$ printf '"'hello\\\\nworld\\\\n'"' | nc -N 127.0.0.1 %s\n' "$port"
        printf 'hello\nworld\n' | timeout 5 nc -N 127.0.0.1 "$port"
    fi
    echo "\$ bench/echo-bench -c 1000 -n 20 127.0.0.1 $port    # 1,000 clients at once"
    timeout 30 bench/echo-bench -c 1000 -n 20 127.0.0.1 "$port"
    echo "\$ kill -TERM %1"
    stop "$pid"
    echo "the server's stderr: $(grep -c '^connection from' "$work/echo.err") 'connection from'" \
        "lines, $(grep -c '^closed' "$work/echo.err") 'closed' lines; the first two:"
    head -2 "$work/echo.err"
    if [ -x "$kk_client" ]; then
        echo
        echo '$ ./kk-event-server -q 0 &'
        start "$work/kk" ./kk-event-server -q 0
        cat "$work/kk"
        printf '%s\n' "\$ printf '%s\\n' \"Who's there?\" \"Turnip who?\" n | $kk_client localhost $port"
        printf '%s\n' "Who's there?" "Turnip who?" n | timeout 5 "$kk_client" localhost "$port"
        echo "\$ kill -TERM %1"
        stop "$pid"
    fi
}

trace() {
    local server
    start "$work/trace" strace -f -o "$work/strace" \
        -e trace=listen,epoll_create1,signalfd4,epoll_ctl,epoll_wait,accept4,read,sendto,close \
        ./echo-event-server -q 0
    # Two clients at once: A says hello and stays; B says hi and half-closes; then A leaves.
    timeout 5 python3 -c '
import socket, sys
addr = ("127.0.0.1", int(sys.argv[1]))
a = socket.create_connection(addr)
a.sendall(b"hello\n")
a.recv(100)
b = socket.create_connection(addr)
b.sendall(b"hi\n")
b.shutdown(socket.SHUT_WR)
while b.recv(100):
    pass
a.close()
' "$port"
    # Wait (bounded) until the server has closed both, then SIGTERM the server itself (the
    # child of strace: signalled by its PID, strace reports it and exits with it).
    for _ in $(seq 1 100); do
        [ "$(grep -cE '^[0-9]+ +close\([67]\)' "$work/strace")" -ge 2 ] && break
        sleep 0.05
    done
    server=$(ps -o pid= --ppid "$pid" | tr -d ' ')
    kill -TERM "$server"
    wait "$pid" || true
    # The loop's calls from listen() on, without the pid column and epoll's pointer values.
    sed -n '/listen(/,$p' "$work/strace" | sed -E 's/^[0-9]+ +//; s/data=\{u32=[0-9]+, u64=([0-9]+)\}/data=\1/' |
        grep -v '^+++'
}

if [ "${1:-}" = --trace ]; then
    trace
else
    tour
fi
