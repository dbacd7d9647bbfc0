# tests/lib/contain.bash - every process a test starts ends with the test, also when the
# test fails or runs out of time. Loaded by test_helper.bash.
#
# A test starts servers, peers, pipelines and subshells; some of them start children of
# their own. When bats' timeout ends a hung test it signals only the test's direct
# children, and the grandchildren, reparented to init, would run on after the suite. So
# each test runs in a cgroup of its own (cgroup v2, as root): every process forked during
# the test lands in it, whoever its parent is by then, and teardown kills the whole group
# at once (cgroup.kill). Where no writable cgroup v2 exists (not root, an old kernel),
# teardown falls back to killing the descendants it can still find through their parents.
#
#   kit_contain   first thing in setup: move the test's own process into a new cgroup, and
#                 start a watchdog for bats' timeout
#   kit_release   in teardown: move it back out, kill everything left in the cgroup
#
# The watchdog: bats 1.8 ends a test that exceeds BATS_TEST_TIMEOUT by signalling the test
# process, whose trap runs only once its foreground command returns, and by sending SIGTERM
# to the test's children. A child that ignores SIGTERM (or waits on a grandchild that
# does) would hold the test forever. So, 2 s after the timeout, the watchdog kills every
# process of the test but the test's own; bats' trap then ends the test as timed out, and
# teardown runs.
# shellcheck shell=bash

# Where cgroup v2 is mounted and writable by us, once per file (empty: not available).
kit_cgroup_mount() {
    local mnt
    [ "$(id -u)" -eq 0 ] || return 0
    mnt=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts 2>/dev/null)
    [ -n "$mnt" ] && mkdir -p "$mnt/kit-tests" 2>/dev/null && [ -w "$mnt/kit-tests" ] &&
        printf '%s\n' "$mnt"
}
[ -n "${KIT_CGROUP_MNT+set}" ] || KIT_CGROUP_MNT=$(kit_cgroup_mount)
export KIT_CGROUP_MNT # each test is a new process that loads this file: look once

