#!/usr/bin/env bash
# demo.sh [--trace] - lesson 07's scripted demo (make run) or its system-call trace (make trace).
# Starts echo-event-server on port 0, runs echo-load against it, stops the server by its PID.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=SCRIPTDIR/../../common/listening.sh
source ../../common/listening.sh

server=../06-event-loop/echo-event-server
[ -x "$server" ] || server=../03-echo-server/echo-server
work=$(mktemp -d)
"$server" -q 0 >"$work/out" </dev/null &
pid=$!
cleanup() {
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

port=$(kit_wait_port "$work/out" "$pid") || { echo "demo: $server did not start" >&2; exit 1; }
echo "\$ $server -q 0 &"
cat "$work/out"

show() { # show ARGS... - print the command line, run it, print its exit status
    echo
    echo "\$ $*"
    "$@" 2>&1 && echo "(exit 0)" || echo "(exit $?)"
}

if [ "${1:-}" = --trace ]; then
    command -v strace >/dev/null || { echo "demo: strace is not installed" >&2; exit 1; }
    show strace -e trace=network,epoll_create1,epoll_ctl,epoll_pwait ./echo-load -w 2 -n 3 \
        127.0.0.1 "$port"
    exit 0
fi
show ./echo-load -n 10000 127.0.0.1 "$port"
show ./echo-load -c 100 -d 1 127.0.0.1 "$port"
show ./echo-load -s 65536 -w 64 -d 1 127.0.0.1 "$port"
# A port nobody listens on (python3 asks the kernel for a free one; "make deps" installs it).
if command -v python3 >/dev/null 2>&1; then
    refused=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    show ./echo-load -c 2 -n 10 127.0.0.1 "$refused"
fi
