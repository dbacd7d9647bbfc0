#!/usr/bin/env bash
# bench.sh - `make bench` for lesson 02: what lock-step costs. The same LINES lines of 93
# bytes (default 100,000) go through echo-client to lesson 03's echo-server and to socat,
# in one run; then lesson 07's echo-load sends as many requests of the same size to the same
# two servers, first one at a time (-w 1, lock-step as well) and then 64 in flight (-w 64).
# Each figure is the median of REPEAT runs (default 3): a shared machine has hiccups. Every
# server starts on port 0 and is stopped by its PID when the script ends.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=SCRIPTDIR/../../common/listening.sh
source ../../common/listening.sh

lines=${LINES:-100000}
repeat=${REPEAT:-3}
load=../07-measuring/echo-load
work=$(mktemp -d)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

die() {
    echo "bench: $*" >&2
    exit 1
}

command -v socat >/dev/null || die "socat is not installed (make deps)"
[ -x ./echo-client ] || make -s
[ -x ../03-echo-server/echo-server ] || make -s -C ../03-echo-server >/dev/null
[ -x "$load" ] || make -s -C ../07-measuring echo-load >/dev/null

# Start the two servers; socat -d -d logs the port the kernel gave it.
../03-echo-server/echo-server -q 0 >"$work/server.out" </dev/null &
pids+=($!)
server_port=$(kit_wait_port "$work/server.out" $!) || die "echo-server did not start"
socat -d -d TCP-LISTEN:0,bind=127.0.0.1,reuseaddr,fork PIPE 2>"$work/socat.err" </dev/null &
pids+=($!)
socat_port=$(kit_wait_port "$work/socat.err" $!) || die "socat did not start"

seq -f 'line %06g: the quick brown fox jumps over the lazy dog, again and again and again' \
    1 "$lines" >"$work/in"
sed 's/^/echo: /' "$work/in" >"$work/expected"

row() { # row CLIENT SERVER SECONDS - one line of the table, with lines/s and µs per line
    if ! [[ $3 =~ ^[0-9]*\.[0-9]+$ ]] || awk -v t="$3" 'BEGIN { exit t > 0 }'; then
        die "$1 against $2: no measurement"
    fi
    awk -v c="$1" -v s="$2" -v t="$3" -v n="$lines" \
        'BEGIN { printf "%-30s %-12s %8.3f %10.0f %9.1f\n", c, s, t, n / t, t * 1e6 / n }'
}

# client_seconds PORT - time echo-client with every line, and check every byte came back.
client_seconds() {
    local start end
    start=$(date +%s%N)
    timeout 120 ./echo-client 127.0.0.1 "$1" <"$work/in" >"$work/out" || die "echo-client failed"
    end=$(date +%s%N)
    cmp -s "$work/expected" "$work/out" || die "echo-client: the lines did not all come back"
    awk -v ns=$((end - start)) 'BEGIN { printf "%.6f\n", ns / 1e9 }'
}

# load_seconds PORT WINDOW - echo-load's own clock for the same number of 93-byte requests
# (from its requests/s, which has more digits than its seconds).
load_seconds() {
    timeout 120 "$load" -n "$lines" -s 93 -w "$2" --csv 127.0.0.1 "$1" |
        awk -F, -v n="$lines" 'END { if ($6 > 0 && $12 == 0) printf "%.6f\n", n / $6 }'
}

# median COMMAND... - run COMMAND (which prints seconds) $repeat times; print the median.
median() {
    local i
    for ((i = 0; i < repeat; i++)); do "$@"; done | sort -n | sed -n "$(((repeat + 1) / 2))p"
}

printf 'lock-step: %s lines of 93 bytes, %s CPUs, %s %s, median of %s runs\n' "$lines" \
    "$(nproc)" "$(uname -s)" "$(uname -r)" "$repeat"
printf '%-30s %-12s %8s %10s %9s\n' client server seconds lines/s "µs/line"
row "echo-client (lock-step)" echo-server "$(median client_seconds "$server_port")"
row "echo-client (lock-step)" socat "$(median client_seconds "$socat_port")"
row "echo-load -w 1 (lock-step)" echo-server "$(median load_seconds "$server_port" 1)"
row "echo-load -w 1 (lock-step)" socat "$(median load_seconds "$socat_port" 1)"
row "echo-load -w 64 (pipelined)" echo-server "$(median load_seconds "$server_port" 64)"
row "echo-load -w 64 (pipelined)" socat "$(median load_seconds "$socat_port" 64)"
