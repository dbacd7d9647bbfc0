#!/usr/bin/env bats
# tests/00-common.bats - the helper module common/ through the small programs in tests/common/:
#   lines-split      the line splitter (io_lines) and reader (io_read_line)
#   write-all-check  io_write_all against a tiny send buffer and a slow reader
#   port-parse       net_parse_port
#   net-check        net_listen, net_connect (stop-aware), net_accept: flags and errors
#   stop-check       sig_setup_stop and sig_wait_fd with threads and across fork()
# lines-split prints "line LEN [TEXT]" per line and "last LEN [TEXT]" for an unterminated
# last line, bytes outside 0x20..0x7e as \xHH; a line over --max exits 3.

# shellcheck disable=SC2030,SC2031 # each @test runs in a subshell: $output, $status are per test
load test_helper

# split INPUT ARGS... - run lines-split on INPUT (printf %b escapes: \n \r \0 \\) with ARGS.
split() {
    local input=$1
    shift
    printf '%b' "$input" >"$BATS_TEST_TMPDIR/input"
    run --separate-stderr timeout "$(tmo 5)" lines-split "$@" <"$BATS_TEST_TMPDIR/input"
}

# split_all_chunks INPUT EXPECTED [ARGS...] - the same output for every read size, 1 byte up.
split_all_chunks() {
    local input=$1 expected=$2 chunk
    shift 2
    for chunk in 1 2 3 5 4096; do
        split "$input" --chunk "$chunk" "$@"
        assert_success
        assert_output "$expected"
    done
}

# ---- line endings ----------------------------------------------------------------------

@test "io_lines: LF ends a line" {
    split_all_chunks 'one\ntwo\n' $'line 3 [one]\nline 3 [two]'
}

@test "io_lines: CRLF ends a line, the CR is not part of it" {
    split_all_chunks 'one\r\ntwo\r\n' $'line 3 [one]\nline 3 [two]'
}

@test "io_lines: a lone CR ends a line" {
    split_all_chunks 'one\rtwo\r' $'line 3 [one]\nline 3 [two]'
}

@test "io_lines: a CR and its LF in different reads make one line end, not two" {
    # --chunk 3 reads "ab\r" then "\ncd" then "\n": the split falls between CR and LF.
    split 'ab\r\ncd\n' --chunk 3
    assert_success
    assert_output $'line 2 [ab]\nline 2 [cd]'
    # The same with the CR as the very last byte of a read that filled the buffer.
    split '1234\r\n5\n' --max 4 --chunk 4096
    assert_success
    assert_output $'line 4 [1234]\nline 1 [5]'
}

@test "io_lines: a CR as the last byte of the stream ends the line; nothing follows" {
    split_all_chunks 'ab\r' 'line 2 [ab]'
}

@test "io_lines: mixed endings in one stream" {
    split_all_chunks 'a\nb\r\nc\rd\n\re\r\r\nf' \
        $'line 1 [a]\nline 1 [b]\nline 1 [c]\nline 1 [d]\nline 0 []\nline 1 [e]\nline 0 []\nlast 1 [f]'
}

@test "io_lines: empty lines are lines, whatever their ending" {
    split_all_chunks '\n\r\n\r\n\r' $'line 0 []\nline 0 []\nline 0 []\nline 0 []'
}

@test "io_lines: 2000 random lines give the same lines for reads of 1, 7 and 4096 bytes" {
    local chunk
    "$BATS_TEST_DIRNAME/common/gen-lines.py" 7 2000 "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/expected"
    for chunk in 1 7 4096; do
        timeout "$(tmo 10)" lines-split --chunk "$chunk" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
        cmp "$BATS_TEST_TMPDIR/expected" "$BATS_TEST_TMPDIR/out"
    done
}

# ---- the end of the stream ----------------------------------------------------------------

@test "io_lines: an unterminated last line is returned at EOF" {
    split_all_chunks 'first\nlast line' $'line 5 [first]\nlast 9 [last line]'
}

@test "io_lines: an empty stream has no lines" {
    split ''
    assert_success
    assert_output ''
}

# ---- the length cap -----------------------------------------------------------------------

@test "io_lines: a line of exactly --max bytes is accepted with every ending and at EOF" {
    split_all_chunks '12345678\n' 'line 8 [12345678]' --max 8
    split_all_chunks '12345678\r\nx\n' $'line 8 [12345678]\nline 1 [x]' --max 8
    split_all_chunks '12345678\rx\r' $'line 8 [12345678]\nline 1 [x]' --max 8
    split_all_chunks '12345678' 'last 8 [12345678]' --max 8
}

