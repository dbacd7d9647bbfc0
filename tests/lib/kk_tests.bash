# tests/lib/kk_tests.bash - the Knock Knock server tests, as functions any kk server runs.
#
# Lesson 04 (kk-server), lesson 05 (kk-multi-server) and lesson 06 (kk-event-server) run
# the same checks without copies:
#
#   load test_helper
#   load lib/kk_tests
#   KK_SERVER=kk-multi-server          # program name on PATH (default: kk-server)
#   KK_SERVER_ARGS=(-q)                # extra options before PORT (default: (-q))
#   @test "kk-multi-server: tells a whole joke" { kk_test_whole_joke; }
#
# Every function takes no arguments, starts the server itself with
# `start_server "$KK_SERVER" "${KK_SERVER_ARGS[@]}" [OPTIONS] 0`, checks with bats-assert,
# and stops it with stop_server (which fails unless the server exits 0). The raw peer is
# kk_peer (python3, below): it sends and expects exact bytes, step by step, and on a failure
# prints what it sent, expected and got as C string literals. Each function sets a hint
# naming the likely mistake and the section of lesson 04's README that explains it.
#
# What every kk server must do for these to pass: the texts of
# lessons/04-knock-knock/knock_protocol.c byte for byte, each line ending in "\n"; close
# the connection after "Bye."; a line longer than 4096 bytes (KK_MAX_LINE) gives exactly
# one stderr line "PROG: ADDR:PORT: line longer than 4096 bytes, connection closed" (also
# under -q), the connection is closed and the server goes on; a client that leaves early
# (EOF or reset) prints nothing under -q. Concurrent servers also take --max-clients N and
# answer a client beyond N with "Server busy, try again later.\n" and close it; a slot is
# free again by the time the client leaving it sees EOF.
#
# Valid for ANY kk server (one at a time, threaded or event loop):
#   kk_test_transcript_37_lines       kk-client tells all five jokes, wraps, says n: the
#                                     37-line transcript exactly, exit 0
#   kk_test_greeting_first            the server speaks first: "Knock! Knock!\n" and nothing
#                                     else, before the client sends a byte
#   kk_test_whole_joke                every transition of one joke, exact bytes, then EOF
#   kk_test_whos_there_reprimand      anything but "Who's there?": the reprimand, and the
#                                     server keeps waiting for "Who's there?"
#   kk_test_clue_reprimand_restarts   a wrong "<clue> who?": the reprimand naming the clue,
#                                     the same joke again from "Who's there?"
#   kk_test_near_misses               no '?', a trailing space, an empty line, a NUL: no match
#   kk_test_case_insensitive          WHO'S THERE?, little old lady WHO?, Y
#   kk_test_line_endings              CRLF and lone CR end lines like LF, also a CRLF split
#                                     across two reads
#   kk_test_one_write_many_lines      the 18 lines of the transcript in one write: every
#                                     answer, in order
#   kk_test_yes_means_no              only y/Y continue: "yes" gets "Bye." and the end
#   kk_test_wrap_to_first_joke        after the fifth joke, "y" tells the first again
#   kk_test_long_line_closes          a 5000-byte line: one log line, connection closed, the
#                                     next client is served
#   kk_test_line_of_4096_accepted     a 4096-byte line is a line (gets a reprimand)
#   kk_test_reset_mid_joke            a client that resets mid-joke: nothing logged, the next
#                                     client is served
#   kk_test_descriptors_after_100_clients  100 clients, one after another, each telling a
#                                     joke: the server's open descriptors (/proc/PID/fd) do
#                                     not grow
#   kk_test_eof_mid_joke              a client that half-closes mid-joke gets the replies to
#                                     what it sent, then EOF; nothing logged; server goes on
#   kk_test_bye_survives_unread_input  the client sends its "n" and 6,000 more bytes at
#                                    once, then reads: "Bye." and EOF still arrive, no reset
#   kk_test_linger_is_bounded         a client that keeps sending after "Bye." and never
#                                    closes is closed by the server about 1 s later
#
# Valid only for CONCURRENT servers (lessons 05, 06):
#   kk_test_silent_client_does_not_block  A stays silent mid-joke while B tells a whole joke
#   kk_test_200_concurrent_jokes      200 clients connected at once each complete a joke,
#                                     every byte checked
#   kk_test_reset_does_not_disturb_others  A resets mid-joke while B and C are mid-joke:
#                                     B and C finish
#   kk_test_max_clients               --max-clients 2: the third client gets the busy line
#                                     and EOF; when one leaves, a new client is served
#   kk_test_sigterm_with_50_idle      SIGTERM with 50 idle clients connected: exit 0 within
#                                     2 s (scaled), every client sees its connection end
# shellcheck shell=bash

: "${KK_SERVER:=kk-server}"
if ! declare -p KK_SERVER_ARGS >/dev/null 2>&1; then
    KK_SERVER_ARGS=(-q)
