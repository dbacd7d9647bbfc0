#!/usr/bin/env bash
# trace.sh - `make trace` for lesson 06: the system calls of echo-poll-server, then of
# echo-event-server, each serving the same two clients (A sends "hello" and stays, B sends
# "hi" and half-closes, then A leaves) and then stopped with SIGTERM.
#
# The server is strace's child: SIGTERM goes to it by its PID (strace would not pass it
# on). Nothing outlives the script.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=SCRIPTDIR/../../common/listening.sh
source ../../common/listening.sh
command -v strace >/dev/null || { echo "trace.sh: strace is not installed" >&2; exit 1; }
command -v python3 >/dev/null || { echo "trace.sh: python3 is not installed" >&2; exit 1; }

work=$(mktemp -d)
pid=
cleanup() {
    [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# clients PORT - A says hello and stays; B says hi and half-closes; then A leaves.
clients() {
    timeout 5 python3 -c '
import socket, sys
addr = ("127.0.0.1", int(sys.argv[1]))
a = socket.create_connection(addr)
a.sendall(b"hello\n")
a.recv(100)
b = socket.create_connection(addr)
b.sendall(b"hi\n")
b.shutdown(socket.SHUT_WR)
while b.recv(100):
    pass
a.close()
' "$1"
}

# trace_server CALLS PROG - PROG -q 0 under strace, tracing CALLS, while the two clients
# come and go; then SIGTERM. Prints the command, then the calls from listen() on.
trace_server() {
    local calls=$1 prog=$2 n=0 server
    echo "\$ strace -e trace=$calls $prog -q 0"
    strace -o "$work/log" -e trace="$calls" "$prog" -q 0 >"$work/out" 2>/dev/null &
    pid=$!
    port=$(kit_wait_port "$work/out" "$pid") || { echo "trace.sh: $prog did not start" >&2; exit 1; }
    clients "$port"
    # Wait (bounded) until the server has closed both clients, then stop it.
    until [ "$(sed -n '/^listen(/,$p' "$work/log" | grep -c '^close(')" -ge 2 ]; do
        [ $((n += 1)) -le 100 ] || break
        sleep 0.05
    done
    server=$(ps -o pid= --ppid "$pid" | tr -d ' ')
    kill -TERM "$server"
    wait "$pid" || true
    pid=
    # From listen() on: before it, the dynamic loader opens and closes libraries.
    sed -n '/^listen(/,$p' "$work/log" | grep -v '^+++'
}

# epoll's data is a pointer, printed as a number: name it after what it points at, the
# listener, the signalfd or a connection (by its descriptor), as the loop registered it.
name_pointers() {
    sed -E 's/data=\{u32=[0-9]+, u64=([0-9]+)\}/data=\1/' | awk '
        /^listen\(/ { split($0, a, /[(,]/); listener = a[2] }
        /^signalfd4\(/ { signals = $NF }
        /EPOLL_CTL_ADD/ && match($0, /data=[0-9]+/) {
            split($0, a, /, /); fd = a[3]; ptr = substr($0, RSTART + 5, RLENGTH - 5)
            name[ptr] = fd == listener ? "<listener>" : fd == signals ? "<signalfd>" : "<conn " fd ">"
        }
        {
            while (match($0, /data=[0-9]+/)) {
                ptr = substr($0, RSTART + 5, RLENGTH - 5)
                $0 = substr($0, 1, RSTART + 4) (ptr in name ? name[ptr] : "?") substr($0, RSTART + RLENGTH)
            }
            print
        }'
}

trace_server listen,ppoll,accept4,read,sendto,close ./echo-poll-server
echo
trace_server listen,epoll_create1,signalfd4,epoll_ctl,epoll_wait,accept4,read,sendto,close \
    ./echo-event-server >"$work/epoll"
name_pointers <"$work/epoll"
