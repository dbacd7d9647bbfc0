# common/listening.sh - sourced by the lessons' demo and bench scripts (bash 3.2 and up, as
# macOS has): wait for a server started on port 0 to say which port the kernel gave it, and
# bound a command in time where timeout(1) is missing. Polling a file, not a pipe: a server
# writing to a pipe nobody reads any more would block or die of SIGPIPE.
# shellcheck shell=bash

# kit_wait_for FILE REGEX [PID] - print the first match of the extended REGEX in FILE as
# soon as it appears there. Fails after 5 s, or as soon as process PID has exited.
kit_wait_for() {
    local file=$1 regex=$2 pid=${3:-} n=0
    until grep -s -m1 -oE "$regex" "$file"; do
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            return 1
        fi
        [ $((n += 1)) -le 100 ] || return 1
        sleep 0.05
    done
}

# kit_wait_port FILE [PID] - print the port of the "listening on ADDR:PORT" line a kit
# server writes to FILE, or of the "listening on AF=2 ADDR:PORT" line of socat -d -d.
kit_wait_port() {
    local line
    line=$(kit_wait_for "$1" 'listening on (AF=[0-9]+ )?[^ ]*:[0-9]+' "${2:-}") || return 1
    echo "${line##*:}"
}

# kit_timeout SECS CMD... - run CMD (stdin included) and end it with SIGTERM if it is still
# running after SECS seconds: timeout(1) where there is one (Linux, the BSDs), else a watchdog
# (macOS has no timeout). Returns CMD's exit status.
kit_timeout() {
    local secs=$1 pid watchdog status=0
    shift
    if command -v timeout >/dev/null 2>&1; then
        timeout "$secs" "$@"
        return
    fi
    "$@" <&0 &
    pid=$!
    (sleep "$secs" && kill "$pid" 2>/dev/null) >/dev/null 2>&1 &
    watchdog=$!
    wait "$pid" || status=$?
    kill "$watchdog" 2>/dev/null || true
    return "$status"
}
