#!/usr/bin/env bash
# demo.sh - `make run` for lesson 02: echo-client against lesson 03's echo-server (built if
# needed) started on a free port; then the same client once the server is gone.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=SCRIPTDIR/../../common/listening.sh
source ../../common/listening.sh
server=../03-echo-server/echo-server
[ -x "$server" ] || make -s -C ../03-echo-server >/dev/null

out=$(mktemp)
"$server" -q 0 >"$out" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
# "listening on ADDR:PORT" tells the port the kernel chose.
port=$(kit_wait_port "$out" "$pid") || { echo "demo.sh: echo-server did not start" >&2; exit 1; }

echo "\$ $server -q 0 &"
cat "$out"
echo
printf '%s\n' "\$ printf 'hello\\n\\nCRLF line\\r\\nno newline' | ./echo-client localhost $port"
printf 'hello\n\nCRLF line\r\nno newline' | ./echo-client localhost "$port"
echo
printf '%s\n' "\$ seq 100000 | ./echo-client 127.0.0.1 $port | tail -1"
seq 100000 | ./echo-client 127.0.0.1 "$port" | tail -1
echo
kill -TERM "$pid"
wait "$pid"
echo "\$ kill -TERM %1   # stop the server"
echo "\$ echo hello | ./echo-client 127.0.0.1 $port   # nobody listens now"
status=0
echo hello | ./echo-client 127.0.0.1 "$port" 2>&1 || status=$?
echo "(exit status $status)"
