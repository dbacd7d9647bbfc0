# tests/test_helper.bash - loaded by every bats file: `load test_helper`.
#
# What it gives a test:
#   - the kit's programs on PATH by name (echo-server, kk-client, ...), wrapped
#     in valgrind when VALGRIND=1, taken from build/$KIT_VARIANT/ when set, and
#     replaced by any command named in USE='NAME=COMMAND ...' (a learner's program);
#   - start_server / stop_server: servers on port 0, read their "listening on"
#     line, stop them with SIGTERM and insist they exit 0;
#   - tmo SECS: a time limit scaled for slow runs (valgrind, sanitizers);
#   - stages, hints and visible bytes for failures (lib/stages.bash);
#   - a default setup/teardown: each test runs contained (lib/contain.bash), and
#     valgrind's logs are checked after it.
# shellcheck shell=bash

# kit_load_library NAME - what `bats_load_library NAME` does, without its cost. Every
# test sources the libraries afresh, and their load.bash forks a dirname per file
# (about 15 ms a test, a tenth of the suite's CPU), so source their files directly.
kit_load_library() {
    local dir file
    local -a path
    IFS=: read -ra path <<<"${BATS_LIB_PATH:-/usr/lib/bats}"
    for dir in "${path[@]}"; do
        [ -f "$dir/$1/load.bash" ] || continue
        if [ -d "$dir/$1/src" ]; then
            for file in "$dir/$1"/src/*.bash; do
                # shellcheck source=/dev/null
                source "$file"
            done
        else
            # shellcheck source=/dev/null
            source "$dir/$1/load.bash"
        fi
        return 0
    done
    bats_load_library "$1" # not found: let bats say so in its own words
}
kit_load_library bats-support
kit_load_library bats-assert
# run --separate-stderr and friends, in every file.
bats_require_minimum_version 1.5.0

# The kit's root: this file lives in its tests/ directory (test files elsewhere, such as
# the harness's own fixtures, load it by a relative path).
KIT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=/dev/null # checked on its own by make lint
source "$KIT_ROOT/tests/lib/contain.bash"
# shellcheck source=/dev/null # likewise
source "$KIT_ROOT/tests/lib/stages.bash"
KIT_VARIANT=${KIT_VARIANT:-}
VALGRIND=${VALGRIND:-}
export KIT_ROOT

# Time limits are multiplied under valgrind (about 20x slower) and sanitizers.
if [ -n "$VALGRIND" ]; then
    KIT_SLOW=${KIT_SLOW:-8}
elif [ -n "$KIT_VARIANT" ]; then
    KIT_SLOW=${KIT_SLOW:-3}
else
    KIT_SLOW=${KIT_SLOW:-1}
fi

# tmo SECS - SECS scaled for the current run, for `timeout "$(tmo 5)" prog ...`.
tmo() {
    echo $(($1 * KIT_SLOW))
}

# ---- the programs on PATH ---------------------------------------------------

# Where the programs of lesson directory $1 live in this run.
kit_program_dir() {
    if [ -n "$KIT_VARIANT" ]; then
        echo "$KIT_ROOT/build/$KIT_VARIANT/$(basename "$1")"
    else
        echo "$1"
    fi
}

# One wrapper per program in $KIT_BIN: a symlink, or a script that runs it under valgrind
# with its log in $KIT_VG_DIR (set per test by kit_setup).
# Under VALGRIND=1, which programs run under valgrind: those of the lesson the test file
# belongs to (tests/05-*.bats: lessons/05-*; tests/00-*: the drivers of tests/common), each
# checked by its own lesson's tests. The others are peers here and run as they are: a
# kk-client driving lesson 05's servers was checked in lesson 04, and valgrind would only
# make it twenty times slower. A file of no lesson (90-two-hosts) checks them all.
kit_valgrind_wanted() {
    local number
    number=$(basename "$BATS_TEST_FILENAME" | cut -c1-2)
    case $1 in
    */build/*tests) [ "$number" = 00 ] || ! compgen -G "$KIT_ROOT/lessons/$number-*" >/dev/null ;;
    */lessons/[0-9][0-9]-*)
        [[ $1 == */lessons/$number-* ]] || ! compgen -G "$KIT_ROOT/lessons/$number-*" >/dev/null
        ;;
    *) return 0 ;;
    esac
}