fi

# The tutorial's texts, as the server sends them (escapes for kk_peer).
KK_KNOCK='Knock! Knock!\n'
KK_BYE='Bye.\n'
KK_TURNIP_PUNCH="Turnip the heat, it's cold in here! Want another? (y/n)\\n"
KK_LADY_PUNCH="I didn't know you could yodel! Want another? (y/n)\\n"
KK_WHOS_THERE_REPRIMAND='You'"'"'re supposed to say "Who'"'"'s there?"! Try again. Knock! Knock!\n'

# ---- the raw peer ----------------------------------------------------------------------

# A scripted client (python3): each step sends or expects exact bytes.
KK_PEER_PY=$(
    cat <<'PY'
import os, socket, sys, time

# A scripted Knock Knock peer. Steps (TEXT takes \n \r \xNN escapes):
#   open C | send C TEXT | expect C TEXT | eof C | closed C | shut C | reset C | close C
#   dump C      read until EOF or reset, write the bytes to stdout
#   silent C SECS   nothing arrives on C for SECS seconds
#   many N      N clients at once, each completes one joke (every byte checked)
#   serial N    N clients one after another, each completes one joke (every byte checked)
#   hold N      N clients, each greeted; print "ready"; wait until the server closes them all
# A failure prints what the client last sent, what it expected and what came back, as C
# string literals, and exits 1.
host, port = sys.argv[1], int(sys.argv[2])
limit = float(os.environ.get("KK_PEER_TIMEOUT", "5"))
conns = {}
sent = {}      # connection -> the bytes it sent last
received = {}  # connection -> the bytes it received last (an expect that passed)
KNOCK = b"Knock! Knock!\n"
JOKE = [(b"Who's there?\n", b"Turnip\n"),
        (b"Turnip who?\n", b"Turnip the heat, it's cold in here! Want another? (y/n)\n"),
        (b"n\n", b"Bye.\n")]
NAMES = {0x0a: "\\n", 0x0d: "\\r", 0x09: "\\t", 0x00: "\\0", 0x22: '\\"', 0x5c: "\\\\"}

def lit(data, start=0, width=100):
    """bytes as a C string literal, from start, at most width bytes, cuts marked ..."""
    part = data[start:start + width]
    text = "".join(NAMES.get(b, chr(b) if 0x20 <= b < 0x7f else "\\x%02x" % b) for b in part)
    return '%s"%s"%s' % ("..." if start else "", text, "..." if start + width < len(data) else "")

def who(name):
    """how a failure names a connection: "test client, connection a:", "test client 3 of 100:"."""
    return "test %s:" % name if name.startswith("client") else "test client, connection %s:" % name

def fail(msg):
    sys.stderr.write("%s\n" % msg)
    sys.exit(1)

def context(name):
    lines = []
    if name in sent:
        lines.append("sent:     %s bytes  %s" % (format(len(sent[name]), ","), lit(sent[name])))
    elif name in received:
        lines.append("received: %s  (and nothing sent since)" % lit(received[name][-40:]))
    return lines

def more(s, got):
    """got, and whatever else arrives within 0.3 s (at most 200 bytes): to show a mismatch."""
    s.settimeout(0.3)
    try:
        while len(got) < 200:
            chunk = s.recv(200 - len(got))
            if not chunk:
                break
            got += chunk
    except OSError:
        pass
    return got

def mismatch(name, want, got, then):
    """expect failed: the bytes differ, or then ("silent", "EOF", "reset") came first."""
    at = next((i for i in range(min(len(want), len(got))) if want[i] != got[i]), None)
    start = (at if at is not None else len(got)) - 40
    start = start if start > 20 else 0
    lines = [who(name)] + context(name)
    lines.append("expected: %s bytes  %s" % (format(len(want), ","), lit(want, start)))
    lines.append("got:      %s bytes  %s" % (format(len(got), ","), lit(got, start)))
    if at is not None:
        lines.append("first difference at byte %d (counting from 0)" % at)
    elif then == "silent":
        lines.append("then nothing more for %g s: the rest never came" % limit)
    elif then == "EOF":
        lines.append("then the server closed the connection")
    else:
        lines.append("then the server reset the connection")
    fail("\n".join(lines))

def text(arg):
    return arg.encode("latin-1").decode("unicode_escape").encode("latin-1")

def connect():
    s = socket.create_connection((host, port), timeout=limit)
    return s

def expect(name, s, want):
    got = b""
    deadline = time.monotonic() + limit
    while len(got) < len(want):
        s.settimeout(max(deadline - time.monotonic(), 0.001))
        try:
            chunk = s.recv(len(want) - len(got))
        except socket.timeout:
            mismatch(name, want, got, "silent")
        except ConnectionResetError:
            mismatch(name, want, got, "reset")
        if not chunk:
            mismatch(name, want, got, "EOF")
        got += chunk
        if not want.startswith(got):
            mismatch(name, want, more(s, got), None)
    received[name] = got
    sent.pop(name, None)

def read_end(name, s, allow_reset):
    s.settimeout(limit)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk
    except socket.timeout:
        fail("\n".join([who(name)] + context(name) + [
            "expected the end of the stream: the server closing the connection",
            "got:      %s" % ("nothing" if not data else lit(data)),
            "then nothing more for %g s: the server kept the connection open" % limit]))
    except ConnectionResetError:
        if not allow_reset:
            fail("\n".join([who(name)] + context(name) + [
                "expected a clean end of the stream (EOF), got a reset (ECONNRESET) after %s"
                % ("nothing" if not data else lit(data)),
                "a close() with bytes still unread sends a reset: read them first"]))
        return data

def one_joke(label, s):
    expect(label, s, KNOCK)
    for line, reply in JOKE:
        s.sendall(line)
        sent[label] = line
        expect(label, s, reply)
    rest = read_end(label, s, False)
    if rest:
        fail("%s bytes after Bye.: %s" % (who(label), lit(rest)))
    s.close()

def many(n):
    socks = [connect() for _ in range(n)]
    for i, s in enumerate(socks):
        expect("client %d" % i, s, KNOCK)
    for line, reply in JOKE:
        for s in socks:
            s.sendall(line)
        for i, s in enumerate(socks):
            expect("client %d" % i, s, reply)
    for i, s in enumerate(socks):
        rest = read_end("client %d" % i, s, False)
        if rest:
            fail("%s bytes after Bye.: %s" % (who("client %d" % i), lit(rest)))
        s.close()
    print("%d clients completed a joke" % n)

def serial(n):
    for i in range(n):
        one_joke("client %d of %d" % (i + 1, n), connect())
    print("%d clients one after another completed a joke" % n)

def hold(n):
    socks = [connect() for _ in range(n)]
    for i, s in enumerate(socks):
        expect("client %d" % i, s, KNOCK)
    print("ready", flush=True)
    for i, s in enumerate(socks):
        read_end("client %d" % i, s, True)
        s.close()
    print("all %d closed" % n)

args = sys.argv[3:]
while args:
    op = args.pop(0)
    if op in ("many", "hold", "serial"):
        {"many": many, "hold": hold, "serial": serial}[op](int(args.pop(0)))
        continue
    name = args.pop(0)
    if op == "open":
        conns[name] = connect()
    elif op == "send":
        data = text(args.pop(0))
        conns[name].sendall(data)
        sent[name] = sent.get(name, b"") + data
    elif op == "expect":
        expect(name, conns[name], text(args.pop(0)))
    elif op in ("eof", "closed"):
        rest = read_end(name, conns[name], op == "closed")
        if rest:
            fail("\n".join([who(name)] + context(name) + [
                "expected the end of the stream (the server closing the connection)",
                "got:      %s bytes  %s" % (format(len(rest), ","), lit(rest))]))
    elif op == "dump":
        sys.stdout.buffer.write(read_end(name, conns[name], True))
        sys.stdout.flush()
    elif op == "silent":
        s = conns[name]
        s.settimeout(float(args.pop(0)))
        try:
            got = s.recv(100)
            fail("%s expected silence, got %s" % (who(name), lit(got)))
        except socket.timeout:
            pass
    elif op == "shut":
        conns[name].shutdown(socket.SHUT_WR)
    elif op == "reset":
        conns[name].setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        conns[name].close()
    elif op == "close":
        conns[name].close()
    else:
        fail("kk-peer: unknown step %r" % op)
PY
)

