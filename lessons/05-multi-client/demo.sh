#!/usr/bin/env bash
# demo.sh [--trace] - lesson 05's scripted demo (make run): kk-multi-server on a free port;
# a slow client stops after the clue while a quick one tells a whole joke; then SIGTERM.
# With --trace (make trace): the same, with the server's thread and socket system calls.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=SCRIPTDIR/../../common/listening.sh
source ../../common/listening.sh

KK_CLIENT=../04-knock-knock/kk-client
out=$(mktemp)
log=$(mktemp)
pid=
cleanup() {
    [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
    rm -f "$out" "$log"
}
trap cleanup EXIT

[ -x "$KK_CLIENT" ] || make --no-print-directory -s -C ../04-knock-knock

# wait_listening - wait for the server's "listening on" line in $out; set port.
wait_listening() {
    port=$(kit_wait_port "$out" "$pid") || { echo "demo: the server did not start" >&2; exit 1; }
}

# The slow client answers "Who's there?", then thinks for a second before "Turnip who?".
slow_client() {
    { printf "Who's there?\n"; sleep 1; printf 'Turnip who?\nn\n'; } |
        timeout 5 "$KK_CLIENT" 127.0.0.1 "$port" | sed -u 's/^/[slow]  /'
}

quick_client() {
    printf '%s\n' "Who's there?" "Turnip who?" n |
        timeout 5 "$KK_CLIENT" 127.0.0.1 "$port" | sed -u 's/^/[quick] /'
}

# A client that stops after the clue and stays until the server hangs up.
silent_client() {
    { printf "Who's there?\n"; sleep 5; } | timeout 10 "$KK_CLIENT" 127.0.0.1 "$port" >/dev/null 2>&1
}

if [ "${1:-}" = --trace ]; then
    command -v strace >/dev/null || { echo "demo: strace is not installed" >&2; exit 1; }
    calls=clone,clone3,accept4,read,sendto,shutdown,close
    echo "\$ strace -f -e trace=$calls ./kk-multi-server -q 0"
    echo "  (a client that stays mid-joke, a quick one, then SIGTERM)"
    strace -f -o "$log" -e trace="$calls" ./kk-multi-server -q 0 >"$out" &
    pid=$!
    wait_listening
    silent_client &
    silent=$!
    sleep 0.3 # let the silent client be first, mid-joke
    quick_client >/dev/null
    # SIGTERM goes to the server itself, strace's child (strace would not pass it on).
    kill -TERM "$(pgrep -P "$pid")"
    wait "$pid"
    pid=
    wait "$silent" || true
    # From the first accept on; the dynamic loader's reads before it are left out.
    sed -n '/accept4(/,$p' "$log" | grep -vE 'resumed>|<unfinished' || true
    exit 0
fi

echo "\$ ./kk-multi-server 0 &"
./kk-multi-server 0 >"$out" &
pid=$!
wait_listening
cat "$out"
echo "\$ (a slow client and a quick one, at the same time; the server's log is unprefixed)"
slow_client &
slow=$!
sleep 0.3 # the slow client connects first and sits on its clue
quick_client
wait "$slow"
echo "\$ kill -TERM $pid"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
echo "kk-multi-server exited $status"