kit_make_wrappers() {
    local lesson dir prog name python
    mkdir -p "$KIT_BIN"
    # The tests' peers are python3 scripts, run hundreds of times, that need only the
    # standard library. A version manager's shim (pyenv's is a bash script) costs ten times
    # the interpreter's own start, and its interpreter's site-packages twice that again:
    # link the system's python3 (tests/deps installs it), or else the interpreter the shim
    # resolves to, once.
    if [ -x /usr/bin/python3 ]; then
        ln -sf /usr/bin/python3 "$KIT_BIN/python3"
    elif python=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) && [ -x "$python" ]; then
        ln -sf "$python" "$KIT_BIN/python3"
    fi
    for lesson in "$KIT_ROOT"/lessons/[0-9][0-9]-*/ "$KIT_ROOT/build/${KIT_VARIANT:+$KIT_VARIANT/}tests/"; do
        [[ $lesson == */build/* ]] && dir=${lesson%/} || dir=$(kit_program_dir "${lesson%/}")
        [ -d "$dir" ] || continue
        for prog in "$dir"/*; do
            name=$(basename "$prog")
            [[ -f $prog && -x $prog && $name != *.* ]] || continue
            if [ -n "$VALGRIND" ] && kit_valgrind_wanted "${lesson%/}"; then
                # shellcheck disable=SC2016 # "$@" and ${KIT_VG_DIR} expand in the wrapper, later
                printf '#!/bin/sh\nexec valgrind -q --leak-check=full --errors-for-leak-kinds=definite --track-fds=yes --error-exitcode=99 --log-file="${KIT_VG_DIR:-/tmp}/%s.%%p.log" "%s" "$@"\n' \
                    "$name" "$prog" >"$KIT_BIN/$name"
                chmod +x "$KIT_BIN/$name"
            else
                ln -sf "$prog" "$KIT_BIN/$name"
            fi
        done
    done
}

# kit_is_elf FILE - true for a compiled program (valgrind can run it; a script it cannot).
kit_is_elf() {
    [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]
}

# kit_apply_use - USE='NAME=COMMAND [NAME=COMMAND...]': the program NAME is COMMAND from
# now on (its words split on spaces; a leading ~ is the home directory). A new pair starts
# at a word NAME=... where NAME is one of the kit's programs. COMMAND runs as NAME (argv[0]),
# so its messages can start with NAME as the kit's do; under VALGRIND=1 a compiled COMMAND
# runs under valgrind like the kit's own programs. tests/run checks USE before bats starts.
kit_apply_use() {
    local word name=
    local -a words command=()
    read -ra words <<<"${USE:-}"
    for word in "${words[@]}" ""; do
        if [ -z "$word" ] || { [[ $word =~ ^([a-z0-9][a-z0-9-]*)=(.*)$ ]] &&
            [ -e "$KIT_BIN/${BASH_REMATCH[1]}" ]; }; then
            [ -z "$name" ] || kit_use_wrapper "$name" "${command[@]}"
            [ -n "$word" ] || break
            name=${BASH_REMATCH[1]}
            command=()
            word=${BASH_REMATCH[2]}
            [ -n "$word" ] || continue
        fi
        [[ $word == \~/* ]] && word=$HOME/${word#\~/}
        command+=("$word")
    done
}

# kit_use_wrapper NAME COMMAND... - $KIT_BIN/NAME runs COMMAND, named NAME.
kit_use_wrapper() {
    local name=$1 quoted
    shift
    # A bare command name resolves as the tests will see it (python3: the interpreter
    # itself, linked into $KIT_BIN, not a version manager's shim).
    [[ $1 == */* ]] || set -- "$(PATH=$KIT_BIN:$PATH command -v "$1" || echo "$1")" "${@:2}"
    quoted=$(printf '%q ' "$@")
    rm -f "$KIT_BIN/$name"
    if [ -n "$VALGRIND" ] && kit_is_elf "$1"; then
        # shellcheck disable=SC2016 # ${KIT_VG_DIR} and "$@" expand in the wrapper, later
        printf '#!/usr/bin/env bash
exec -a %s valgrind -q --leak-check=full --errors-for-leak-kinds=definite --track-fds=yes --error-exitcode=99 --log-file="${KIT_VG_DIR:-/tmp}/%s.%%p.log" %s"$@"
' \
            "$name" "$name" "$quoted" >"$KIT_BIN/$name"
    else
        printf '#!/usr/bin/env bash
