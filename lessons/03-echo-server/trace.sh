#!/usr/bin/env bash
# trace.sh - `make trace` for lesson 03: the system calls of echo-server --once serving
# one client that sends two lines a moment apart, then half-closes (nc -N).
set -euo pipefail
cd "$(dirname "$0")"
command -v strace >/dev/null ||
    { echo "trace.sh: strace is not installed (it is Linux's; see the README for macOS)" >&2; exit 1; }

out=$(mktemp)
log=$(mktemp)
trap 'rm -f "$out" "$log"' EXIT
strace -o "$log" -e trace=pipe2,socket,fcntl,setsockopt,bind,listen,accept,rt_sigprocmask,poll,read,write,sendto,close \
    ./echo-server --once 0 >"$out" 2>/dev/null &
pid=$!
for _ in $(seq 200); do
    grep -q '^listening on ' "$out" && break
    sleep 0.05
done
port=$(sed -n 's/^listening on .*://p' "$out")
{ echo hello; sleep 0.2; echo world; } | nc -N 127.0.0.1 "$port" >/dev/null
wait "$pid"
echo "\$ strace -e trace=pipe2,socket,fcntl,setsockopt,bind,listen,accept,rt_sigprocmask,poll,read,write,sendto,close \\"
echo "      ./echo-server --once 0    # and: { echo hello; sleep 0.2; echo world; } | nc -N ..."
# From sig_setup_stop()'s pipe() on (pipe2 with flags 0, on Linux): what came before is the dynamic loader opening libc.
sed -n '/^pipe/,$p' "$log"
