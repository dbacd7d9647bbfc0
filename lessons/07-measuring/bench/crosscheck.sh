#!/usr/bin/env bash
# bench/crosscheck.sh [SERVER] - does echo-load measure what others measure?
#
# Starts SERVER (default echo-event-server; "socat" for socat) on port 0, then for each mode
#   streaming:     one connection, 64 KiB requests, 64 in flight
#   request/reply: one connection, 64-byte requests, one in flight
# runs echo-load and compares its figures with two independent measurements:
#   - the kernel's own count of the bytes the server echoed (ss: bytes_acked on the server's
#     sockets), sampled during the same run: checks echo-load's counting and its clock;
#   - bench/crosscheck.py, a client written separately in Python, taking turns with it: its
#     median latency must agree; its MB/s and requests/s must not beat echo-load's (if they
#     did, echo-load would be the bottleneck, not the server). Where Python is the slower
#     client, it says so: a slower client measures less, and that proves nothing wrong.
# Each mode runs CROSSCHECK_ROUNDS times (default 3), echo-load and Python taking turns, and
# the medians are compared: other work on the machine then weighs on both about equally.
# Prints each pair and their ratio; exit status 1 when a check fails by more than 15%.
# CROSSCHECK_SECONDS sets the length of each run (default 3, at least 2).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
lesson=$(dirname "$here")
root=$(cd "$lesson/../.." && pwd)
# shellcheck source=SCRIPTDIR/../../../common/listening.sh
source "$root/common/listening.sh"
server=${1:-echo-event-server}
seconds=${CROSSCHECK_SECONDS:-3}
rounds=${CROSSCHECK_ROUNDS:-3}
load=$lesson/echo-load
work=$(mktemp -d)
pids=()

cleanup() {
    local pid n
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        n=0
        while kill -0 "$pid" 2>/dev/null && [ $((n += 1)) -le 100 ]; do sleep 0.05; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
    echo "crosscheck: $*" >&2
    exit 1
}

# Start the server on port 0 and read the port it got (5 s at most); sets $port.
start_server() {
    local prog
    if [ "$server" = socat ]; then
        # socat -d -d logs "listening on AF=2 ADDR:PORT" on stderr.
        socat -d -d TCP-LISTEN:0,bind=127.0.0.1,reuseaddr,fork PIPE 2>"$work/server" </dev/null &
    else
        for prog in "$root"/lessons/[0-9][0-9]-*/"$server" ''; do [ -x "$prog" ] && break; done
        [ -n "$prog" ] || die "$server is not built"
        "$prog" -q 0 >"$work/server" 2>/dev/null </dev/null &
    fi
    pids+=($!)
    port=$(kit_wait_port "$work/server" $!) || die "$server did not start"
}

# kernel_sample - "NANOSECONDS BYTES": the clock, and the bytes the server's sockets on $port
# have sent and had acknowledged (the echo that reached the client), summed.
kernel_sample() {
    local t
    t=$(date +%s%N)
    ss -tinH state established "( sport = :$port )" |
        awk -v t="$t" '{ for (i = 1; i <= NF; i++) if ($i ~ /^bytes_acked:/) {
            sub(/^bytes_acked:/, "", $i); sum += $i } } END { printf "%s %.0f\n", t, sum }'
}

# load_and_kernel ARGS... - run echo-load ARGS --csv for $seconds; sample the kernel's count
# from 0.2 s in to 0.2 s before the end. Sets $csv (echo-load's row) and $kernel_mbs.
load_and_kernel() {
    local t1 b1 t2 b2
    timeout $((seconds + 20)) "$load" "$@" -d "$seconds" --csv 127.0.0.1 "$port" >"$work/load" &
    pids+=($!)
    sleep 0.2
    read -r t1 b1 < <(kernel_sample)
    sleep "$((seconds - 1)).6"
    read -r t2 b2 < <(kernel_sample)
    wait "${pids[-1]}" || die "echo-load failed"
    unset 'pids[-1]'
    csv=$(tail -n 1 "$work/load")
    kernel_mbs=$(awk -v b="$((b2 - b1))" -v t="$((t2 - t1))" 'BEGIN { printf "%.2f", b / t * 1e3 }')
}

# compare WHAT A OTHER B - print A, B and A/B; remember a disagreement beyond 15%.
compare() {
    local verdict
    verdict=$(awk -v a="$2" -v b="$4" 'BEGIN {
        r = a / b; printf "%.2f %s", r, (r >= 0.85 && r <= 1 / 0.85) ? "agree" : "DISAGREE" }')
    printf '%-24s echo-load %9s   %-14s %9s   ratio %s\n' "$1" "$2" "$3" "$4" "$verdict"
    [[ $verdict != *DISAGREE ]] || bad=1
}

# at_least WHAT A OTHER B - like compare, but only A more than 15% below B is a failure: the
# other client got more out of the server than echo-load did.
at_least() {
    local verdict
    verdict=$(awk -v a="$2" -v b="$4" 'BEGIN { r = a / b; printf "%.2f %s", r,
        r < 0.85 ? "ECHO-LOAD SLOWER" : r <= 1 / 0.85 ? "agree" : "agree (Python is the slower client)" }')
    printf '%-24s echo-load %9s   %-14s %9s   ratio %s\n' "$1" "$2" "$3" "$4" "$verdict"
    [[ $verdict != *SLOWER ]] || bad=1
}

# median - the median of the numbers on stdin, one a line.
median() {
    sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# rounds MODE ARGS... - $rounds turns of echo-load ARGS (with the kernel's count) and of
# crosscheck.py MODE; sets the medians load_mbs load_rps load_p50 kernel_mbs py_a py_b.
rounds() {
    local mode=$1 i a b
    shift
    : >"$work/rounds"
    for ((i = 0; i < rounds; i++)); do
        load_and_kernel "$@"
        read -r a b < <(timeout $((seconds + 20)) python3 "$here/crosscheck.py" "$mode" \
            127.0.0.1 "$port" "$seconds")
        echo "$(cut -d, -f6-8 <<<"$csv" | tr , ' ') $kernel_mbs $a ${b:-0}" >>"$work/rounds"
    done
    load_rps=$(awk '{ print $1 }' "$work/rounds" | median)
    load_mbs=$(awk '{ print $2 }' "$work/rounds" | median)
    load_p50=$(awk '{ print $3 }' "$work/rounds" | median)
    kernel_mbs=$(awk '{ print $4 }' "$work/rounds" | median)
    py_a=$(awk '{ print $5 }' "$work/rounds" | median)
    py_b=$(awk '{ print $6 }' "$work/rounds" | median)
}

[ -x "$load" ] || die "$load is not built: run make first"
[ "$seconds" -ge 2 ] || die "CROSSCHECK_SECONDS must be at least 2"
start_server
echo "crosscheck: $server on 127.0.0.1:$port, $rounds rounds of $seconds s, medians compared"
bad=0

rounds stream -s 65536 -w 64
compare "streaming MB/s" "$load_mbs" kernel "$kernel_mbs"
at_least "streaming MB/s" "$load_mbs" crosscheck.py "$py_a"

rounds reqrep -s 64 -w 1
compare "request/reply MB/s" "$load_mbs" kernel "$kernel_mbs"
compare "request/reply p50 (us)" "$load_p50" crosscheck.py "$py_b"
at_least "request/reply requests/s" "$load_rps" crosscheck.py "$py_a"

[ "$bad" -eq 0 ] || die "a check failed by more than 15%"
echo "crosscheck: every check passed"
