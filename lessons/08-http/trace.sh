#!/usr/bin/env bash
# trace.sh - `make trace`: the system calls of http-server serving one keep-alive
# connection: a small file (read whole, sent with its head in one send), then a 100 KiB
# file (its head, then sendfile), then SIGTERM. Under strace.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=SCRIPTDIR/../../common/listening.sh
source ../../common/listening.sh
command -v strace >/dev/null || { echo "trace: strace is not installed (make deps installs it)" >&2 && exit 1; }

work=$(mktemp -d)
pid=
cleanup() {
    [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

mkdir "$work/www"
printf '<h1>hello</h1>\n' >"$work/www/index.html"
head -c 102400 /dev/zero | tr '\0' x >"$work/www/big.txt"
strace -f -o "$work/strace" -e trace=accept4,read,openat,openat2,fstat,newfstatat,pread64,sendto,sendfile,close,shutdown,epoll_wait,epoll_ctl \
    ./http-server -q -d "$work/www" 0 >"$work/out" 2>"$work/err" </dev/null &
pid=$!
port=$(kit_wait_port "$work/out" "$pid") || { echo "trace: http-server did not start" >&2 && exit 1; }
# One connection, two requests one after the other (keep-alive), then the client leaves.
timeout 5 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for path, size in (("/index.html", 15), ("/big.txt", 102400)):
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    while not got.endswith(b"x" * 16 if size > 15 else b"</h1>\n"):
        got += s.recv(65536)
s.close()
' "$port"
for _ in $(seq 1 100); do # wait (bounded) until the server has closed the connection
    grep -qE '^[0-9]+ +close\(6\)' "$work/strace" && break
    sleep 0.05
done
kill -TERM "$(ps -o pid= --ppid "$pid" | tr -d ' ')"
wait "$pid" || true
pid=
# The calls from the first accept on, without the pid column and epoll's pointer values.
sed -n '/accept4(/,$p' "$work/strace" | sed -E 's/^[0-9]+ +//; s/data=\{u32=[0-9]+, u64=([0-9]+)\}/data=\1/' |
    grep -v '^+++'