# kk_peer STEPS... - run the scripted peer against 127.0.0.1:$SERVER_PORT. Steps (TEXT takes
# \n \r \xNN escapes; C names a connection):
#   open C | send C TEXT | expect C TEXT (exact bytes) | eof C (the server closed) |
#   closed C (EOF or reset) | shut C (half-close) | reset C (close with RST) | close C |
#   dump C (read to the end, print the bytes) | silent C SECS (nothing arrives) |
#   many N (N clients at once, one joke each) | serial N (N clients one after another) |
#   hold N (N greeted clients; prints "ready"; waits until the server closes them all)
# Run it as `run kk_peer ...`, then kk_peer_passed.
kk_peer() {
    KK_PEER_TIMEOUT=$(tmo 5) timeout "$(tmo 30)" python3 -c "$KK_PEER_PY" \
        127.0.0.1 "$SERVER_PORT" "$@" 3>&-
}

# kk_peer_passed - after `run kk_peer ...`: succeed when the peer did; else print what it
# says went wrong (sent, expected, got) and how the server is doing, and fail.
# shellcheck disable=SC2154 # status and output: set by bats' run
kk_peer_passed() {
    [ "$status" -ne 0 ] || return 0
    [ "$status" -ne 124 ] || echo "the scripted client was stopped after $(tmo 30) s"
    head -n 20 <<<"$output"
    kk_server_state
    return 1
}

