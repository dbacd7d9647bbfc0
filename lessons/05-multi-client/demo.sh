#!/usr/bin/env bash
# demo.sh [--zombies] - lesson 05's scripted demo (make run): kk-multi-server on a free port;
# a slow client stops after the clue while a quick one tells a whole joke; then SIGTERM.
# With --zombies (make zombies): echo-fork-server built without its SIGCHLD handler leaves a
# zombie per client that has left; the real one leaves none.
# Every command it prints ("$ ...") is run as printed, and runs as well from this directory.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=SCRIPTDIR/../../common/listening.sh
source ../../common/listening.sh

out=$(mktemp)
cleanup() {
    local job
    for job in $(jobs -p); do kill -KILL "$job" 2>/dev/null || true; done
    rm -f "$out"
}
trap cleanup EXIT

# shown COMMAND - print "$ COMMAND", then run it, exactly as printed.
shown() {
    echo "\$ $1"
    eval "$1"
}

# start_server COMMAND - run COMMAND (a server on port 0) as job %1, its stdout in $out;
# print its "listening on" line and set port.
start_server() {
    echo "\$ $1 &"
    eval "$1 >\"\$out\" &"
    port=$(kit_wait_port "$out" "$!") || { echo "demo: the server did not start" >&2; exit 1; }
    cat "$out"
}

# stop_server NAME - SIGTERM to job %1, and its exit status.
stop_server() {
    shown "kill -TERM %1; wait %1; echo \"$1 exited \$?\""
}

if [ "${1:-}" = --zombies ]; then
    NO_REAPING=../../build/05-multi-client/echo-fork-server-no-reaping
    [ -x "$NO_REAPING" ] || { echo "demo: build it first: make zombies" >&2; exit 1; }
    [ -x ../02-echo-client/echo-client ] || make --no-print-directory -s -C ../02-echo-client
    for server in "$NO_REAPING" ./echo-fork-server; do
        start_server "$server -q 0"
        # Three clients, one after another: each child serves one, then exits.
        shown "for i in 1 2 3; do echo \"client \$i\" | ../02-echo-client/echo-client 127.0.0.1 $port; done"
        sleep 0.2 # the last child's exit, and its SIGCHLD
        shown "ps -o pid,ppid,stat,args --ppid \$!" || true # no child: ps says so by exit 1
        stop_server "$(basename "$server")"
    done
    exit 0
fi

[ -x ../04-knock-knock/kk-client ] || make --no-print-directory -s -C ../04-knock-knock
start_server "./kk-multi-server 0"
# The slow client answers "Who's there?", then thinks for a second before "Turnip who?";
# the quick one, started while the slow one thinks, tells its whole joke and leaves first.
shown "slow() { printf \"Who's there?\\n\"; sleep 1; printf 'Turnip who?\\nn\\n'; }"
shown "label() { while IFS= read -r line; do printf '%s %s\\n' \"\$1\" \"\$line\"; done; }"
shown "slow | ../04-knock-knock/kk-client 127.0.0.1 $port | label '[slow] ' &"
sleep 0.3 # the slow client connects first and sits on its clue
shown "printf \"Who's there?\\nTurnip who?\\nn\\n\" | ../04-knock-knock/kk-client 127.0.0.1 $port | label '[quick]'"
shown "wait %2"
stop_server kk-multi-server
