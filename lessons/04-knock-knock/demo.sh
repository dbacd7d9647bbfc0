#!/usr/bin/env bash
# demo.sh [--trace] - lesson 04's scripted demo (make run): kk-server --once on a free port,
# kk-client telling all five jokes and the first again. With --trace (make trace): the same
# conversation, shortened, with the server's network system calls shown by strace.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=SCRIPTDIR/../../common/listening.sh
source ../../common/listening.sh

out=$(mktemp)
log=$(mktemp)
pid=
cleanup() {
    [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
    rm -f "$out" "$log"
}
trap cleanup EXIT

# wait_listening - wait for the server's "listening on" line in $out; set port.
wait_listening() {
    port=$(kit_wait_port "$out" "$pid") || { echo "demo: the server did not start" >&2; exit 1; }
}

if [ "${1:-}" = --trace ]; then
    command -v strace >/dev/null || { echo "demo: strace is not installed" >&2; exit 1; }
    calls=socket,setsockopt,bind,listen,accept,accept4,read,write,sendto,shutdown,recvfrom,close
    echo "\$ strace -f -e trace=$calls ./kk-server --once -q 0 &"
    strace -f -o "$log" -e trace="$calls" ./kk-server --once -q 0 >"$out" &
    pid=$!
    wait_listening
    printf '%s\n' "\$ printf '%s\\n' \"Who's there?\" \"Turnip who?\" n | ./kk-client 127.0.0.1 $port >/dev/null"
    printf '%s\n' "Who's there?" "Turnip who?" n | timeout 5 ./kk-client 127.0.0.1 "$port" >/dev/null
    wait "$pid"
    pid=
    # Leave out the dynamic loader's work (reading libc) before the first socket call.
    sed -n '/socket(/,$p' "$log" | sed -E 's/^[0-9]+ +//'
    exit 0
fi

echo "\$ ./kk-server --once 0 &"
./kk-server --once 0 >"$out" &
pid=$!
wait_listening
cat "$out"
echo "\$ ./kk-client localhost $port   # typing the 18 lines"
printf '%s\n' "Who's there?" "Turnip who?" y "Who's there?" "Little Old Lady who?" y \
    "Who's there?" "Atch who?" y "Who's there?" "Who who?" y \
    "Who's there?" "Who who?" y "Who's there?" "Turnip who?" n |
    timeout 5 ./kk-client localhost "$port"
wait "$pid"
pid=