# kk_server_state - say whether the server still runs, and the start of its stderr.
kk_server_state() {
    if [ -n "${SERVER_PID:-}" ] && ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "the server is no longer running: it crashed or exited"
    fi
    if [ -s "${SERVER_ERR:-}" ]; then
        echo "the server's stderr:"
        head -n 5 "$SERVER_ERR" | sed 's/^/  /'
    fi
}

# kk_hint TEXT SECTION - hint TEXT, with the section of lesson 04's README that explains it:
# the protocol is lesson 04's, so another lesson's file names that README in the text.
kk_hint() {
    case ${BATS_TEST_FILENAME##*/} in
    04-*) hint "$1" "$2" ;;
    *) hint "$1 (lessons/04-knock-knock/README.md, section \"$2\")" ;;
    esac
}

# kk_same_lines EXPECTED - $output (from run) is EXPECTED line for line; otherwise print the
# first line that differs, and the line before it, and fail.
kk_same_lines() {
    local i=0
    local -a want got
    [ "$output" != "$1" ] || return 0
    mapfile -t want <<<"$1"
    mapfile -t got <<<"$output"
    while [ "$i" -lt "${#want[@]}" ] && [ "$i" -lt "${#got[@]}" ] &&
        [ "${want[i]}" = "${got[i]}" ]; do
        i=$((i + 1))
    done
    echo "expected ${#want[@]} lines, got ${#got[@]}; line $((i + 1)) is the first that differs"
    [ "$i" -eq 0 ] || echo "line $i:    ${want[i - 1]}"
    kk_show_line expected "$i" "${want[@]}"
    kk_show_line got "$i" "${got[@]}"
    return 1
}

