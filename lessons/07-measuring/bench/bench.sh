#!/usr/bin/env bash
# bench/bench.sh - the benchmark behind `make bench`: echo-load against the kit's three echo
# servers and against socat (the reference peer), at several connection counts.
#
#   BENCH_SECONDS  seconds per run, may be fractional (default 3; the tests use 0.3)
#   BENCH_CONNS    connection counts (default "1 10 100 1000")
#   BENCH_SIZE     bytes per request (default 64); BENCH_WINDOW requests in flight (default 1)
#   BENCH_REPEAT   runs per point, the median (by requests/s) is kept (default 1; 3 on a
#                  machine shared with other work)
#   OUT_DIR        where results.csv, throughput.svg and latency.svg go (default: bench/)
#   ECHO_LOAD      the echo-load to run (default: this lesson's; the tests give the one they
#                  judge, a learner's too)
#
# Every server starts on port 0 and is stopped by its PID when the script ends, however it
# ends. Every run is bounded by `timeout`. Exit status 1 when any run reported an error.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
lesson=$(dirname "$here")
root=$(cd "$lesson/../.." && pwd)
# shellcheck source=SCRIPTDIR/../../../common/listening.sh
source "$root/common/listening.sh"
seconds=${BENCH_SECONDS:-3}
conns_list=${BENCH_CONNS:-1 10 100 1000}
size=${BENCH_SIZE:-64}
window=${BENCH_WINDOW:-1}
repeat=${BENCH_REPEAT:-1}
out=${OUT_DIR:-$here}
load=${ECHO_LOAD:-$lesson/echo-load}

work=$(mktemp -d)
pids=()

# Stop what we started, by PID: SIGTERM, a bounded wait, then SIGKILL.
cleanup() {
    local pid n
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
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
    echo "bench: $*" >&2
    exit 1
}

# start NAME - start server NAME on a free port chosen by the kernel; sets $port.
start() {
    local name=$1 prog
    if [ "$name" = socat ]; then
        # socat has no "listening on" line of ours, but -d -d logs the port it was given.
        socat -d -d TCP-LISTEN:0,bind=127.0.0.1,reuseaddr,fork,backlog=1024 PIPE \
            2>"$work/$name.err" </dev/null &
        pids+=($!)
        port=$(kit_wait_port "$work/$name.err" $!) ||
            die "socat did not start: $(cat "$work/$name.err")"
    else
        prog=$(find_program "$name")
        "$prog" -q 0 >"$work/$name.out" 2>"$work/$name.err" </dev/null &
        pids+=($!)
        port=$(kit_wait_port "$work/$name.out" $!) ||
            die "$name did not start: $(cat "$work/$name.err")"
    fi
}

# find_program NAME - the built program NAME in some lesson directory.
find_program() {
    local p
    for p in "$root"/lessons/[0-9][0-9]-*/"$1"; do
        [ -x "$p" ] && { echo "$p"; return 0; }
    done
    return 1
}

# measure CONNS - run echo-load $repeat times against $name at $port; print the CSV row of
# the median run (by requests/s). Fails, after naming the errors, if any run failed.
measure() {
    local i status=0 row rows=()
    for ((i = 0; i < repeat; i++)); do
        row=$(timeout -k 5 "$(awk -v s="$seconds" 'BEGIN { print int(s) + 30 }')" "$load" -c "$1" -d "$seconds" -s "$size" \
            -w "$window" --csv 127.0.0.1 "$port" 2>"$work/load.err" | tail -n 1) || status=1
        [ -z "$row" ] || rows+=("$row")
        if [ "$status" -ne 0 ]; then
            sed "s/^/bench: $name, $1 connections: /" "$work/load.err" | head -n 5 >&2
            break
        fi
    done
    [ ${#rows[@]} -eq 0 ] || printf '%s\n' "${rows[@]}" | sort -t, -k6,6n | sed -n "$(((${#rows[@]} + 1) / 2))p"
    return "$status"
}

row() { # row SERVER CONNS CELLS... - one table line
    printf '%-18s %6s %11s %9s %8s %8s %8s %7s %9s\n' "$@"
}

# ---- the runs ------------------------------------------------------------------------

[ -x "$load" ] || die "$load is not built: run make first"
mkdir -p "$out"
servers=(socat)
for name in echo-server echo-multi-server echo-event-server; do
    if find_program "$name" >/dev/null; then
        servers+=("$name")
    else
        echo "bench: $name is not built: skipped"
    fi
done

model=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
echo "bench: $(nproc) CPUs (${model:-unknown}), Linux $(uname -r)," \
    "$size-byte requests, window $window, $seconds s per run, median of $repeat"
# Anything else running shares the CPUs with client and server: say how busy the machine was.
echo "bench: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
row server conns requests/s MB/s p50_us p99_us max_us errors vs_socat

csv=$work/results.csv
echo "server,connections,bytes,window,seconds,requests,requests_per_s,mb_per_s,p50_us,p90_us,p99_us,max_us,errors" >"$csv"
declare -A ports
for name in "${servers[@]}"; do
    start "$name"
    ports[$name]=$port
done
# Connection counts outside, servers inside: a burst of other work on the machine then hits
# every server at about the same count, not one server's whole curve.
failed=0
for conns in $conns_list; do
    reference=0 # socat's requests/s at this count
    for name in "${servers[@]}"; do
        if [ "$name" = echo-server ] && [ "$conns" -gt 1 ]; then
            printf '%-18s %6s   skipped: it serves one client at a time, %s would wait\n' \
                "$name" "$conns" "$((conns - 1))"
            continue
        fi
        port=${ports[$name]}
        result=$(measure "$conns") || failed=1
        [ -n "$result" ] || continue
        echo "$name,$result" >>"$csv"
        IFS=, read -r _ _ _ _ _ rps mbs p50 _ p99 max errors <<<"$result"
        [ "$name" != socat ] || reference=$rps
        ratio=$(awk -v a="$rps" -v b="$reference" \
            'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
        row "$name" "$conns" "$rps" "$mbs" "$p50" "$p99" "$max" "$errors" "$ratio"
    done
done

# ---- the results and the plots -------------------------------------------------------------

cp "$csv" "$out/results.csv"
titles=()
for name in "${servers[@]}"; do
    awk -F, -v s="$name" '$1 == s' "$csv" >"$work/$name.csv"
    titles+=("$name")
done
gnuplot -e "dir='$work'; out='$out'; servers='${titles[*]}'; size='$size'" "$here/plot.gp" ||
    die "gnuplot failed"
echo "bench: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench: wrote $out/results.csv, $out/throughput.svg, $out/latency.svg"
[ "$failed" -eq 0 ] || die "some runs reported errors (see above)"