exec -a %s %s"$@"
' "$name" "$quoted" >"$KIT_BIN/$name"
    fi
    chmod +x "$KIT_BIN/$name"
}

KIT_BIN=${BATS_FILE_TMPDIR:-$BATS_RUN_TMPDIR}/kit-bin
if [ ! -d "$KIT_BIN" ]; then
    kit_make_wrappers
    kit_apply_use
fi
PATH=$KIT_BIN:$PATH

# ---- per-test setup and teardown ----------------------------------------------

KIT_SERVER_PIDS=()

# kit_setup - call first in a file's own setup(): contain the test's processes, and skip
# it when an earlier stage failed (lib/stages.bash).
kit_setup() {
    kit_contain
    KIT_VG_DIR=$BATS_TEST_TMPDIR/valgrind
    [ -z "$VALGRIND" ] || mkdir -p "$KIT_VG_DIR"
    export KIT_VG_DIR
    kit_stage_gate
}

# kit_teardown - call last in a file's own teardown(): print the hint of a failed test,
# end every process the test started (servers by PID first, then everything left in its
# cgroup), and fail the test on any valgrind report.
kit_teardown() {
    local pid
    kit_stage_report
    for pid in "${KIT_SERVER_PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true # reaped here: bash says nothing of it later
    done
    kit_release
    kit_check_valgrind_logs
}

setup() {
    kit_setup
}

teardown() {
    kit_teardown
}