# kk_show_line LABEL I LINES... - "LABEL: " and line I of LINES as a C string literal.
kk_show_line() {
    local label=$1 i=$2 file=$BATS_TEST_TMPDIR/kk-line
    shift 2
    if [ "$i" -ge $# ]; then
        printf '%-9s (no more lines)\n' "$label:"
        return 0
    fi
    printf '%s' "${@:i+1:1}" >"$file"
    printf '%-9s %s\n' "$label:" "$(show_bytes "$file")"
}

# kk_start [OPTIONS...] - start $KK_SERVER with its args, OPTIONS, port 0.
kk_start() {
    start_server "$KK_SERVER" "${KK_SERVER_ARGS[@]}" "$@" 0
}

# kk_first_joke C - steps telling the first joke on connection C up to the punch line.
kk_first_joke() {
    printf '%s\n' expect "$1" "$KK_KNOCK" send "$1" "Who's there?\\n" expect "$1" 'Turnip\n' \
        send "$1" 'Turnip who?\n' expect "$1" "$KK_TURNIP_PUNCH"
}

# kk_assert_served - a fresh client still gets a whole joke (the server went on).
kk_assert_served() {
    local steps
    mapfile -t steps < <(kk_first_joke z)
    run kk_peer open z "${steps[@]}" send z 'n\n' expect z "$KK_BYE" eof z
    kk_peer_passed || { echo "(a new client, after the ones before it, was not served)" && return 1; }
}

# kk_fd_count - how many descriptors the server holds open now (/proc/PID/fd).
kk_fd_count() {
    local -a fds=("/proc/$SERVER_PID/fd/"*)
    echo "${#fds[@]}"
}

# kk_need_client - make sure kk-client runs: a sanitizer run (make tsan) builds only the
# lesson under test, so fall back to lesson 04's normal build; skip when there is none.
kk_need_client() {
    command -v kk-client >/dev/null 2>&1 && return 0
    [ -x "$KIT_ROOT/lessons/04-knock-knock/kk-client" ] ||
        skip "kk-client is not built (make -C lessons/04-knock-knock)"
    PATH=$PATH:$KIT_ROOT/lessons/04-knock-knock
}

# kk_transcript_input - the 18 client lines of the README's transcript.
kk_transcript_input() {
    printf '%s\n' "Who's there?" "Turnip who?" y "Who's there?" "Little Old Lady who?" y \
        "Who's there?" "Atch who?" y "Who's there?" "Who who?" y \
        "Who's there?" "Who who?" y "Who's there?" "Turnip who?" n
}

# kk_transcript_output - the 37 lines kk-client prints for that input.
kk_transcript_output() {
    cat <<'TXT'
Server: Knock! Knock!
Client: Who's there?
Server: Turnip
Client: Turnip who?
Server: Turnip the heat, it's cold in here! Want another? (y/n)
Client: y
Server: Knock! Knock!
Client: Who's there?
Server: Little Old Lady
Client: Little Old Lady who?
Server: I didn't know you could yodel! Want another? (y/n)
Client: y
Server: Knock! Knock!
Client: Who's there?
Server: Atch
Client: Atch who?
Server: Bless you! Want another? (y/n)
Client: y
Server: Knock! Knock!
Client: Who's there?
Server: Who
Client: Who who?
Server: Is there an owl in here? Want another? (y/n)
Client: y
Server: Knock! Knock!
Client: Who's there?
Server: Who
Client: Who who?
Server: Is there an echo in here? Want another? (y/n)
Client: y
Server: Knock! Knock!
Client: Who's there?
Server: Turnip
Client: Turnip who?
Server: Turnip the heat, it's cold in here! Want another? (y/n)
Client: n
Server: Bye.
TXT
}

# ---- valid for any kk server --------------------------------------------------------------

# The sections of lesson 04's README the hints name.
KK_S_PROTOCOL='The protocol'
# shellcheck disable=SC2016 # the backquotes are the heading's own (markdown), not a command
KK_S_TRACE='`make trace`: the conversation in system calls'
KK_S_LINGER='Why the server lingers before it closes'
KK_S_WRONG='What can go wrong'
KK_S_RUN='Build and run'

kk_test_transcript_37_lines() {
    kk_need_client
    kk_hint "kk-client relays each server line as \"Server: LINE\" and each of yours as \"Client: LINE\": a line that differs is a server text, or a joke out of order" "$KK_S_RUN"
    kk_start
    run timeout "$(tmo 10)" kk-client 127.0.0.1 "$SERVER_PORT" < <(kk_transcript_input)
    kk_same_lines "$(kk_transcript_output)" || { kk_server_state && return 1; }
    [ "$status" -eq 0 ] || { echo "kk-client exited $status, not 0" && return 1; }
    stop_server
}

kk_test_greeting_first() {
    kk_hint "the server speaks first: right after accept(), it sends \"Knock! Knock!\\n\" without waiting for the client" "$KK_S_PROTOCOL"
    kk_start
    # The client sends nothing and half-closes: the greeting must already be on its way.
    run kk_peer open a expect a "$KK_KNOCK" shut a eof a
    kk_peer_passed
    stop_server
}

kk_test_whole_joke() {
    local steps
    kk_hint "each client line gets one reply and its \"\\n\"; after \"Bye.\" the conversation is over: stop reading and close the connection (the tutorial's KKMultiServer compares with \"Bye\", never matches, and keeps it open)" "$KK_S_PROTOCOL"
    kk_start
    mapfile -t steps < <(kk_first_joke a)
    run kk_peer open a "${steps[@]}" send a 'n\n' expect a "$KK_BYE" eof a
    kk_peer_passed
    stop_server
}

kk_test_whos_there_reprimand() {
    kk_hint "until the client says exactly \"Who's there?\" (any case), the answer is the reprimand, and the server keeps waiting for it" "$KK_S_PROTOCOL"
    kk_start
    run kk_peer open a expect a "$KK_KNOCK" \
        send a 'Turnip who?\n' expect a "$KK_WHOS_THERE_REPRIMAND" \
        send a 'Knock knock\n' expect a "$KK_WHOS_THERE_REPRIMAND" \
        send a "Who's there?\\n" expect a 'Turnip\n' shut a eof a
    kk_peer_passed
    stop_server
}

kk_test_clue_reprimand_restarts() {
    kk_hint "a wrong \"CLUE who?\" gets the reprimand naming the clue, and the joke starts again: the next line must be \"Who's there?\"" "$KK_S_PROTOCOL"
    kk_start
    run kk_peer open a expect a "$KK_KNOCK" send a "Who's there?\\n" expect a 'Turnip\n' \
        send a 'Turnip\n' \
        expect a 'You'"'"'re supposed to say "Turnip who?"! Try again. Knock! Knock!\n' \
        send a "Who's there?\\n" expect a 'Turnip\n' send a 'Turnip who?\n' \
        expect a "$KK_TURNIP_PUNCH" send a 'y\n' expect a "$KK_KNOCK" \
        send a "Who's there?\\n" expect a 'Little Old Lady\n' send a 'Little Old Lady?\n' \
        expect a 'You'"'"'re supposed to say "Little Old Lady who?"! Try again. Knock! Knock!\n' \
        send a "Who's there?\\n" expect a 'Little Old Lady\n' shut a eof a
    kk_peer_passed
    stop_server
}

kk_test_near_misses() {
    kk_hint "a match is the whole line, same length, only ASCII case ignored: a prefix is not a match (strncmp with the expected text's length accepts \"Who's there? \"), and a NUL inside the line never matches" "$KK_S_PROTOCOL"
    kk_start
    run kk_peer open a expect a "$KK_KNOCK" \
        send a "Who's there\\n" expect a "$KK_WHOS_THERE_REPRIMAND" \
        send a "Who's there? \\n" expect a "$KK_WHOS_THERE_REPRIMAND" \
        send a " Who's there?\\n" expect a "$KK_WHOS_THERE_REPRIMAND" \
        send a '\n' expect a "$KK_WHOS_THERE_REPRIMAND" \
        send a "Who's there?\\x00\\n" expect a "$KK_WHOS_THERE_REPRIMAND" \
        send a "Who's there?\\n" expect a 'Turnip\n' shut a eof a
    kk_peer_passed
    stop_server
}

kk_test_case_insensitive() {
    kk_hint "matching ignores ASCII case, as Java's equalsIgnoreCase: \"WHO'S THERE?\" and \"Y\" count; the server's own texts keep theirs" "$KK_S_PROTOCOL"
    kk_start
    run kk_peer open a expect a "$KK_KNOCK" send a "WHO'S THERE?\\n" expect a 'Turnip\n' \
        send a 'tUrNiP WHO?\n' expect a "$KK_TURNIP_PUNCH" send a 'Y\n' expect a "$KK_KNOCK" \
        send a "who's there?\\n" expect a 'Little Old Lady\n' \
        send a 'little old lady WHO?\n' expect a "$KK_LADY_PUNCH" \
        send a 'N\n' expect a "$KK_BYE" eof a
    kk_peer_passed
    stop_server
}

kk_test_line_endings() {
    kk_hint "a line ends at LF, CRLF or a lone CR, answered at once (a CR may be the last byte of a read); the LF of a CRLF may come in the next read: it ends no second, empty line" "$KK_S_TRACE"
    kk_start
    # CRLF, lone CRs (an empty line between two), a CR ending a write: none waits for more.
    # Last, a CRLF split across two reads: "y\r" is answered, then "\n" starts the next
    # read and belongs to it (an empty line there would get the reprimand before "Atch").
    run kk_peer open a expect a "$KK_KNOCK" send a "Who's there?\\r\\n" expect a 'Turnip\n' \
        send a 'Turnip who?\r' expect a "$KK_TURNIP_PUNCH" send a 'y\r' expect a "$KK_KNOCK" \
        send a "Who's there?\\r\\r" expect a 'Little Old Lady\n' \
        expect a 'You'"'"'re supposed to say "Little Old Lady who?"! Try again. Knock! Knock!\n' \
        send a "Who's there?\\rLittle Old Lady who?\\r\\n" \
        expect a "Little Old Lady\\n$KK_LADY_PUNCH" \
        send a 'y\r' expect a "$KK_KNOCK" send a "\\nWho's there?\\r" expect a 'Atch\n' \
        shut a eof a
    kk_peer_passed
    stop_server
}

kk_test_one_write_many_lines() {
    local lines replies
    kk_hint "one read can bring many lines: answer every complete line in what you read before reading again, and keep the rest for the next read (bytes after the first line dropped lose the client's other lines)" "$KK_S_TRACE"
    kk_start
    # The README's 18 client lines in one write: every answer must come, in order.
    lines=$(kk_transcript_input | sed 's/$/\\n/' | tr -d '\n')
    replies=$(kk_transcript_output | sed -n '2,$s/^Server: \(.*\)/\1\\n/p' | tr -d '\n')
    run kk_peer open a expect a "$KK_KNOCK" send a "$lines" expect a "$replies" eof a
    kk_peer_passed
    stop_server
}

kk_test_yes_means_no() {
    local steps
    kk_hint "only \"y\" or \"Y\", the whole line, means another joke: \"yes\" ends the conversation with \"Bye.\" (checking only the first letter accepts it)" "$KK_S_PROTOCOL"
    kk_start
    mapfile -t steps < <(kk_first_joke a)
    run kk_peer open a "${steps[@]}" send a 'yes\n' expect a "$KK_BYE" eof a
    kk_peer_passed
    stop_server
}

kk_test_wrap_to_first_joke() {
    kk_hint "\"y\" moves to the next joke, and after the fifth comes the first again" "$KK_S_PROTOCOL"
    kk_start
    run kk_peer open a expect a "$KK_KNOCK" \
        send a "Who's there?\\nTurnip who?\\ny\\n" \
        expect a "Turnip\\n$KK_TURNIP_PUNCH$KK_KNOCK" \
        send a "Who's there?\\nLittle Old Lady who?\\ny\\n" \
        expect a "Little Old Lady\\n$KK_LADY_PUNCH$KK_KNOCK" \
        send a "Who's there?\\nAtch who?\\ny\\n" \
        expect a "Atch\\nBless you! Want another? (y/n)\\n$KK_KNOCK" \
        send a "Who's there?\\nWho who?\\ny\\n" \
        expect a "Who\\nIs there an owl in here? Want another? (y/n)\\n$KK_KNOCK" \
        send a "Who's there?\\nWho who?\\ny\\n" \
        expect a "Who\\nIs there an echo in here? Want another? (y/n)\\n$KK_KNOCK" \
        send a "Who's there?\\nTurnip who?\\nn\\n" \
        expect a "Turnip\\n$KK_TURNIP_PUNCH$KK_BYE" eof a
    kk_peer_passed
    stop_server
}

kk_test_long_line_closes() {
    local long
    long=$(printf 'x%.0s' $(seq 1 5000))
    kk_hint "a line longer than 4096 bytes closes that connection, with one line on stderr: give the line reader a cap of 4096 bytes, and on EMSGSIZE say so and close" "$KK_S_WRONG"
    kk_start
    # No half-close: the server must end the connection because of the line alone.
    run kk_peer open a expect a "$KK_KNOCK" send a "$long\\n" closed a
    kk_peer_passed
    kk_assert_served
    run cat "$SERVER_ERR"
    assert_output --regexp "^$KK_SERVER: 127\\.0\\.0\\.1:[0-9]+: line longer than 4096 bytes, connection closed\$"
    stop_server
}

kk_test_line_of_4096_accepted() {
    local long
    long=$(printf 'x%.0s' $(seq 1 4096))
    kk_hint "4096 bytes and the \"\\n\" is still a line (the cap counts the line without its ending): it gets the reprimand, and nothing is logged" "$KK_S_WRONG"
    kk_start
    run kk_peer open a expect a "$KK_KNOCK" send a "$long\\n" \
        expect a "$KK_WHOS_THERE_REPRIMAND" send a "Who's there?\\n" expect a 'Turnip\n' \
        shut a eof a
    kk_peer_passed
    run cat "$SERVER_ERR"
    assert_output ''
    stop_server
}

kk_test_reset_mid_joke() {
    kk_hint "a client that resets (ECONNRESET) has only left: end its conversation quietly, close its socket, serve the next" "$KK_S_WRONG"
    kk_start
    run kk_peer open a expect a "$KK_KNOCK" send a "Who's there?\\n" expect a 'Turnip\n' \
        reset a
    kk_peer_passed
    kk_assert_served
    run cat "$SERVER_ERR"
    assert_output ''
    stop_server
}

kk_test_descriptors_after_100_clients() {
    local before after n=0
    kk_hint "every accepted socket must be closed when its conversation ends, on every path (after \"Bye.\" too): one descriptor leaked per client, and the server runs out after about a thousand" "$KK_S_WRONG"
    kk_start
    run kk_peer serial 1 # the first client: whatever a server opens once, it has now
    kk_peer_passed
    before=$(kk_fd_count)
    run kk_peer serial 100
    kk_peer_passed
    # The last socket may still be closing: the count must be back within 3 s (scaled).
    until after=$(kk_fd_count) && [ "$after" -le "$before" ]; do
        [ $((n += 1)) -le $((60 * KIT_SLOW)) ] || break
        sleep 0.05
    done
    if [ "$after" -gt "$before" ]; then
        echo "the server held $before descriptors after its first client, and $after after 100 more:"
        echo "$((after - before)) sockets never closed ($(find "/proc/$SERVER_PID/fd" -lname 'socket:*' | wc -l) sockets open now)"
        return 1
    fi
    stop_server
}

kk_test_bye_survives_unread_input() {
    kk_hint "after \"Bye.\", a close() with client bytes still unread sends a reset that can destroy \"Bye.\": half-close (shutdown SHUT_WR), read and drop until the client closes, then close" "$KK_S_LINGER"
    kk_start
    # The server stops reading after "Bye.", so the 3,000 "z" lines are never read. A
    # plain close() with them unread sends a reset instead of a FIN: it throws away the
    # replies still queued in the server (Nagle holds the last ones until an ACK), and the
    # client's next recv fails with ECONNRESET. The server must half-close, drop the rest
    # and close after it.
    run timeout "$(tmo 15)" python3 -c '
import socket, sys, threading, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
payload = b"Who\x27s there?\nTurnip who?\nn\n" + b"z\n" * 3000
threading.Thread(target=s.sendall, args=(payload,), daemon=True).start()
time.sleep(1)  # let the server answer, meet the unread input and close
got = b""
while True:
    try:
        chunk = s.recv(4096)
    except ConnectionResetError:
        sys.exit("got %r, then a reset (ECONNRESET) instead of the end of the stream" % got)
    if not chunk:
        break
    got += chunk
sys.stdout.write(got.decode())
' "$SERVER_PORT" 3>&-
    [ "$status" -eq 0 ] || { echo "$output" && return 1; }
    kk_same_lines "$(printf '%b' "$KK_KNOCK" 'Turnip\n' "$KK_TURNIP_PUNCH" "$KK_BYE")"
    stop_server
}

kk_test_linger_is_bounded() {
    local -a KK_SERVER_ARGS=() # the log on: its "closed" line is what this test waits for
    kk_hint "the wait for the client to close after \"Bye.\" needs a limit (about a second): a client that never closes must not hold the server" "$KK_S_LINGER"
    kk_start
    # The server lingers 1 s at most; "closed" must follow "Bye." well within 3 s (scaled).
    run timeout "$(tmo 15)" python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"Who\x27s there?\nTurnip who?\nn\n")
got = b""
while not got.endswith(b"Bye.\n"):
    got += s.recv(4096)
bye = time.monotonic()
while time.monotonic() - bye < float(sys.argv[3]):  # keep sending, never close
    if b"closed" in open(sys.argv[2], "rb").read():
        print("closed")
        break
    try:
        s.send(b"z\n")
    except OSError:
        pass  # the server has closed: a reset answers what we send
    time.sleep(0.05)
else:
    sys.exit("the server was still lingering after %s s" % sys.argv[3])
' "$SERVER_PORT" "$SERVER_ERR" "$(tmo 3)" 3>&-
    assert_success
    assert_output closed
    stop_server
}

