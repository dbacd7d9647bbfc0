#!/usr/bin/env bash
# trace.sh - `make trace` for lesson 02: the system calls of echo-client sending two lines a
# moment apart to lesson 03's echo-server: connect, a write/read pair per line, shutdown.
set -euo pipefail
cd "$(dirname "$0")"
command -v strace >/dev/null || { echo "trace.sh: strace is not installed" >&2; exit 1; }
server=../03-echo-server/echo-server
[ -x "$server" ] || make -s -C ../03-echo-server >/dev/null

out=$(mktemp)
log=$(mktemp)
"$server" -q 0 >"$out" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$out" "$log"' EXIT
for _ in $(seq 100); do
    grep -q '^listening on ' "$out" && break
    sleep 0.05
done
port=$(sed -n 's/^listening on .*://p' "$out")

{ echo hello; sleep 0.2; echo world; sleep 0.2; } |
    strace -o "$log" -e trace=socket,connect,poll,ppoll,pselect6,read,write,sendto,shutdown,close \
        ./echo-client 127.0.0.1 "$port" >/dev/null
echo "\$ { echo hello; sleep 0.2; echo world; sleep 0.2; } |"
echo "      strace -e trace=socket,connect,poll,ppoll,pselect6,read,write,sendto,shutdown,close \\"
echo "      ./echo-client 127.0.0.1 $port"
# From the first socket() on: what came before is the dynamic loader opening libc.
sed -n '/^socket(/,$p' "$log"
kill -TERM "$pid"
wait "$pid"
