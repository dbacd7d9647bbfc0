#!/usr/bin/env bash
# bench.sh - echo-fork-server beside echo-multi-server: the same clients against both, in one
# run, and the ratios (fork / threads). A process per client against a thread per client:
#   - short connections: 4 clients connect, echo a line and close, over and over, for 2 s;
#   - requests on 50 open connections: lesson 07's echo-load, request/reply, for 2 s;
#   - memory: 200 idle clients, the proportional set size (PSS) of the server's processes;
#   - stopping with those 200 clients connected.
#
# It is a measurement, not a test: bounded in count and in time (about 15 s), it starts and
# stops its own servers on free ports. Linux only: /proc/PID/smaps_rollup, and echo-load
# uses epoll. Run it with `make bench`.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=SCRIPTDIR/../../common/listening.sh
source ../../common/listening.sh

ECHO_LOAD=../07-measuring/echo-load
[ -x "$ECHO_LOAD" ] || make --no-print-directory -s -C ../07-measuring >/dev/null

out=$(mktemp)
pid=
cleanup() {
    [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
    rm -f "$out"
}
trap cleanup EXIT

# measure SERVER - start SERVER on a free port, measure it, stop it; prints "name value" lines.
measure() {
    local port status=0
    "./$1" -q --max-clients 2000 0 >"$out" &
    pid=$!
    port=$(kit_wait_port "$out" "$pid") || { echo "bench: $1 did not start" >&2; exit 1; }
    timeout 60 python3 - "$port" "$pid" <<'PY'
import os, socket, sys, threading, time

port, pid = int(sys.argv[1]), int(sys.argv[2])
addr = ("127.0.0.1", port)

def short_connections(clients=4, seconds=2.0):
    done = [0] * clients
    end = time.monotonic() + seconds
    def client(i):
        while time.monotonic() < end:
            s = socket.create_connection(addr, timeout=5)
            s.sendall(b"x\n")
            if s.recv(10) != b"x\n":
                sys.exit("bench: a short connection got a wrong echo")
            s.close()
            done[i] += 1
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / seconds

def processes():
    """The server and its children (a forking server's clients)."""
    found = [pid]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except OSError:
                pass
    return found

def pss_kib():
    total = 0
    for p in processes():
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                total += sum(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except OSError:
            pass
    return total

rate = short_connections()
print("short %.0f" % rate)
idle = pss_kib()
held = [socket.create_connection(addr, timeout=5) for _ in range(200)]
for s in held:
    s.sendall(b"x\n")
for s in held:
    if s.recv(10) != b"x\n":
        sys.exit("bench: an idle client got a wrong echo")
time.sleep(0.2)  # let every thread or child settle
print("memory %.1f" % ((pss_kib() - idle) / 200))
print("tasks %d" % (len(processes()) - 1 + int(open("/proc/%d/status" % pid).read()
                                                 .split("Threads:")[1].split()[0]) - 1))
sys.stdout.flush()
os.kill(pid, 15)  # SIGTERM with the 200 clients connected
start = time.monotonic()
for s in held:
    try:
        s.recv(10)  # each sees its connection end
    except OSError:
        pass
print("stop %.0f" % ((time.monotonic() - start) * 1000))
PY
    status=0
    wait "$pid" || status=$?
    pid=
    [ "$status" -eq 0 ] || { echo "bench: $1 exited $status on SIGTERM" >&2; exit 1; }
    "./$1" -q --max-clients 2000 0 >"$out" &
    pid=$!
    port=$(kit_wait_port "$out" "$pid") || { echo "bench: $1 did not start" >&2; exit 1; }
    "$ECHO_LOAD" -c 50 -d 2 --csv 127.0.0.1 "$port" |
        awk -F, 'NR == 2 { print "requests " $6; print "p99 " $10 }'
    kill -TERM "$pid"
    wait "$pid" || status=$?
    pid=
    [ "$status" -eq 0 ] || { echo "bench: $1 exited $status on SIGTERM" >&2; exit 1; }
}

declare -A fork threads
while read -r name value; do fork[$name]=$value; done < <(measure echo-fork-server)
while read -r name value; do threads[$name]=$value; done < <(measure echo-multi-server)

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
}
row() {
    printf '  %-40s %10s %10s %8s\n' "$1" "${fork[$2]}" "${threads[$2]}" "$(ratio "${fork[$2]}" "${threads[$2]}")"
}
echo "bench: echo-fork-server beside echo-multi-server ($(nproc) cores, loopback)"
printf '  %-40s %10s %10s %8s\n' "" "fork" "threads" "ratio"
row "short connections per second (4 clients)" short
row "requests per second (50 connections)" requests
row "p99 latency, µs (50 connections)" p99
row "PSS per idle client, KiB (200 clients)" memory
row "processes or threads besides the main" tasks
row "SIGTERM to last client closed, ms" stop