kk_test_eof_mid_joke() {
    kk_hint "a client that half-closes still gets the answers to the lines it sent, then the end of the stream; its EOF ends the conversation quietly" "$KK_S_WRONG"
    kk_start
    run kk_peer open a expect a "$KK_KNOCK" send a "Who's there?\\n" shut a \
        expect a 'Turnip\n' eof a
    kk_peer_passed
    kk_assert_served
    run cat "$SERVER_ERR"
    assert_output ''
    stop_server
}

# ---- valid only for concurrent servers -----------------------------------------------------

kk_test_silent_client_does_not_block() {
    local steps_b
    kk_start
    mapfile -t steps_b < <(kk_first_joke b)
    # A stops after the clue and says nothing while B tells a whole joke; then A finishes.
    run kk_peer open a expect a "$KK_KNOCK" send a "Who's there?\\n" expect a 'Turnip\n' \
        open b "${steps_b[@]}" send b 'n\n' expect b "$KK_BYE" eof b \
        send a 'Turnip who?\n' expect a "$KK_TURNIP_PUNCH" send a 'n\n' expect a "$KK_BYE" eof a
    kk_peer_passed
    stop_server
}

kk_test_200_concurrent_jokes() {
    kk_start
    run kk_peer many 200
    kk_peer_passed
    assert_output '200 clients completed a joke'
    stop_server
}