@test "io_lines: a line of --max + 1 bytes fails with a distinct error after the lines before it" {
    local chunk
    for chunk in 1 4096; do
        split 'ok\n123456789\nnever\n' --max 8 --chunk "$chunk"
        [ "$status" -eq 3 ]
        assert_output 'line 2 [ok]'
        [ "$stderr" = "lines-split: line longer than 8 bytes" ]
    done
    split '123456789' --max 8
    [ "$status" -eq 3 ]
}

@test "io_lines: a 1 MiB line is rejected at the cap, not buffered whole" {
    head -c 1048576 /dev/zero | tr '\0' 'a' >"$BATS_TEST_TMPDIR/big"
    run --separate-stderr timeout "$(tmo 5)" lines-split --max 1024 <"$BATS_TEST_TMPDIR/big"
    [ "$status" -eq 3 ]
    [ "$stderr" = "lines-split: line longer than 1024 bytes" ]
}

# ---- bytes passed through -------------------------------------------------------------------

@test "io_lines: NUL bytes are part of the line, and its length counts them" {
    split_all_chunks 'a\0b\n\0\n\0' $'line 3 [a\\x00b]\nline 1 [\\x00]\nlast 1 [\\x00]'
}

@test "io_lines: bytes above 0x7f and backslashes pass through unchanged" {
    split_all_chunks 'caf\303\251 \\ ok\n' 'line 10 [caf\xc3\xa9 \\ ok]'
}

# ---- the reader on a descriptor ---------------------------------------------------------------

@test "io_read_line: reads lines from a pipe, the unterminated last one at EOF" {
    split 'one\r\ntwo\rthree\n\0end' --reader
    assert_success
    assert_output $'line 3 [one]\nline 3 [two]\nline 5 [three]\nline 4 [\\x00end]'
}

@test "io_read_line: a line over the cap fails with EMSGSIZE" {
    split '1234\n12345\n' --reader --max 4
    [ "$status" -eq 3 ]
    assert_output 'line 4 [1234]'
    [ "$stderr" = "lines-split: line longer than 4 bytes" ]
}

@test "lines-split: -h prints usage and exits 0; a stray argument exits 2" {
    run --separate-stderr lines-split -h
    assert_success
    assert_output --partial 'usage: lines-split'
    run --separate-stderr lines-split stray
    [ "$status" -eq 2 ]
    [[ $stderr == "usage: lines-split "* ]]
}

# ---- io_write_all -----------------------------------------------------------------------------

# 4 MiB normally; 256 KiB under valgrind, where each partial write costs far more.
write_bytes() {
    if [ -n "$VALGRIND" ]; then echo 262144; else echo 4194304; fi
}

# check_write_all ARGS... - run write-all-check and insist every byte arrived in order through
# a send buffer far smaller than the data.
check_write_all() {
    local bytes
    bytes=$(write_bytes)
    run --separate-stderr timeout "$(tmo 20)" write-all-check --bytes "$bytes" "$@"
    assert_success
    assert_line "wrote $bytes bytes in one io_write_all call"
    assert_line "read $bytes bytes, all in order"
    [ -z "$stderr" ]
}

# The send buffer reported by write-all-check must be tiny next to the data.
assert_tiny_send_buffer() {
    local size
    size=$(sed -n 's/^send buffer: \([0-9]*\) bytes$/\1/p' <<<"$output")
    [ -n "$size" ]
    [ "$size" -le $(($(write_bytes) / 16)) ]
}

@test "io_write_all: every byte arrives in order through a socketpair with a tiny send buffer" {
    check_write_all
    assert_tiny_send_buffer
}

@test "io_write_all: every byte arrives in order over loopback TCP with a tiny send buffer" {
    check_write_all --tcp
    assert_tiny_send_buffer
}

@test "io_write_all: a pipe, which is no socket, works as well" {
    check_write_all --pipe
}

@test "io_write_all: signals interrupting the waits do not lose or repeat bytes" {
    check_write_all --signals
    local signals
    signals=$(sed -n 's/^signals during the write: \([0-9]*\)$/\1/p' <<<"$output")
    [ "${signals:-0}" -gt 0 ]
}

@test "io_write_all: a reader that closes gives EPIPE, not death by SIGPIPE" {
    run --separate-stderr timeout "$(tmo 10)" write-all-check --peer-closes
    [ "$status" -eq 1 ]
    [ "$stderr" = "write-all-check: io_write_all: Broken pipe" ]
}