kit_contain() {
    local dir
    KIT_TEST_CGROUP=
    KIT_TEST_PID=$BASHPID
    if [ -n "$KIT_CGROUP_MNT" ]; then
        # The cgroup this process came from, to go back to: "0::/path" in /proc/PID/cgroup.
        local line
        KIT_CGROUP_HOME=
        while read -r line; do
            [[ $line == 0::* ]] && KIT_CGROUP_HOME=${line#0::}
        done <"/proc/$BASHPID/cgroup"
        # A test run from inside another test (the harness's own tests do that) nests its
        # cgroup in the outer test's, so that ending the outer test ends the inner one too.
        case $KIT_CGROUP_HOME in
        /kit-tests/*) dir=$KIT_CGROUP_MNT$KIT_CGROUP_HOME/$BASHPID ;;
        *) dir=$KIT_CGROUP_MNT/kit-tests/$BASHPID ;;
        esac
        mkdir "$dir" 2>/dev/null && kit_enter_cgroup "$dir"
    fi
    kit_start_watchdog
}

# kit_enter_cgroup DIR - move this process into the cgroup DIR (removed if that fails).
kit_enter_cgroup() {
    if echo "$BASHPID" >"$1/cgroup.procs" 2>/dev/null; then
        KIT_TEST_CGROUP=$1
    else
        rmdir "$1" 2>/dev/null
    fi
}

# kit_start_watchdog - see the header: kill the test's processes 2 s after bats' timeout.
# A child of the test, deaf to the SIGTERM that bats' timeout sends to those; it waits with
# bash's own `read -t` on a FIFO nobody writes, so that it has no child of its own, and
# teardown ends it with one kill and one wait.
kit_start_watchdog() {
    KIT_WATCHDOG_PID=
    [ -n "${BATS_TEST_TIMEOUT:-}" ] || return 0
    mkfifo "$BATS_TEST_TMPDIR/.watchdog" 2>/dev/null || return 0
    (
        trap '' TERM
        # It times out with a status over 128: no `set -e` (bats') may end the watchdog there.
        read -r -t $((BATS_TEST_TIMEOUT + 2)) _ <>"$BATS_TEST_TMPDIR/.watchdog" || true
        kit_kill_test_processes "$BASHPID"
    ) </dev/null >/dev/null 2>&1 3>&- &
    KIT_WATCHDOG_PID=$!
}

# kit_kill_test_processes [SPARE] - SIGKILL every process of the test except the test's
# own process and SPARE.
kit_kill_test_processes() {
    local pid others _
    local -a pids
    if [ -n "$KIT_TEST_CGROUP" ]; then
        # Read the whole list before killing: the kernel builds cgroup.procs as it is read,
        # and processes dying meanwhile would make it skip others. Then look again, until
        # only the test and the spared process are left (a fork may have been under way).
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            mapfile -t pids <"$KIT_TEST_CGROUP/cgroup.procs"
            others=0
            for pid in "${pids[@]}"; do
                [ "$pid" = "$KIT_TEST_PID" ] || [ "$pid" = "${1:-}" ] ||
                    { kill -KILL "$pid" 2>/dev/null; others=1; }
            done
            [ "$others" = 1 ] || break
            sleep 0.05
        done
    else
        kit_kill_descendants "$KIT_TEST_PID" "${1:-}"
    fi
}

kit_release() {
    local dir=${KIT_TEST_CGROUP:-} n=0 pid
    local -a pids
    # Only the test's own process ends the test's processes: a subshell of the test that is
    # signalled just after its fork may run the test's EXIT trap (and teardown) itself.
    [ "$BASHPID" = "${KIT_TEST_PID:-$BASHPID}" ] || return 0
    if [ -n "${KIT_WATCHDOG_PID:-}" ]; then
        kill -KILL "$KIT_WATCHDOG_PID" 2>/dev/null
        wait "$KIT_WATCHDOG_PID" 2>/dev/null || true
    fi
    if [ -z "$dir" ]; then
        kit_kill_descendants "${KIT_TEST_PID:-$BASHPID}" ""
        return 0
    fi
    echo "$BASHPID" >"$KIT_CGROUP_MNT${KIT_CGROUP_HOME%/}/cgroup.procs"
    # Most tests leave nothing behind: the cgroup is empty, and goes at once.
    rmdir "$dir" 2>/dev/null && { KIT_TEST_CGROUP=; return 0; }
    if [ -e "$dir/cgroup.kill" ]; then
        echo 1 >"$dir/cgroup.kill"
    else
        mapfile -t pids <"$dir/cgroup.procs"
        for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    fi
    # The killed processes leave the cgroup as they die; an empty cgroup can be removed,
    # after the cgroups of inner tests, if any, deepest first.
    until find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null; do
        [ $((n += 1)) -le 100 ] || { echo "# processes outlived their test in $dir" >&3; return 1; }
        sleep 0.02
    done
    KIT_TEST_CGROUP=
}

# kit_kill_descendants PID SPARE - SIGKILL every process whose parent chain leads to PID,
# except SPARE and the caller (the
# fallback without cgroups: a process already reparented to init escapes it). One awk
# reads every /proc/PID/stat: field 4 is the parent, counted after the ")" that ends the
# command name (which may itself hold spaces and parentheses).
kit_kill_descendants() {
    local pid
    while read -r pid; do
        kill -KILL "$pid" 2>/dev/null
    done < <(awk -v root="$1" -v spare="$2" -v self="$BASHPID" '
        FNR == 1 { line = $0; sub(/^.*\) /, "", line); split(line, f, " ")
                   split(FILENAME, path, "/"); parent[path[3]] = f[2] }
        END {
            for (p in parent) {
                for (q = parent[p]; q != "" && q > 1; q = parent[q])
                    if (q == root) { if (p != self && p != spare) print p; break }
            }
        }' /proc/[0-9]*/stat 2>/dev/null)
}
