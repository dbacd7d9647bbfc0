#!/usr/bin/env bash
# trace.sh - lesson 05's system calls (make trace), with strace -f:
#   1. kk-multi-server, the threads: a client that stays mid-joke, a quick one, SIGTERM;
#   2. echo-fork-server, the processes: a client that leaves, one that stays, SIGTERM.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=SCRIPTDIR/../../common/listening.sh
source ../../common/listening.sh

command -v strace >/dev/null || { echo "trace: strace is not installed" >&2; exit 1; }
KK_CLIENT=../04-knock-knock/kk-client
ECHO_CLIENT=../02-echo-client/echo-client
[ -x "$KK_CLIENT" ] || make --no-print-directory -s -C ../04-knock-knock
[ -x "$ECHO_CLIENT" ] || make --no-print-directory -s -C ../02-echo-client

out=$(mktemp)
log=$(mktemp)
pid=
cleanup() {
    [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
    rm -f "$out" "$log"
}
trap cleanup EXIT

# traced CALLS PROGRAM - start strace -f on PROGRAM (-q, port 0) in the background; set pid
# (strace's) and port.
traced() {
    echo "\$ strace -f -e trace=$1 ./$2 -q 0"
    strace -f -o "$log" -e trace="$1" "./$2" -q 0 >"$out" &
    pid=$!
    port=$(kit_wait_port "$out" "$pid") || { echo "trace: the server did not start" >&2; exit 1; }
}

# stop_traced - SIGTERM to the server itself, strace's child (strace would not pass it on),
# and wait for strace; print the trace from the first accept on (the dynamic loader's calls
# before it are left out). A call that blocked while another process or thread made calls
# is printed by strace in two halves, "<unfinished ...>" and "<... resumed>": joined here.
stop_traced() {
    kill -TERM "$(pgrep -P "$pid")"
    wait "$pid"
    pid=
    sed -n '/accept4*(/,$p' "$log" | awk '
        / <unfinished \.\.\.>$/ { sub(/ <unfinished \.\.\.>$/, ""); first[$1] = $0; next }
        /^[0-9]+ <\.\.\. [a-z0-9_]+ resumed>/ && ($1 in first) {
            rest = $0
            sub(/^[0-9]+ <\.\.\. [a-z0-9_]+ resumed>/, "", rest)
            print first[$1] rest
            delete first[$1]
            next
        }
        { print }'
}

# ---- 1. a thread per client ------------------------------------------------------------

traced clone,clone3,accept,accept4,read,sendto,shutdown,close kk-multi-server
echo "  (a client that stays mid-joke, a quick one, then SIGTERM)"
{ printf "Who's there?\n"; sleep 5; } | timeout 10 "$KK_CLIENT" 127.0.0.1 "$port" >/dev/null 2>&1 &
silent=$!
sleep 0.3 # the silent client is first, mid-joke
printf '%s\n' "Who's there?" "Turnip who?" n | timeout 5 "$KK_CLIENT" 127.0.0.1 "$port" >/dev/null
stop_traced
wait "$silent" || true
echo

# ---- 2. a process per client -----------------------------------------------------------

traced clone,clone3,accept,accept4,close,pipe,pipe2,read,sendto,shutdown,kill,wait4 echo-fork-server
echo "  (a client that says hello and leaves, one that stays, then SIGTERM)"
echo hello | timeout 5 "$ECHO_CLIENT" 127.0.0.1 "$port" >/dev/null
sleep 0.3 # its child ends, and the parent reaps it
{ echo stay; sleep 5; } | timeout 10 "$ECHO_CLIENT" 127.0.0.1 "$port" >/dev/null 2>&1 &
staying=$!
sleep 0.3 # the second client is served and waits
stop_traced
wait "$staying" || true