@test "io_write_all: a TCP peer that closes with data unread gives an error, not SIGPIPE" {
    run --separate-stderr timeout "$(tmo 10)" write-all-check --tcp --peer-closes
    [ "$status" -eq 1 ]
    [[ $stderr =~ ^write-all-check:\ io_write_all:\ (Connection\ reset\ by\ peer|Broken\ pipe)$ ]]
}

# ---- net_parse_port -----------------------------------------------------------------------------

# port_ok TEXT PORT / port_bad TEXT - what net_parse_port makes of TEXT.
port_ok() {
    run --separate-stderr port-parse "$1"
    assert_success
    assert_output "$2"
}

port_bad() {
    run --separate-stderr port-parse "$1"
    [ "$status" -eq 1 ]
    assert_output ''
    [ "$stderr" = "port-parse: not a port: '$1'" ]
}

@test "net_parse_port: accepts 0 and 65535, the ends of the range" {
    port_ok 0 0
    port_ok 65535 65535
    port_ok 80 80
}

@test "net_parse_port: rejects 65536 and 99999, past the range" {
    port_bad 65536
    port_bad 99999
}

@test "net_parse_port: rejects signs, -1 and +1" {
    port_bad -1
    port_bad +1
}

@test "net_parse_port: rejects trailing garbage and spaces: 80x, ' 1', '1 '" {
    port_bad 80x
    port_bad ' 1'
    port_bad '1 '
    port_bad 0x50
}

@test "net_parse_port: rejects the empty string" {
    port_bad ''
}

@test "net_parse_port: takes at most five digits: 00080 is 80, 000080 is rejected" {
    port_ok 00080 80
    port_bad 000080
    port_bad 0000000000000000000080
}

@test "port-parse: -h prints usage and exits 0; no argument exits 2" {
    run --separate-stderr port-parse -h
    assert_success
    assert_output 'usage: port-parse ARG'
    run --separate-stderr port-parse
    [ "$status" -eq 2 ]
    [ "$stderr" = 'usage: port-parse ARG' ]
}

# ---- args_parse_count --------------------------------------------------------------------------

# count_ok TEXT MIN MAX VALUE / count_bad TEXT MIN MAX - what args_parse_count makes of TEXT.
count_ok() {
    run --separate-stderr count-parse "$1" "$2" "$3"
    assert_success
    assert_output "$4"
}

count_bad() {
    run --separate-stderr count-parse "$1" "$2" "$3"
    [ "$status" -eq 1 ]
    assert_output ''
    [ "$stderr" = "count-parse: not a count in $2..$3: '$1'" ]
}

@test "args_parse_count: accepts both ends of the range and leading zeros" {
    count_ok 1 1 10 1
    count_ok 10 1 10 10
    count_ok 0007 1 10 7
    count_ok 18446744073709551615 0 18446744073709551615 18446744073709551615
}

@test "args_parse_count: rejects values outside the range, also ones that overflow" {
    count_bad 0 1 10
    count_bad 11 1 10
    count_bad 7 0 5 # one digit above a maximum under 9
    count_bad 18446744073709551616 0 18446744073709551615
    count_bad 99999999999999999999999 0 18446744073709551615
}

@test "args_parse_count: rejects signs, spaces, garbage and the empty string" {
    local text
    for text in -1 +1 ' 5' '5 ' 5x 0x5 1e3 ''; do
        count_bad "$text" 0 100
    done
}

seconds_bad() {
    run --separate-stderr seconds-parse "$1" "$2"
    [ "$status" -eq 1 ]
    assert_output ''
    [ "$stderr" = "seconds-parse: not seconds in (0, $2]: '$1'" ]
}

@test "args_parse_seconds: whole and fractional seconds up to the maximum" {
    run --separate-stderr seconds-parse 3 3600
    assert_success
    assert_output 3.000000
    run --separate-stderr seconds-parse 0.25 3600
    assert_output 0.250000
    run --separate-stderr seconds-parse 3600 3600
    assert_output 3600.000000
    run --separate-stderr seconds-parse 007.5 10
    assert_output 7.500000
}

@test "args_parse_seconds: rejects zero, too many, signs, exponents, inf and half numbers" {
    local text
    for text in 0 0.0 3601 3600.5 -1 +1 ' 1' '1 ' 1e3 0x10 inf nan .5 5. 1.2.3 ''; do
        seconds_bad "$text" 3600
    done
}

# ---- net_listen, net_connect, net_accept -------------------------------------------------------