# kit_check_valgrind_logs - fail if any log holds an error or a descriptor of ours left open.
kit_check_valgrind_logs() {
    local log failed=0
    [ -n "$VALGRIND" ] || return 0
    for log in "$KIT_VG_DIR"/*.log; do
        [ -s "$log" ] || continue
        if grep -qE 'ERROR SUMMARY: [1-9]|definitely lost|Invalid (read|write|free)' "$log" ||
            awk '/Open (file descriptor|AF_|socket|.* socket)/ { open = 1; next }
                 open && /<inherited from parent>/ { open = 0; next }
                 open && /(at|by) 0x/ { leak = 1 }
                 /^==[0-9]+== *$/ { open = 0 }
                 END { exit !leak }' "$log"; then
            echo "# valgrind report: $log" >&3
            sed 's/^/# /' "$log" >&3
            failed=1
        fi
    done
    return "$failed"
}

# ---- servers -----------------------------------------------------------------------

# How much a server may write to its stdout and stderr files, in KiB: a server that floods
# its log is killed by SIGXFSZ at this size, and its test fails instead of filling the disk.
KIT_OUTPUT_CAP_KB=${KIT_OUTPUT_CAP_KB:-16384}

# start_server PROG ARGS... - start a server (its PORT argument should be 0), wait for its
# "listening on ADDR:PORT" line (5 s, scaled) and set SERVER_PID, SERVER_PORT,
# SERVER_ENDPOINT, SERVER_OUT (stdout file) and SERVER_ERR (stderr file). The files are
# capped at KIT_OUTPUT_CAP_KB each; no core file is written.
start_server() {
    local n=0 limit line status=0
    SERVER_OUT=$(mktemp "$BATS_TEST_TMPDIR/server-out.XXXXXX")
    SERVER_ERR=$(mktemp "$BATS_TEST_TMPDIR/server-err.XXXXXX")
    (
        ulimit -S -c 0 -f "$KIT_OUTPUT_CAP_KB" 2>/dev/null
        exec "$@"
    ) >"$SERVER_OUT" 2>"$SERVER_ERR" </dev/null 3>&- &
    SERVER_PID=$!
    KIT_SERVER_PIDS+=("$SERVER_PID")
    limit=$((100 * KIT_SLOW))
    # Poll the server's stdout file: a regular file never blocks the server's later writes.
    until line=$(grep -m1 '^listening on ' "$SERVER_OUT"); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            wait "$SERVER_PID" || status=$?
            echo "server did not start: $*: it ended before printing \"listening on ADDR:PORT\"" \
                "(it $(kit_describe_exit "$status"))"
            head -n 10 "$SERVER_ERR" | sed 's/^/stderr: /'
            return 1
        elif [ $((n += 1)) -gt "$limit" ]; then
            echo "server did not start: $*: it runs, but no \"listening on ADDR:PORT\" line" \
                "reached its stdout (a file) within $((limit / 20)) s. Printed and not flushed?" \
                "Into a file or a pipe, stdout is written only when its buffer fills:" \
                "fflush(stdout) after the line."
            head -n 10 "$SERVER_ERR" | sed 's/^/stderr: /'
            return 1
        fi
        sleep 0.05
    done
    SERVER_ENDPOINT=${line#listening on }
    # shellcheck disable=SC2034 # for the test files that load this helper
    SERVER_PORT=${SERVER_ENDPOINT##*:}
}

# kit_describe_exit STATUS - how a process with shell exit status STATUS ended, in words:
# "exited 1", "was killed by SIGPIPE (exit status 141)".
kit_describe_exit() {
    local status=$1 name
    if [ "$status" -gt 128 ] && name=$(kill -l "$status" 2>/dev/null); then
        echo "was killed by SIG$name (exit status $status)"
    else
        echo "exited $status"
    fi
}

# kit_stop_hint STATUS - the hint for a server that did not exit 0 on SIGTERM (STATUS 124:
# it was still running). A lesson file may set STOP_HINT_SECTION, its README's section on
# stopping, and STOP_HINT_IGNORED, its own words for a server that ignores SIGTERM.
kit_stop_hint() {
    case $1 in
    124) hint "${STOP_HINT_IGNORED:-SIGTERM must end the server: a handler that only sets a flag is not enough while the server sleeps in a blocking call (accept, read, write, poll) that SIGTERM does not interrupt}" "${STOP_HINT_SECTION:-}" ;;
    143) hint "SIGTERM must end the server with exit status 0: catch it (sigaction), close what is open, and return from main" "${STOP_HINT_SECTION:-}" ;;
    141) hint "a send() or write() to a peer that has gone raises SIGPIPE, which kills the process: ignore SIGPIPE, or send with MSG_NOSIGNAL" ;;
    *) ;;
    esac
}

# stop_server [PID] - SIGTERM, wait up to 5 s (scaled), then SIGKILL; succeeds only when the
# server exited 0 on its own. A failure says how it ended instead, under the test, with a hint.
stop_server() {
    local pid=${1:-$SERVER_PID} n=0 status=0 stat ended=
    # A server that already ended is a zombie until waited for (kill still reaches it).
    read -r stat 2>/dev/null <"/proc/$pid/stat" || stat=
    stat=${stat##*) }
    [ "${stat%% *}" != Z ] || ended=1
    kill -TERM "$pid" 2>/dev/null || ended=1
    while kill -0 "$pid" 2>/dev/null; do
        if [ $((n += 1)) -gt $((100 * KIT_SLOW)) ]; then
            # One redirection for both: bash may report the kill ("Killed") in between.
            { kill -KILL "$pid" && wait "$pid"; } 2>/dev/null || true
            echo "server $pid ignored SIGTERM: still running $((5 * KIT_SLOW)) s after it, killed"
            kit_stop_hint 124
            return 1
        fi
        sleep 0.05
    done
    wait "$pid" || status=$?
    [ "$status" -ne 0 ] || return 0
    if [ "$status" -eq $((128 + 25)) ]; then
        echo "server $pid wrote more than $KIT_OUTPUT_CAP_KB KiB to stdout or stderr (SIGXFSZ)"
    elif [ "$status" -eq 99 ] && [ -n "$VALGRIND" ]; then
        echo "server $pid exited 99: valgrind found an error (its report follows)"
    elif [ -n "$ended" ]; then
        echo "server $pid had ended before the test stopped it: it $(kit_describe_exit "$status")"
        kit_stop_hint "$status"
    elif [ "$status" -eq $((128 + 15)) ]; then
        echo "server $pid was killed by SIGTERM (exit status $status): a server catches" \
            "SIGTERM and SIGINT, closes everything and exits 0"
        kit_stop_hint "$status"
    else
        echo "server $pid $(kit_describe_exit "$status")"
        kit_stop_hint "$status"
    fi
    return 1
}

# wait_exit PID SECS - wait for a process of ours to end by itself; its exit status is
# returned (124 when it was still running after SECS, scaled, and was killed).
wait_exit() {
    local pid=$1 n=0 limit=$((${2:-5} * 20 * KIT_SLOW)) status=0
    while kill -0 "$pid" 2>/dev/null; do
        if [ $((n += 1)) -gt "$limit" ]; then
            kill -KILL "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
            return 124
        fi
        sleep 0.05
    done
    wait "$pid" || status=$?
    return "$status"
}

# free_port - a TCP port nothing listens on right now (for peers that cannot use port 0).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT [HOST] - wait (5 s, scaled) until something accepts on HOST:PORT.
wait_port() {
    local port=$1 host=${2:-127.0.0.1} n=0
    until nc -z "$host" "$port" 2>/dev/null; do
        [ $((n += 1)) -le $((100 * KIT_SLOW)) ] || return 1
        sleep 0.05
    done
}

# has_ipv6_loopback - true when a socket can bind ::1 here.
has_ipv6_loopback() {
    python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null
}

# has_ipv6_localhost - true when /etc/hosts (or the resolver) maps localhost to ::1.
has_ipv6_localhost() {
    getent ahostsv6 localhost 2>/dev/null | grep -q '^::1 '
}

# ipv6_localhost_first [CMD...] - true when the name localhost resolves to ::1 first and to
# 127.0.0.1 after it (in the view CMD gives, when given).
ipv6_localhost_first() {
    local addresses
    addresses=$("$@" getent ahosts localhost 2>/dev/null | awk '$2 == "STREAM" { print $1 }')
    [ "${addresses%%$'\n'*}" = ::1 ] && grep -qx 127.0.0.1 <<<"$addresses"
}

# need_ipv6_localhost - prepare `as_ipv6_localhost CMD...`, which runs CMD where localhost
# resolves to ::1 first and 127.0.0.1 second, as with stock Debian's /etc/hosts: the case
# a client that tries only the first address fails in. Where this system resolves it
# otherwise, CMD runs in a private mount namespace with Debian's two lines bound over
# /etc/hosts (root only); the rest of the machine sees nothing. Skips the test when
# neither is possible, or when there is no IPv6 loopback.
need_ipv6_localhost() {
    has_ipv6_loopback || skip "no IPv6 loopback (::1) on this machine"
    KIT_HOSTS_VIEW=()
    ipv6_localhost_first && return 0
    if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null; then
        skip "localhost is not ::1 first here, and only root can show a test otherwise"
    fi
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
        >"$BATS_TEST_TMPDIR/hosts"
    # shellcheck disable=SC2016 # $0 and $@ belong to the inner sh
    KIT_HOSTS_VIEW=(unshare --mount sh -c 'mount --bind "$0" /etc/hosts && exec "$@"'
        "$BATS_TEST_TMPDIR/hosts")
    ipv6_localhost_first "${KIT_HOSTS_VIEW[@]}" ||
        skip "a private /etc/hosts did not make localhost ::1 first here"
}

# as_ipv6_localhost CMD [ARGS...] - run CMD as need_ipv6_localhost prepared.
as_ipv6_localhost() {
    "${KIT_HOSTS_VIEW[@]}" "$@"
}

# ---- the usage contract ------------------------------------------------------------------

# assert_usage_errors PROG USAGE_LINE - for each line "ARGS<TAB>MESSAGE" on stdin, PROG ARGS
# (split on spaces; "-" for none) must exit 2 and print, on stderr only, exactly the two lines
# "PROG: MESSAGE" and USAGE_LINE: what was wrong, then how to call it.
assert_usage_errors() {
    local prog=$1 usage=$2 args message
    local -a words
    while IFS=$'\t' read -r args message; do
        [ -n "$args" ] || continue
        words=()
        [ "$args" = - ] || read -ra words <<<"$args"
        run --separate-stderr timeout "$(tmo 5)" "$prog" "${words[@]}" </dev/null
        # shellcheck disable=SC2154 # stderr: set by bats' run --separate-stderr
        if [ "$status" -ne 2 ] || [ -n "$output" ] ||
            [ "$stderr" != "$prog: $message"$'\n'"$usage" ]; then
            printf '%s\n' "-- bad usage: $prog ${words[*]}" "expected exit 2 and on stderr:" \
                "  $prog: $message" "  $usage" "got exit $status, on stdout:" "$output" \
                "and on stderr:" "$stderr" "--"
            return 1
        fi
    done
}
