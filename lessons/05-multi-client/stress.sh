#!/usr/bin/env bash
# stress.sh [CLIENTS] - hold CLIENTS (default 1000, at most 5000) Knock Knock clients on
# kk-multi-server at the same time, every one completing a joke byte for byte, and print
# the figures: time, clients completed, the server's peak threads and memory.
#
# It is a measurement, not a test: bounded in count and in time (60 s), it starts and
# stops its own server on a free port. Run it with `make stress`.
set -euo pipefail
cd "$(dirname "$0")"

clients=${1:-1000}
if ! [[ $clients =~ ^[0-9]+$ ]] || [ "$clients" -lt 1 ] || [ "$clients" -gt 5000 ]; then
    echo "usage: stress.sh [CLIENTS 1..5000]" >&2
    exit 2
fi

out=$(mktemp)
server_pid=
cleanup() {
    [ -z "$server_pid" ] || kill -KILL "$server_pid" 2>/dev/null || true
    rm -f "$out"
}
trap cleanup EXIT

./kk-multi-server -q --max-clients "$clients" 0 >"$out" &
server_pid=$!
for _ in $(seq 1 100); do
    grep -q '^listening on ' "$out" && break
    sleep 0.05
done
port=$(sed -n 's/^listening on .*://p' "$out")
[ -n "$port" ] || { echo "stress.sh: the server did not start" >&2; exit 1; }

echo "stress: $clients Knock Knock clients at once on kk-multi-server (pid $server_pid, port $port)"
timeout 60 python3 - "$port" "$clients" "$server_pid" <<'PY'
import resource, socket, sys, time

port, count, pid = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # one descriptor per client here too

JOKE = [(b"", b"Knock! Knock!\n"), (b"Who's there?\n", b"Turnip\n"),
        (b"Turnip who?\n", b"Turnip the heat, it's cold in here! Want another? (y/n)\n"),
        (b"n\n", b"Bye.\n")]

def status(field):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0

def expect(s, want):
    got = b""
    while len(got) < len(want):
        chunk = s.recv(len(want) - len(got))
        if not chunk:
            break
        got += chunk
    return got == want

idle_kib = status("VmRSS")
start = time.monotonic()
socks = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(count)]
ok = [True] * count
peak_threads = peak_kib = peak_vm = 0
for step, (line, reply) in enumerate(JOKE):
    for s in socks:
        if line:
            s.sendall(line)
    for i, s in enumerate(socks):
        ok[i] = ok[i] and expect(s, reply)
    if step == 1:  # every client is connected and mid-joke: every thread is alive
        connected = time.monotonic() - start
        peak_threads, peak_kib, peak_vm = status("Threads"), status("VmRSS"), status("VmSize")
closed = 0
for s in socks:
    closed += s.recv(1) == b""  # after "Bye." the server closes
    s.close()
elapsed = time.monotonic() - start
done = sum(ok)
print("  all connected, greeted and told a clue: %.2f s" % connected)
print("  completed a joke, every byte checked:   %d of %d in %.2f s (%d closed by the server)"
      % (done, count, elapsed, closed))
print("  server at the peak: %d threads, RSS %.1f MiB (%.1f MiB idle): %.1f KiB per client"
      % (peak_threads, peak_kib / 1024, idle_kib / 1024, (peak_kib - idle_kib) / count))
print("  address space at the peak: %.0f MiB (thread stacks are reserved, touched on use)"
      % (peak_vm / 1024))
sys.exit(0 if done == count and closed == count else 1)
PY
start=$(date +%s%N)
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=
echo "  server stopped by SIGTERM: exit $status in $((($(date +%s%N) - start) / 1000000)) ms"
[ "$status" -eq 0 ]