# need_linux WHAT - skip, saying so, where this is not Linux (the kit's own code runs on macOS and
# the BSDs too, but these tests look at it through /proc, ss and strace).
need_linux() {
    [ "$(uname -s)" = Linux ] || skip "needs Linux: $1"
}

@test "net_listen, net_connect, net_accept: every socket is close-on-exec and blocking" {
    run --separate-stderr timeout "$(tmo 5)" net-check accept
    assert_success
    assert_output $'listening: blocking, close-on-exec\nconnected: blocking, close-on-exec\naccepted: blocking, close-on-exec'
}

@test "net_connect: a refused port is one line naming host, port and reason" {
    local port
    port=$(free_port)
    run --separate-stderr timeout "$(tmo 5)" net-check connect 127.0.0.1 "$port"
    assert_failure 1
    assert_output ''
    [ "$stderr" = "net-check: cannot connect to 127.0.0.1 port $port: Connection refused" ]
}

@test "net_connect: a name that does not resolve is one line too" {
    run --separate-stderr timeout "$(tmo 10)" net-check connect no-such-host.invalid 80
    assert_failure 1
    [[ $stderr == "net-check: cannot resolve no-such-host.invalid port 80: "?* ]]
}

# start_listener [SCRIPT] - a python3 server on 127.0.0.1 port 0 that never accepts: it runs
# SCRIPT (python, with the listening socket s), prints "listening on 127.0.0.1:PORT" and
# exits 0 on SIGTERM.
start_listener() {
    start_server python3 -c '
import signal, socket, sys
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(int(sys.argv[2]))
exec(sys.argv[1])
print("listening on 127.0.0.1:%d" % s.getsockname()[1], flush=True)
signal.pause()
' "${1:-pass}" "${2:-16}"
}

@test "net_connect: tries every address in order: localhost as ::1 first, then 127.0.0.1" {
    need_ipv6_localhost
    start_listener
    run --separate-stderr as_ipv6_localhost timeout "$(tmo 5)" net-check connect localhost "$SERVER_PORT"
    assert_success
    assert_output 'connected: blocking, close-on-exec'
    stop_server
}

# The listener's queue (backlog 0) is full: the kernel drops further SYNs, and a connect()
# waits for the handshake while they are sent again (1 s, 3 s, 7 s, ... later). A blocking
# connect() would sleep through SIGTERM there, the stop signals being blocked (sig.h).
@test "net_connect: SIGTERM while the handshake waits on a full backlog ends it at once" {
    local out=$BATS_TEST_TMPDIR/connect.out err=$BATS_TEST_TMPDIR/connect.err pid n=0 status=0
    need_linux "ss -p shows when the SYN is out"
    start_listener '
import select
held = []
while True:  # fill the queue: stop at the first connection the kernel leaves unanswered
    c = socket.socket()
    c.setblocking(False)
    c.connect_ex(s.getsockname())
    held.append(c)
    if not select.select([], [c], [], 0.3)[1]:
        break
' 0
    net-check connect 127.0.0.1 "$SERVER_PORT" >"$out" 2>"$err" 3>&- &
    pid=$!
    # Bounded wait until its SYN is out: ss lists its socket as SYN-SENT.
    until ss -Htnp state syn-sent "( dport = :$SERVER_PORT )" | grep -q "pid=$pid,"; do
        [ $((n += 1)) -le $((100 * KIT_SLOW)) ] || fail "net-check never sent its SYN"
        sleep 0.05
    done
    kill -TERM "$pid"
    wait_exit "$pid" 1 || status=$?
    assert_equal "$status" 1
    assert_equal "$(cat "$err")" "net-check: cannot connect to 127.0.0.1 port $SERVER_PORT: Interrupted system call"
    assert_equal "$(cat "$out")" ""
    stop_server
}

# ---- sig_setup_stop and sig_wait_fd ------------------------------------------------------------

