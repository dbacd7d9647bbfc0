#!/usr/bin/env bash
# demo.sh - `make run` for lesson 01: each program once, as the README shows them.
# connect-info needs a server the kit did not write: socat, started on port 0 (it
# prints the port it got). Without socat the demo says so and shows the rest.
set -u
cd "$(dirname "$0")" || exit 1
# shellcheck source=SCRIPTDIR/../../common/listening.sh
source ../../common/listening.sh

# show CMD... - print the command like a shell prompt, then run it.
show() {
    printf '\n$ %s\n' "$*"
    "$@"
}

show ./endpoints
show ./lookup localhost 7
show ./lookup ::1 http

if ! command -v socat >/dev/null 2>&1; then
    printf '\n(socat is not installed: "make deps" installs it; connect-info needs a server)\n'
    exit 0
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# socat accepts one connection on 127.0.0.1, sends nothing (stdin is /dev/null), and exits
# once our client has closed. -d -d makes it log "listening on" and "accepting connection".
socat -d -d TCP-LISTEN:0,bind=127.0.0.1,reuseaddr - </dev/null >/dev/null 2>"$tmp/socat.log" &
socat_pid=$!
if ! port=$(kit_wait_port "$tmp/socat.log" "$socat_pid"); then
    echo "socat did not start" >&2
    kill "$socat_pid" 2>/dev/null
    exit 1
fi

printf '\n(socat listens on 127.0.0.1:%s)\n' "$port"
show ./connect-info 127.0.0.1 "$port"
n=0
while kill -0 "$socat_pid" 2>/dev/null && [ "$n" -lt 100 ]; do
    n=$((n + 1))
    sleep 0.05
done
kill "$socat_pid" 2>/dev/null
wait "$socat_pid"
printf '(socat saw: %s)\n' "$(sed -n 's/.*accepting connection from \(.*\)$/\1/p' "$tmp/socat.log")"

printf '\n(socat has exited: nothing listens on port %s any more)\n' "$port"
show ./connect-info 127.0.0.1 "$port" 2>&1
printf '(exit status %d)\n' "$?"
exit 0
