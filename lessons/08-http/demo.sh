#!/usr/bin/env bash
# demo.sh - `make run`: a short tour of the lesson. http-server serves www/ on a free port;
# http-get, curl and raw bytes through nc talk to it; then SIGTERM.
#
# The server starts on port 0 and is stopped by its PID; every client runs under timeout.
# Nothing outlives the script.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=SCRIPTDIR/../../common/listening.sh
source ../../common/listening.sh

work=$(mktemp -d)
pid=
cleanup() {
    [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

say() { printf '$ %s\n' "$*"; }

say './http-server -d www 0 &'
./http-server -d www 0 >"$work/out" 2>"$work/err" </dev/null &
pid=$!
port=$(kit_wait_port "$work/out" "$pid") || { echo "demo: http-server did not start" >&2 && exit 1; }
cat "$work/out"
url=http://127.0.0.1:$port

say "./http-get -i $url/style.css"
timeout 5 ./http-get -i "$url/style.css" | tr -d '\r'
say "./http-get $url/missing.html"
timeout 5 ./http-get "$url/missing.html" 2>&1 || echo "(exit status $?)"
if command -v curl >/dev/null 2>&1; then # installed by "make deps"; the tour needs only cc
    say "curl -s -o /dev/null -w '%{http_code} %{size_download} %{num_connects}\\n' $url/ $url/app.js"
    timeout 5 curl -s -w '%{http_code} %{size_download} %{num_connects}\n' \
        -o /dev/null "$url/" -o /dev/null "$url/app.js"
fi
if command -v nc >/dev/null 2>&1; then
    say "printf 'GET /../../etc/passwd HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' | nc 127.0.0.1 $port"
    printf 'GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n' | timeout 5 nc 127.0.0.1 "$port" | tr -d '\r'
fi
say 'kill -TERM %1'
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
echo "(exit status $status)"
echo "the server's stderr:"
cat "$work/err"