# tasks_sleeping PID COUNT - true once PID has COUNT threads, all asleep (state S).
tasks_sleeping() {
    local states
    states=$(cat /proc/"$1"/task/*/stat 2>/dev/null | sed 's/^.*) \(.\).*/\1/' | tr -d '\n')
    [ "$states" = "$(printf "%${2}s" | tr ' ' S)" ]
}

@test "sig_wait_fd: a stop wakes every thread waiting in it, not only the one signalled" {
    local out=$BATS_TEST_TMPDIR/threads.out pid n=0 status=0
    need_linux "/proc/PID/task shows when every thread sleeps"
    stop-check threads 8 >"$out" 3>&- &
    pid=$!
    until [ -s "$out" ] && tasks_sleeping "$pid" 9; do
        [ $((n += 1)) -le $((100 * KIT_SLOW)) ] || fail "the 9 threads never all slept"
        sleep 0.05
    done
    kill -TERM "$pid"
    wait_exit "$pid" 2 || status=$?
    assert_equal "$status" 0
    assert_equal "$(cat "$out")" $'waiting: 9 threads\nwoken: 9 of 9 waits ended with EINTR'
}

# The race of common/sig.h: a stop handled after the stop signals are let in and before
# poll() starts. strace holds the unblocking rt_sigprocmask for a second (inject=...
# delay_exit), the SIGTERM arrives meanwhile and is handled as the call returns; the byte
# its handler wrote must then end the poll() at once. With a flag alone, poll would sleep.
@test "sig_wait_fd: a stop handled between unblocking and poll() still ends the wait" {
    [ -z "$VALGRIND$KIT_VARIANT" ] || skip "strace, valgrind and the sanitizers do not mix"
    need_linux "strace holds the system call open"
    local log=$BATS_TEST_TMPDIR/strace.log out=$BATS_TEST_TMPDIR/race.out tracer pid n=0
    local status=0
    # rt_sigprocmask calls: 1 blocks in sig_setup_stop, 2 unblocks for the first wait.
    strace -o "$log" -e trace=rt_sigprocmask,poll,write \
        -e inject=rt_sigprocmask:delay_exit=1000000:when=2 \
        "$(command -v stop-check)" threads 0 >"$out" 3>&- &
    tracer=$!
    until [ -s "$out" ] && pid=$(cat /proc/"$tracer"/task/"$tracer"/children 2>/dev/null) &&
        [ -n "$pid" ]; do
        [ $((n += 1)) -le 100 ] || fail "stop-check never started"
        sleep 0.05
    done
    kill -TERM "$pid"
    wait_exit "$tracer" 5 || status=$?
    assert_equal "$status" 0
    assert_equal "$(cat "$out")" $'waiting: 1 threads\nwoken: 1 of 1 waits ended with EINTR'
    # In this order: the delayed unblock, the signal, its byte, a poll that returns at once.
    run grep -A3 'DELAYED' "$log"
    assert_line --index 0 --regexp '^rt_sigprocmask\(SIG_SETMASK, \[\], .*\(DELAYED\)$'
    assert_line --index 1 --regexp '^--- SIGTERM '
    assert_line --index 2 --regexp '^write\([0-9]+, "s", 1\) += 1$'
    assert_line --index 3 --regexp '^poll\(.*\) = 1 \(\[\{fd=[0-9]+, revents=POLLIN\}\]\)$'
}

# pipes_of PID - the pipes PID has open, one "pipe:[INODE]" a line, minus those this shell
# has too (inherited from bats, not the program's own).
pipes_of() {
    comm -23 <(find /proc/"$1"/fd -type l -exec readlink {} + 2>/dev/null | grep '^pipe:' | sort -u) \
        <(find /proc/"$BASHPID"/fd -type l -exec readlink {} + 2>/dev/null | grep '^pipe:' | sort -u)
}

@test "sig_wait_fd: after fork() each process has its own stop: a child's stops only the child" {
    local out=$BATS_TEST_TMPDIR/fork.out pid child n=0 status=0
    need_linux "/proc/PID/fd shows each process's pipes"
    stop-check fork >"$out" 3>&- &
    pid=$!
    until [ "$(grep -c ' waiting$' "$out")" = 2 ]; do
        [ $((n += 1)) -le $((100 * KIT_SLOW)) ] || fail "parent and child never both waited"
        sleep 0.05
    done
    child=$(sed -n 's/^child \([0-9]*\) waiting$/\1/p' "$out")
    # Each has a stop pipe, and none is shared.
    [ -n "$(pipes_of "$pid")" ] && [ -n "$(pipes_of "$child")" ]
    run comm -12 <(pipes_of "$pid") <(pipes_of "$child")
    assert_output ''
    kill -TERM "$child"
    until grep -q '^parent: the child has ended$' "$out"; do
        [ $((n += 1)) -le $((200 * KIT_SLOW)) ] || fail "the parent never saw the child end"
        sleep 0.05
    done
    kill -0 "$pid" # the child's stop did not stop the parent
    kill -TERM "$pid"
    wait_exit "$pid" 2 || status=$?
    assert_equal "$status" 0
    assert_equal "$(sed 's/[0-9][0-9]*/N/' "$out" | sort)" $'child N waiting\nchild: stopped\nparent N waiting\nparent: stopped\nparent: the child has ended'
}