kk_test_reset_does_not_disturb_others() {
    kk_start
    run kk_peer open a expect a "$KK_KNOCK" open b expect b "$KK_KNOCK" \
        open c expect c "$KK_KNOCK" \
        send a "Who's there?\\n" send b "Who's there?\\n" send c "Who's there?\\n" \
        expect a 'Turnip\n' expect b 'Turnip\n' expect c 'Turnip\n' reset b \
        send a 'Turnip who?\nn\n' expect a "$KK_TURNIP_PUNCH$KK_BYE" eof a \
        send c 'Turnip who?\nn\n' expect c "$KK_TURNIP_PUNCH$KK_BYE" eof c
    kk_peer_passed
    kk_assert_served
    stop_server
}

kk_test_max_clients() {
    kk_start --max-clients 2
    run kk_peer open a expect a "$KK_KNOCK" open b expect b "$KK_KNOCK" \
        open c expect c 'Server busy, try again later.\n' eof c \
        send a "Who's there?\\nTurnip who?\\nn\\n" expect a "Turnip\\n$KK_TURNIP_PUNCH$KK_BYE" \
        eof a open d expect d "$KK_KNOCK" \
        open e expect e 'Server busy, try again later.\n' eof e \
        send b "Who's there?\\n" expect b 'Turnip\n' send d "Who's there?\\n" expect d 'Turnip\n'
    kk_peer_passed
    stop_server
}

kk_test_sigterm_with_50_idle() {
    local out=$BATS_TEST_TMPDIR/hold.out pid start elapsed status=0
    kk_start
    kk_peer hold 50 >"$out" 2>&1 &
    pid=$!
    # Bounded wait for the 50 greetings (the peer prints "ready" once all have arrived).
    for _ in $(seq 1 $((200 * KIT_SLOW))); do
        grep -q '^ready$' "$out" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    run cat "$out"
    assert_output 'ready'
    start=$(date +%s%N)
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID" 2 || status=$?
    elapsed=$((($(date +%s%N) - start) / 1000000))
    assert_equal "$status" 0
    assert [ "$elapsed" -lt $((2000 * KIT_SLOW)) ]
    wait_exit "$pid" 5
    run cat "$out"
    assert_output $'ready\nall 50 closed'
}
