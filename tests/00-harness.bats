#!/usr/bin/env bats
# tests/00-harness.bats - the test harness keeps its promises: nothing a test starts
# outlives it (also when it times out), a flooding server cannot fill the disk, and stages
# skip and explain. Runs the misbehaving tests of tests/fixtures/harness.bats in an inner
# bats and inspects what is left afterwards.

load test_helper

# marked_processes MARK - PIDs of live processes whose command line holds MARK (grep reads
# the mark from a file, so that its own command line does not hold it).
marked_processes() {
    printf '%s\n' "$1" >"$BATS_TEST_TMPDIR/mark"
    grep -lsaF -f "$BATS_TEST_TMPDIR/mark" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3 || true
}

# inner_bats FILTER - run one fixture test in an inner bats (bounded), with a fresh mark.
inner_bats() {
    export HARNESS_MARK=harness-mark-$BASHPID-$RANDOM
    run timeout "$(tmo 30)" bats --tap -f "$1" "$KIT_ROOT/tests/fixtures/harness.bats" 3>&-
}

@test "harness: a process a test leaves behind ends with it, even one reparented to init" {
    inner_bats "leaves an orphan behind"
    assert_success
    assert_equal "$(marked_processes "$HARNESS_MARK")" ""
}

@test "harness: a test that hangs fails at bats' timeout and leaves no process behind" {
    BATS_TEST_TIMEOUT=2 inner_bats "hangs until"
    assert_failure 1
    assert_output --partial "not ok 1 hangs until bats' timeout ends it # timeout after 2s"
    assert_equal "$(marked_processes "$HARNESS_MARK")" ""
}

@test "harness: a server flooding its log fails its test at the size cap, with nothing left" {
    KIT_OUTPUT_CAP_KB=1024 inner_bats "floods its log"
    assert_failure 1
    assert_output --partial "wrote more than 1024 KiB to stdout or stderr (SIGXFSZ)"
    assert_equal "$(marked_processes "$HARNESS_MARK")" ""
}

@test "harness: stages: a failing stage shows the bytes and the hint; later stages are skipped" {
    inner_bats "stage|without"
    assert_failure 1
    assert_line "not ok 1 stage 1: fails"
    assert_line '# expected: 13 bytes  "hello\r\nworld\0"'
    assert_line '# got:      3 bytes  "hel"'
    assert_line "# what came back is the start of what was expected: 10 of 13 bytes are missing"
    assert_line "# hint: this stage fails on purpose"
    assert_line '#       see docs/testing.md, section "Build and run"'
    assert_line "ok 2 stage 1: another test of the same stage still runs"
    assert_line "ok 3 stage 2: is skipped while stage 1 fails # skip stage 1 failed first: make it pass, then this one runs (ALL=1 runs every stage)"
    assert_line "ok 4 a test without a stage always runs"
    ALL=1 inner_bats "stage 2"
    assert_success
}
