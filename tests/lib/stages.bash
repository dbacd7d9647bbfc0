# tests/lib/stages.bash - a lesson's tests as stages, in the order its README teaches, and
# failures a learner can read. Loaded by test_helper.bash.
#
# A test named "stage N: ..." belongs to stage N (several tests may share a stage). The
# tests of a file run in order; once a test of stage N fails, the tests of later stages
# are skipped with "stage N failed first", so a learner works on one thing at a time.
# ALL=1 runs every stage anyway. Tests without "stage N:" in their name always run.
#
# When a test fails it prints, instead of bats' internals, what the learner needs:
#   hint TEXT [SECTION]         the likely mistake, and the README section that explains it;
#                               printed under a failing test (the last hint set wins)
#   assert_same_bytes EXPECTED GOT [SENT]
#                               compare two files byte for byte; on a difference print what
#                               was sent, what was expected and what came back, control
#                               characters made visible, with sizes and the first difference
#   show_bytes FILE [MAX]       one line: the file's bytes as a C string literal, cut at MAX
#   assert_text EXPECTED GOT [WHAT]
#                               two texts; on a difference, the lines that differ (a diff),
#                               at most 30
# shellcheck shell=bash

KIT_STAGE=
KIT_HINT=
KIT_HINT_SECTION=

# The lesson README a test file belongs to: tests/03-echo-server.bats -> lessons/03-echo-server;
# a lesson with several files (tests/05-multi-client-fork.bats) -> the lesson of its number.
kit_lesson_readme() {
    local name dir
    name=$(basename "$BATS_TEST_FILENAME" .bats)
    if [ -f "$KIT_ROOT/lessons/$name/README.md" ]; then
        echo "lessons/$name/README.md"
        return 0
    fi
    for dir in "$KIT_ROOT/lessons/${name%%-*}"-*/; do
        if [ -f "$dir/README.md" ]; then
            dir=${dir%/}
            echo "lessons/${dir##*/}/README.md"
            return 0
        fi
    done
    echo "docs/testing.md"
}

# kit_stage_gate - in setup: note this test's stage; skip it when an earlier stage failed.
kit_stage_gate() {
    local failed
    KIT_STAGE=
    KIT_HINT=
    KIT_HINT_SECTION=
    [[ $BATS_TEST_DESCRIPTION =~ ^stage\ ([0-9]+): ]] || return 0
    KIT_STAGE=${BASH_REMATCH[1]}
    [ -z "${ALL:-}" ] || return 0
    [ -f "$BATS_FILE_TMPDIR/failed-stage" ] || return 0
    read -r failed <"$BATS_FILE_TMPDIR/failed-stage"
    if [ "$KIT_STAGE" -gt "$failed" ]; then
        skip "stage $failed failed first: make it pass, then this one runs (ALL=1 runs every stage)"
    fi
}

# kit_stage_report - in teardown: on failure, remember the stage and print the hint.
kit_stage_report() {
    local failed
    [ -z "${BATS_TEST_COMPLETED:-}" ] || return 0
    if [ -n "$KIT_STAGE" ]; then
        failed=
        [ ! -f "$BATS_FILE_TMPDIR/failed-stage" ] || read -r failed <"$BATS_FILE_TMPDIR/failed-stage"
        if [ -z "$failed" ] || [ "$KIT_STAGE" -lt "$failed" ]; then
            echo "$KIT_STAGE" >"$BATS_FILE_TMPDIR/failed-stage"
        fi
    fi
    if [ -n "$KIT_HINT" ]; then
        echo "hint: $KIT_HINT"
        [ -z "$KIT_HINT_SECTION" ] ||
            echo "      see $(kit_lesson_readme), section \"$KIT_HINT_SECTION\""
    fi
}

# hint TEXT [SECTION] - what a failure from here on most likely means.
hint() {
    KIT_HINT=$1
    KIT_HINT_SECTION=${2:-}
}

# show_bytes FILE [MAX] - the bytes of FILE as one C string literal, at most MAX (default
# 120) of them, with "... (N bytes in all)" when cut.
show_bytes() {
    python3 - "$1" "${2:-120}" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
limit = int(sys.argv[2])
names = {0x0a: "\\n", 0x0d: "\\r", 0x09: "\\t", 0x00: "\\0", 0x22: '\\"', 0x5c: "\\\\"}
text = "".join(names.get(b, chr(b) if 0x20 <= b < 0x7f else "\\x%02x" % b) for b in data[:limit])
more = " ... (%s bytes in all)" % format(len(data), ",") if len(data) > limit else ""
print('"%s"%s' % (text, more))
PY
}

# kit_count N - N with thousands separators: 4165632 -> 4,165,632 (whatever the locale:
# printf's %'d groups nothing in C or C.UTF-8).
kit_count() {
    local n=$1 grouped=
    [[ $n =~ ^[0-9]+$ ]] || {
        echo "$n"
        return 0
    }
    while [ ${#n} -gt 3 ]; do
        grouped=,${n: -3}$grouped
        n=${n:0:${#n}-3}
    done
    echo "$n$grouped"
}

# assert_same_bytes EXPECTED GOT [SENT] - the two files hold the same bytes; otherwise say
# what was sent, expected and received, and where they first differ.
assert_same_bytes() {
    local expected=$1 got=$2 sent=${3:-} at want have
    cmp -s "$expected" "$got" && return 0
    want=$(stat -c %s "$expected")
    have=$(stat -c %s "$got")
    {
        [ -z "$sent" ] || echo "sent:     $(kit_count "$(stat -c %s "$sent")") bytes  $(show_bytes "$sent")"
        echo "expected: $(kit_count "$want") bytes  $(show_bytes "$expected")"
        echo "got:      $(kit_count "$have") bytes  $(show_bytes "$got")"
        at=$(cmp "$expected" "$got" 2>/dev/null | sed -n 's/.* byte \([0-9]*\).*/\1/p')
        if [ -n "$at" ]; then
            echo "first difference at byte $(kit_count $((at - 1))) (counting from 0)"
        elif [ "$have" -lt "$want" ]; then
            echo "what came back is the start of what was expected: $(kit_count $((want - have))) of $(kit_count "$want") bytes are missing"
        else
            echo "what came back has $(kit_count $((have - want))) bytes more than expected"
        fi
    } >&2
    return 1
}

# assert_text EXPECTED GOT [WHAT] - two texts are equal; otherwise print WHAT and the lines
# where they differ (- expected, + got, two lines of context), at most 30, each cut at 150
# characters: one screen, however long the texts.
assert_text() {
    [ "$2" = "$1" ] && return 0
    {
        echo "${3:-expected and got differ}, line by line (- expected, + got):"
        diff -U2 <(printf '%s\n' "$1") <(printf '%s\n' "$2") | tail -n +3 |
            sed 's/^@@.*@@$/  .../' | cut -c1-150 | head -n 30
    } >&2
    return 1
}
