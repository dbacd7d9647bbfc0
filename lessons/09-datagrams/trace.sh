#!/usr/bin/env bash
# trace.sh - `make trace` for lesson 09: the system calls of one request and its reply, on
# both sides (quote-server answering, quote-client asking), then quote-client asking a port
# where nothing listens.
set -euo pipefail
cd "$(dirname "$0")"
command -v strace >/dev/null || { echo "trace.sh: strace is not installed" >&2; exit 1; }
command -v python3 >/dev/null || { echo "trace.sh: python3 is not installed" >&2; exit 1; }
# shellcheck source=SCRIPTDIR/../../common/listening.sh
source ../../common/listening.sh

work=$(mktemp -d)
pid=
cleanup() {
    [ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null || true
    [ -z "$pid" ] || wait "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

server_calls=socket,setsockopt,bind,poll,recvmsg,sendmsg,close
client_calls=socket,connect,sendto,poll,recvmsg,close
strace -o "$work/server" -e trace="$server_calls" ./quote-server -q 0 >"$work/out" 2>/dev/null &
pid=$!
port=$(kit_wait_port "$work/out" "$pid") || { echo "trace.sh: quote-server did not start" >&2; exit 1; }
strace -o "$work/client" -e trace="$client_calls" ./quote-client 127.0.0.1 "$port" >"$work/quote"
# SIGTERM to the server itself, strace's child: strace ends when its tracee has.
kill -TERM "$(ps -o pid= --ppid "$pid")"
wait "$pid" || true
pid=

echo "\$ strace -e trace=$client_calls ./quote-client 127.0.0.1 $port"
# From the first socket() on: what came before is the dynamic loader opening libc.
sed -n '/^socket(/,$p' "$work/client"
cat "$work/quote"
echo
echo "\$ strace -e trace=$server_calls ./quote-server -q 0   # the same request, seen by the server"
sed -n '/^socket(/,$p' "$work/server"
echo
free=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "\$ strace -e trace=$client_calls ./quote-client 127.0.0.1 $free   # nothing listens there"
strace -o "$work/refused" -e trace="$client_calls" ./quote-client 127.0.0.1 "$free" 2>/dev/null || true
sed -n '/^socket(/,$p' "$work/refused"
