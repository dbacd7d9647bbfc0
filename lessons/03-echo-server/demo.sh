#!/usr/bin/env bash
# demo.sh - `make run` for lesson 03: start echo-server on a free port, talk to it with
# clients we did not write (nc) and with lesson 02's echo-client, then stop it with SIGTERM.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=SCRIPTDIR/../../common/listening.sh
source ../../common/listening.sh

out=$(mktemp)
err=$(mktemp)
./echo-server 0 >"$out" 2>"$err" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$out" "$err"' EXIT

# Wait (at most 5 s) for the "listening on" line: it carries the port the kernel chose.
port=$(kit_wait_port "$out" "$pid") || { echo "demo.sh: echo-server did not start" >&2; exit 1; }

echo "\$ ./echo-server 0 &"
cat "$out"
echo
# nc (a peer we did not write) is installed by "make deps"; the tour needs only cc and make.
# -N (half-close at the end of input) is OpenBSD netcat's, as Debian's nc is; macOS's lacks it.
if command -v nc >/dev/null 2>&1 && nc -h 2>&1 | grep -q -- '-N'; then
    printf '%s\n' "\$ printf 'hello\\nno newline here' | nc -N 127.0.0.1 $port"
    printf 'hello\nno newline here' | kit_timeout 5 nc -N 127.0.0.1 "$port"
    echo
    echo
else
    echo "(no nc with -N here: \"make deps\" installs netcat-openbsd; skipping the nc client)"
    echo
fi
if [ -x ../02-echo-client/echo-client ]; then
    printf '%s\n' "\$ printf 'one\\n\\ntwo\\n' | ../02-echo-client/echo-client 127.0.0.1 $port"
    printf 'one\n\ntwo\n' | ../02-echo-client/echo-client 127.0.0.1 "$port"
    echo
fi
echo "\$ kill -TERM \$pid   # the server exits 0; its log went to stderr:"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
cat "$err"
echo "(exit status $status)"
exit "$status"
