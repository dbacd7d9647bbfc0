#!/usr/bin/env bats
# Lesson 08: http-server (static files on lesson 06's event loop) and http-get (a client).
#
# The server is judged by peers we did not write (curl, python's http.client, wrk, headless
# Chromium) and by raw peers that send exact bytes with exact timing: pipelining, request
# smuggling, sizes, slowloris, bodies, a traversal corpus. The client is judged against
# nginx, python's http.server and scripted servers that answer with exact bytes, right or
# wrong on purpose. Every answer is compared byte for byte (the Date line aside).
#
# Stages, in the README's order: 1 the contract; 2 the client (where a body ends);
# 3 serving files; 4 keep-alive and pipelining; 5 refusing malformed and ambiguous
# requests (smuggling), bodies; 6 sizes and time (slowloris); 7 paths (traversal);
# 8 large files, resources, wrk and a real browser.
#
# A failing test prints, on one screen, what was sent, what was expected and what came
# (assert_answer, expect_get, assert_text), and a hint naming the README section. The
# classic faults of tests/mutants/08-*.patch each fail one of them ("Find the bug").

load test_helper

PEERS=$KIT_ROOT/tests/peers
# The README section that a server failing to stop on SIGTERM is pointed to (test_helper).
# shellcheck disable=SC2034 # read by test_helper.bash
STOP_HINT_SECTION="The server: a third handler on lesson 06's loop"

SERVER_USAGE="usage: http-server [-b ADDR] [-d ROOT] [--header-timeout SECS] [--idle-timeout SECS] [--max-clients N] [--no-sendfile] [--once] [-q] PORT"
GET_USAGE="usage: http-get [-i] [-I] [-L] [--timeout SECS] [-o FILE] URL"

# ---- helpers ----------------------------------------------------------------------------

# make_root - a document root in $ROOT: index.html (15 bytes), a.css, sub/ with its own
# index.html, a file with no known extension, all dated 2022-01-01 00:00:00 UTC.
make_root() {
    ROOT=$BATS_TEST_TMPDIR/www
    mkdir -p "$ROOT/sub" "$ROOT/empty-dir"
    printf '<h1>hello</h1>\n' >"$ROOT/index.html"
    printf 'h1 { color: green; }\n' >"$ROOT/a.css"
    printf 'console.log(1);\n' >"$ROOT/app.js"
    printf 'sub index\n' >"$ROOT/sub/index.html"
    printf 'data\n' >"$ROOT/blob.xyz"
    find "$ROOT" -exec touch -h -d '2022-01-01 00:00:00 UTC' {} +
}

# serve [OPTIONS...] - make_root, then http-server -d $ROOT OPTIONS 0.
serve() {
    make_root
    start_server http-server -d "$ROOT" "$@" 0
}

# send TEXT [PEER OPTIONS...] - send TEXT (printf escapes: \r\n) raw to the server, print
# the answer with each Date line made "Date: *" and CRs removed; keep the raw bytes in
# $BATS_TEST_TMPDIR/answer. Returns the peer's status: 3 when the server neither closed the
# connection nor sent a byte for SEND_WAIT s (scaled) after its last byte.
SEND_WAIT=5
send() {
    local text=$1 rc=0
    shift
    printf '%b' "$text" >"$BATS_TEST_TMPDIR/request"
    timeout "$(tmo 15)" python3 "$PEERS/http_send.py" --timeout "$(tmo "$SEND_WAIT")" "$@" \
        127.0.0.1 "$SERVER_PORT" "$BATS_TEST_TMPDIR/request" >"$BATS_TEST_TMPDIR/answer" || rc=$?
    sed 's/^Date: [A-Z][a-z][a-z], [0-9][0-9] [A-Z][a-z][a-z] 20[0-9][0-9] [0-9:]\{8\} GMT\r$/Date: */' \
        "$BATS_TEST_TMPDIR/answer" | tr -d '\r'
    return "$rc"
}

# ---- what a failing test shows: what was sent, what was expected, what came -------------

# assert_answer EXPECTED - after `run send ...`: the server answered EXPECTED (as send prints
# it) and closed the connection. Otherwise print the request sent and how the answer differs.
assert_answer() {
    [ "$status" -eq 0 ] && [ "$output" = "$1" ] && return 0
    echo "sent:     $(show_bytes "$BATS_TEST_TMPDIR/request" 200)" >&2
    case $status in
    0) ;;
    3) echo "the connection stayed open: no byte and no close for $(tmo "$SEND_WAIT") s after the last byte" >&2 ;;
    124) echo "the peer was still waiting for the server after $(tmo 15) s" >&2 ;;
    *) echo "the peer failed (exit status $status)" >&2 ;;
    esac
    [ "$output" = "$1" ] ||
        assert_text "$1" "$output" "the answer is not the one expected (CRs removed, any date shown as \"Date: *\")"
    return 1
}

# error_page STATUS REASON WHY - the body of our error pages.
error_page() {
    printf '<!DOCTYPE html>\n<html><head><title>%s %s</title></head>\n<body><h1>%s %s</h1><p>%s.</p></body></html>\n' \
        "$1" "$2" "$1" "$2" "$3"
}

# error_answer STATUS REASON WHY [EXTRA HEADER LINE] [close] - a whole error answer as
# send prints it.
error_answer() {
    local page length
    page=$(error_page "$1" "$2" "$3")
    length=$((${#page} + 1))
    printf 'HTTP/1.1 %s %s\nDate: *\nContent-Type: text/html; charset=utf-8\nContent-Length: %s\n' \
        "$1" "$2" "$length"
    [ -z "${4:-}" ] || printf '%s\n' "$4"
    [ "${5:-}" != close ] || printf 'Connection: close\n'
    printf '\n%s\n' "$page"
}

# cpu_ticks PID - user + system CPU time of PID so far, in clock ticks.
cpu_ticks() {
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# rss_kib PID - resident size of PID in KiB.
rss_kib() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# wait_line FILE REGEX - wait (5 s, scaled) until a line of FILE matches.
wait_line() {
    local n=0
    until grep -qE "$2" "$1" 2>/dev/null; do
        [ $((n += 1)) -le $((100 * KIT_SLOW)) ] || return 1
        sleep 0.05
    done
}

# ---- the contract: usage, the listening line -------------------------------------------

@test "stage 1: http-server, http-get: -h prints usage on stdout and exits 0" {
    hint "-h and --help print the usage line, then what each option does, on stdout, and exit 0" "Build and run"
    run http-server -h
    assert_success
    assert_line --index 0 "$SERVER_USAGE"
    run http-get -h
    assert_success
    assert_line --index 0 "$GET_USAGE"
}

@test "stage 1: http-server: bad usage says what was wrong, prints the usage line and exits 2" {
    hint "bad usage is two lines on stderr, what was wrong and the usage line, and exit 2" "What can go wrong"
    assert_usage_errors http-server "$SERVER_USAGE" <<'EOF'
-	missing PORT
1 2	unexpected argument: 2
x	port must be a number from 0 to 65535: x
-x 0	unknown option: -x
-d	option -d needs a value
--header-timeout 0 0	--header-timeout must be at least 1: 0
--header-timeout x 0	--header-timeout must be a number from 1 to 86400: x
--idle-timeout -1 0	--idle-timeout must be a number from 0 to 86400: -1
--max-clients 0 0	--max-clients must be at least 1: 0
--no-sendfile=1 0	option --no-sendfile takes no value: --no-sendfile=1
EOF
}

@test "stage 1: http-get: bad usage says what was wrong, prints the usage line and exits 2" {
    hint "bad usage, and a URL that is not http://HOST[:PORT]/PATH, is two lines on stderr, what was wrong and the usage line, and exit 2" "What can go wrong"
    assert_usage_errors http-get "$GET_USAGE" <<'EOF'
-	missing URL
http://a/ http://b/	unexpected argument: http://b/
-x http://a/	unknown option: -x
--timeout 0 http://a/	--timeout must be at least 1: 0
-o	option -o needs a value
ftp://example.com/	not an http:// URL: ftp://example.com/
http://	bad host or port in the URL: http://
http://host:0/	bad host or port in the URL: http://host:0/
http://host:65536/	bad host or port in the URL: http://host:65536/
http://[::1/	bad host or port in the URL: http://[::1/
http://user@host/	user names in URLs are not supported: http://user@host/
EOF
}

@test "stage 1: http-get: an https:// URL gets one line saying this lesson speaks plain HTTP" {
    hint "https:// needs TLS, which this lesson does not speak: one line, exit 1" "What can go wrong"
    run --separate-stderr http-get https://example.com/
    assert_failure 1
    assert_output ""
    # shellcheck disable=SC2154 # stderr: set by bats' run --separate-stderr
    assert_equal "$stderr" "http-get: https://example.com/: this lesson speaks plain HTTP only (http://)"
}

@test "stage 1: http-server: prints its listening line; a missing root is one line and exit 1" {
    hint "print \"listening on ADDR:PORT\" once the socket listens, and flush stdout; SIGTERM ends the server with exit 0" "Build and run"
    serve
    assert_equal "$(cat "$SERVER_OUT")" "listening on 127.0.0.1:$SERVER_PORT"
    stop_server
    hint "a root directory that cannot be opened is one line naming it, and exit 1" "What can go wrong"
    run --separate-stderr http-server -d "$BATS_TEST_TMPDIR/nowhere" 0
    assert_failure 1
    assert_equal "$stderr" "http-server: cannot open the root directory $BATS_TEST_TMPDIR/nowhere: No such file or directory"
}

# ---- http-get against real servers --------------------------------------------------------------

# start_nginx ROOT - nginx in the foreground (one process), on a free port, its config and
# logs in the test's directory; sets NGINX_PORT (and SERVER_PID, for stop_server).
start_nginx() {
    local dir=$BATS_TEST_TMPDIR/nginx conf
    command -v nginx >/dev/null || skip "nginx is not installed (make deps installs it)"
    mkdir -p "$dir/tmp"
    NGINX_PORT=$(free_port)
    conf=$dir/nginx.conf
    cat >"$conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp; fastcgi_temp_path $dir/tmp;
    uwsgi_temp_path $dir/tmp; scgi_temp_path $dir/tmp;
    types { text/html html; text/css css; }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $1;
        location = /chunked { default_type text/plain; return 200 "not chunked"; }
    }
}
EOF
    nginx -c "$conf" -e "$dir/error.log" 3>&- &
    SERVER_PID=$!
    KIT_SERVER_PIDS+=("$SERVER_PID")
    wait_port "$NGINX_PORT"
}

@test "stage 2: http-get: against nginx: files byte for byte, -i, -I, 404, -o FILE" {
    hint "write the body's bytes exactly as they come, by the answer's Content-Length" "Where does a body end?"
    make_root
    head -c 1048576 /dev/urandom >"$ROOT/one-mib.bin"
    start_nginx "$ROOT"
    timeout "$(tmo 10)" http-get "http://127.0.0.1:$NGINX_PORT/one-mib.bin" >"$BATS_TEST_TMPDIR/got" || true
    assert_same_bytes "$ROOT/one-mib.bin" "$BATS_TEST_TMPDIR/got"
    hint "-i prints the answer's head (status line, header lines, empty line) before the body; -I asks with HEAD and prints the head only" "URLConnection beside the C"
    run timeout "$(tmo 5)" http-get -i "http://127.0.0.1:$NGINX_PORT/index.html"
    assert_success
    assert_line $'HTTP/1.1 200 OK\r'
    assert_line --regexp $'^Server: nginx'
    assert_line $'Content-Length: 15\r'
    assert_line "<h1>hello</h1>"
    run timeout "$(tmo 5)" http-get -I "http://127.0.0.1:$NGINX_PORT/a.css"
    assert_success
    assert_line $'Content-Type: text/css\r'
    refute_line --partial "color"
    hint "a 4xx answer's body is still written out; then one line, \"HTTP 404 Not Found\", and exit 1" "What can go wrong"
    run --separate-stderr timeout "$(tmo 5)" http-get "http://127.0.0.1:$NGINX_PORT/missing"
    assert_failure 1
    assert_output --partial "<title>404 Not Found</title>"
    assert_equal "$stderr" "http-get: 127.0.0.1 port $NGINX_PORT: HTTP 404 Not Found"
    hint "-o FILE writes the body into FILE, and nothing on stdout" "URLConnection beside the C"
    run timeout "$(tmo 5)" http-get -o "$BATS_TEST_TMPDIR/copy" "http://127.0.0.1:$NGINX_PORT/sub/"
    assert_success
    assert_output ""
    assert_equal "$(cat "$BATS_TEST_TMPDIR/copy")" "sub index"
    stop_server
}

@test "stage 2: http-get: against python's http.server: a file, a directory redirect with -L, a 404" {
    hint "-L follows the 301 from /sub to /sub/; a 404 still prints its page, then one line and exit 1" "URLConnection beside the C"
    make_root
    start_server python3 "$PEERS/http_pyserver.py" "$ROOT"
    run timeout "$(tmo 5)" http-get "http://127.0.0.1:$SERVER_PORT/a.css"
    assert_success
    assert_output "h1 { color: green; }"
    run timeout "$(tmo 5)" http-get -L "http://127.0.0.1:$SERVER_PORT/sub"
    assert_success
    assert_output "sub index"
    run --separate-stderr timeout "$(tmo 5)" http-get "http://127.0.0.1:$SERVER_PORT/nope"
    assert_failure 1
    assert_equal "$stderr" "http-get: 127.0.0.1 port $SERVER_PORT: HTTP 404 File not found"
    stop_server
}

@test "stage 2: http-get: against http-server: every address of localhost, the request it sends" {
    hint "try every address of the name, in order: localhost is ::1 first, where nothing listens, then 127.0.0.1; send the path and query, never the #fragment" "URLConnection beside the C"
    need_ipv6_localhost
    serve
    run as_ipv6_localhost timeout "$(tmo 5)" http-get "http://localhost:$SERVER_PORT/sub/?q=1#frag"
    assert_success
    assert_output "sub index"
    run timeout "$(tmo 5)" http-get "http://127.0.0.1:$SERVER_PORT"
    assert_output "<h1>hello</h1>"
    stop_server
    grep -q '"GET /sub/?q=1 HTTP/1.1" 200 10$' "$SERVER_ERR"
    grep -q '"GET / HTTP/1.1" 200 15$' "$SERVER_ERR"
}

@test "stage 2: http-get: the exact request on the wire" {
    hint "the request line, Host (with :PORT when it is not 80), User-Agent, Accept, Connection: close, every line ending in CR LF, then an empty line" "HTTP on the wire"
    mkdir -p "$BATS_TEST_TMPDIR/script"
    printf 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n' >"$BATS_TEST_TMPDIR/script/x"
    start_server python3 "$PEERS/http_script_server.py" "$BATS_TEST_TMPDIR/script"
    run timeout "$(tmo 5)" http-get "http://127.0.0.1:$SERVER_PORT/a/x?y=1"
    assert_success
    assert_output "ok"
    stop_server
    printf 'GET /a/x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUser-Agent: http-get/1.0\r\nAccept: */*\r\nConnection: close\r\n\r\n' \
        "$SERVER_PORT" >"$BATS_TEST_TMPDIR/want"
    assert_same_bytes "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/script/requests.log"
}

@test "stage 2: http-get: a refused connection is one line and exit 1" {
    hint "a connect() that fails on every address is one line naming host and port, and exit 1" "What can go wrong"
    local port
    port=$(free_port)
    run --separate-stderr timeout "$(tmo 5)" http-get "http://127.0.0.1:$port/"
    assert_failure 1
    assert_equal "$stderr" "http-get: cannot connect to 127.0.0.1 port $port: Connection refused"
}

# ---- http-get against scripted servers: every framing, every fault ----------------------------

# script NAME BYTES - a scripted answer (printf escapes) for requests whose path ends in NAME.
script() {
    mkdir -p "$BATS_TEST_TMPDIR/script"
    # shellcheck disable=SC2059 # the answer is written with printf's escapes, on purpose
    printf "$2" >"$BATS_TEST_TMPDIR/script/$1"
}

# start_script_server - the scripted server; sets URL, and E, the start of http-get's error
# lines for it ("http-get: 127.0.0.1 port PORT").
start_script_server() {
    start_server python3 "$PEERS/http_script_server.py" "$BATS_TEST_TMPDIR/script"
    URL=http://127.0.0.1:$SERVER_PORT
    E="http-get: 127.0.0.1 port $SERVER_PORT"
}

# expect_get NAME STATUS STDOUT STDERR [OPTIONS...] - http-get OPTIONS $URL/NAME, against the
# scripted answer NAME, exits STATUS, writes exactly STDOUT (printf escapes) on stdout and
# the line STDERR on stderr (nothing when it is empty). Otherwise print what the server sent,
# and what was expected and what came, bytes made visible. GET_LIMIT: seconds (10, scaled)
# before http-get is killed.
expect_get() {
    local name=$1 want=$2 out=$3 err=$4 got=0 d=$BATS_TEST_TMPDIR/get answer limit
    shift 4
    limit=$(tmo "${GET_LIMIT:-10}")
    mkdir -p "$d"
    printf '%b' "$out" >"$d/want.out"
    if [ -n "$err" ]; then printf '%s\n' "$err" >"$d/want.err"; else : >"$d/want.err"; fi
    timeout "$limit" http-get "$@" "$URL/$name" >"$d/got.out" 2>"$d/got.err" </dev/null || got=$?
    if [ "$got" -eq "$want" ] && cmp -s "$d/want.out" "$d/got.out" && cmp -s "$d/want.err" "$d/got.err"; then
        return 0
    fi
    answer=$BATS_TEST_TMPDIR/script/${name##*/}
    [ -f "$answer" ] || answer=$answer.hold
    {
        echo "ran:      http-get ${*:+$* }$URL/$name"
        echo "the server answered: $(show_bytes "$answer" 150)"
        echo "expected: exit $want"
        echo "          stdout $(show_bytes "$d/want.out" 100)"
        echo "          stderr $(show_bytes "$d/want.err" 150)"
        if [ "$got" -eq 124 ]; then
            echo "got:      no exit: still running after $limit s, and killed"
        else
            echo "got:      exit $got"
        fi
        echo "          stdout $(show_bytes "$d/got.out" 100)"
        echo "          stderr $(show_bytes "$d/got.err" 150)"
    } >&2
    return 1
}

@test "stage 2: http-get: chunked bodies: extensions, trailers, hex in any case, binary data" {
    hint "a chunk size is hex and may carry \";extensions\"; after the last chunk (size 0) come trailer lines, then an empty line" "Where does a body end?"
    script chunked 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n000A ; x ; y="z"\r\n, chunked\n\r\n1\r\n\0\r\n0\r\nTrailer-One: 1\r\nTrailer-Two: 2\r\n\r\n'
    script lf-only 'HTTP/1.1 200 OK\nTransfer-Encoding: CHUNKED\n\n3\nabc\n0\n\n'
    start_script_server
    expect_get chunked 0 'hello, chunked\n\0' ''
    hint "a line may end in LF alone, and a header's value is matched in any case: CHUNKED is chunked" "Where does a body end?"
    expect_get lf-only 0 'abc' ''
    stop_server
}

@test "stage 2: http-get: bad chunked bodies: a bad size, no line end after data, closed in a chunk" {
    script bad-size 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nxx\r\n0\r\n\r\n'
    script no-crlf 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n'
    script cut 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\nabc'
    script too-big 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n'
    start_script_server
    hint "a chunk size that is not hex is an error: the bytes before it are out, then one line, exit 1" "Where does a body end?"
    expect_get bad-size 1 'hello' "$E: bad chunk size: \"zz\""
    hint "a chunk's data is followed by CR LF: anything else is an error" "Where does a body end?"
    expect_get no-crlf 1 'abc' "$E: no line end after a chunk's data: \"d\""
    hint "a close in the middle of a chunk is an error, not the end of the body: a body cut short is not a shorter body" "Where does a body end?"
    expect_get cut 1 'abc' "$E: connection closed in the middle of a chunked body, after 3 bytes"
    hint "a chunk size of more than 16 hex digits does not fit in 64 bits: an error, never a silent overflow" "Where does a body end?"
    expect_get too-big 1 '' "$E: chunk size too large: \"10000000000000000\""
    stop_server
}

@test "stage 2: http-get: Content-Length bodies, short ones, and bodies that run until the close" {
    local x1000
    x1000=$(head -c 1000 /dev/zero | tr '\0' x)
    script exact 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA'
    script short "HTTP/1.1 200 OK\\r\\nContent-Length: 5000\\r\\n\\r\\n$x1000"
    script until-close 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it\nuntil the end'
    script both 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
    script two-lengths 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd'
    start_script_server
    hint "count Content-Length bytes and stop there: what follows is not the body" "Where does a body end?"
    expect_get exact 0 'hello' ''
    hint "a close before Content-Length bytes came is an error: the body was cut short, and exit 1 says so" "Where does a body end?"
    expect_get short 1 "$x1000" "$E: connection closed after 1000 of 5000 bytes"
    hint "with neither Content-Length nor chunked, the body runs until the server closes" "Where does a body end?"
    expect_get until-close 0 'all of it\nuntil the end' ''
    hint "an answer with both Content-Length and Transfer-Encoding, or two different lengths, is refused, never guessed" "Request smuggling: one request, read two ways"
    expect_get both 1 '' "$E: both Content-Length and Transfer-Encoding"
    expect_get two-lengths 1 '' "$E: two different Content-Length values"
    stop_server
}

@test "stage 2: http-get: 1xx answers are skipped; 204 and 304 have no body whatever they say" {
    hint "skip 1xx heads (100 Continue, 103 Early Hints): the final answer follows; 204 and 304 have no body, whatever their headers say" "Where does a body end?"
    script early 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nfinal\n'
    script no-content 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nXXXXX'
    script not-modified 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\nzz'
    start_script_server
    expect_get early 0 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nfinal\n' '' -i
    expect_get no-content 0 '' ''
    expect_get not-modified 0 '' ''
    stop_server
}

@test "stage 2: http-get: redirects: shown without -L; relative, absolute and other forms followed with -L" {
    hint "without -L a 3xx is the answer: its body, exit 0" "URLConnection beside the C"
    script start 'HTTP/1.1 302 Found\r\nLocation: ../b/next?x=1\r\nContent-Length: 9\r\n\r\nredirect\n'
    script next 'HTTP/1.1 301 Moved Permanently\r\nlocation: /c/third\r\n\r\n'
    script third 'HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:{PORT}/d/fourth#frag\r\n\r\n'
    script fourth 'HTTP/1.1 308 Permanent Redirect\r\nLocation: //127.0.0.1:{PORT}/e/last\r\n\r\n'
    script last 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\ndone\n'
    start_script_server
    expect_get a/start 0 'redirect\n' ''
    hint "resolve Location against the URL that answered (RFC 3986): \"../b/next\" from /a/start is /b/next, \"/c/third\" is on the same server, \"//host:port/e/last\" keeps the scheme" "URLConnection beside the C"
    expect_get a/start 0 'done\n' '' -L
    stop_server
    assert_text "GET /a/start HTTP/1.1
GET /a/start HTTP/1.1
GET /b/next?x=1 HTTP/1.1
GET /c/third HTTP/1.1
GET /d/fourth HTTP/1.1
GET /e/last HTTP/1.1" "$(grep -a '^GET ' "$BATS_TEST_TMPDIR/script/requests.log" | tr -d '\r')" \
        "the request lines http-get sent (without -L, then with -L from /a/start, Location ../b/next?x=1) are not the ones expected"
}

@test "stage 2: http-get: -L follows 10 redirects and fails on the 11th" {
    hint "count the redirects: a server may redirect to itself for ever; after 10, stop with one line and exit 1" "URLConnection beside the C"
    script loop 'HTTP/1.1 302 Found\r\nLocation: loop\r\n\r\n'
    start_script_server
    GET_LIMIT=5 expect_get loop 1 '' "$E: more than 10 redirects" -L
    assert_text "$(printf 'GET /loop HTTP/1.1\n%.0s' {1..11})" \
        "$(grep -a '^GET ' "$BATS_TEST_TMPDIR/script/requests.log" | tr -d '\r')" \
        "the request lines of http-get -L $URL/loop (Location: loop, 10 redirects followed) are not the ones expected"
    hint "a redirect to https:// cannot be followed here: one line, exit 1" "What can go wrong"
    script https 'HTTP/1.1 301 Moved\r\nLocation: https://example.com/\r\n\r\n'
    expect_get https 1 '' "$E: redirected to https://example.com/: this lesson speaks plain HTTP only" -L
    stop_server
}

@test "stage 2: http-get: malformed status lines and header lines, and one longer than 8 KiB" {
    hint "an answer that is not HTTP/1.x, a space, three digits is an error: one line quoting it, exit 1" "What can go wrong"
    script garbage 'SSH-2.0-OpenSSH_9.2\r\n\r\n'
    script bad-code 'HTTP/1.1 2000 OK\r\n\r\n'
    script fold 'HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n'
    script long-header "HTTP/1.1 200 OK\\r\\nX: $(head -c 8190 /dev/zero | tr '\0' v)\\r\\n\\r\\n"
    script longest-header "HTTP/1.1 200 OK\\r\\nX: $(head -c 8189 /dev/zero | tr '\0' v)\\r\\nContent-Length: 2\\r\\n\\r\\nok"
    script nothing ''
    start_script_server
    expect_get garbage 1 '' "$E: malformed status line: \"SSH-2.0-OpenSSH_9.2\""
    expect_get bad-code 1 '' "$E: malformed status line: \"HTTP/1.1 2000 OK\""
    hint "a header line that starts with a space (obs-fold) is refused: two readers would read it two ways" "Request smuggling: one request, read two ways"
    expect_get fold 1 '' "$E: bad response head: obs-fold: a header line starts with a space or a tab"
    hint "a header line of 8192 bytes is read; 8193 is an error, found as the bytes come" "What can go wrong"
    expect_get long-header 1 '' "$E: header line longer than 8192 bytes"
    expect_get longest-header 0 'ok' ''
    hint "a connection closed before any byte of an answer is an error, not an empty answer" "What can go wrong"
    expect_get nothing 1 '' "$E: connection closed before any response"
    stop_server
}

@test "stage 2: http-get: --timeout: a server that stops sending fails after SECS, head or body" {
    hint "wait for every read with a limit (poll()): --timeout SECS without a byte is one line and exit 1, in the head or in the body" "What can go wrong"
    local pid head_status=0
    script silent-head.hold 'HTTP/1.1 200 OK\r\n'
    script silent-body.hold 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'
    start_script_server
    # Both at once: the test waits one second, not two.
    timeout "$(tmo 10)" http-get --timeout 1 "$URL/silent-head" \
        >"$BATS_TEST_TMPDIR/head.out" 2>"$BATS_TEST_TMPDIR/head.err" 3>&- &
    pid=$!
    expect_get silent-body 1 'abc' "$E: nothing received for 1 s" --timeout 1
    wait_exit "$pid" 10 || head_status=$?
    assert_equal "$head_status" 1
    assert_equal "$(cat "$BATS_TEST_TMPDIR/head.out")" ""
    assert_equal "$(cat "$BATS_TEST_TMPDIR/head.err")" "$E: nothing received for 1 s"
    stop_server
}

# ---- serving files ----------------------------------------------------------------------

# answer_200 TYPE LENGTH BODY [CONNECTION] - a 200 answer for a file of the test root (dated
# 2022-01-01), as send prints it; CONNECTION: a "Connection: ..." line's value, if any.
answer_200() {
    printf 'HTTP/1.1 200 OK\nDate: *\nContent-Type: %s\nContent-Length: %s\nLast-Modified: Sat, 01 Jan 2022 00:00:00 GMT\n' "$1" "$2"
    [ -z "${4:-}" ] || printf 'Connection: %s\n' "$4"
    printf '\n%s' "$3"
}

@test "stage 3: http-server: answers GET with the exact head and body, and logs one line" {
    hint "status line, then Date, Content-Type, Content-Length, Last-Modified, each ending in CR LF, then an empty line, then the body" "HTTP on the wire"
    local port
    serve
    port=$(free_port)
    run timeout "$(tmo 5)" curl -sS -i --local-port "$port" "http://127.0.0.1:$SERVER_PORT/index.html"
    assert_success
    assert_text "$(answer_200 'text/html; charset=utf-8' 15 '<h1>hello</h1>')" \
        "$(printf '%s\n' "$output" | tr -d '\r' | sed 's/^Date: .* GMT$/Date: */')" \
        "curl -i http://127.0.0.1:$SERVER_PORT/index.html: the answer is not the one expected (CRs removed, any date shown as \"Date: *\")"
    assert_regex "$output" $'\r\nDate: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} 20[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT\r\n'
    stop_server
    hint "log on stderr: \"connection from CLIENT\", then CLIENT \"REQUEST LINE\" STATUS BODY-BYTES for each request, then \"closed CLIENT\"" "Build and run"
    assert_text "connection from 127.0.0.1:$port
127.0.0.1:$port \"GET /index.html HTTP/1.1\" 200 15
closed 127.0.0.1:$port" "$(cat "$SERVER_ERR")" "the server's stderr is not the log expected"
}

@test "stage 3: http-server: -q silences the access log and the connection log" {
    hint "-q: no line on stderr, neither the access log nor the connection lines" "Build and run"
    serve -q
    run timeout "$(tmo 5)" curl -sS "http://127.0.0.1:$SERVER_PORT/" "http://127.0.0.1:$SERVER_PORT/nope"
    assert_success
    stop_server
    assert_text "" "$(cat "$SERVER_ERR")" "with -q the server's stderr must stay empty"
}

@test "stage 3: http-server: HEAD sends the head GET would send, and no body" {
    hint "HEAD: the head GET would send, with the same Content-Length, and no body: the next answer follows the empty line at once" "Where does a body end?"
    serve -q
    run send 'HEAD /a.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
    assert_answer "$(answer_200 'text/css; charset=utf-8' 21 '' close)"
    run send 'HEAD /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
    assert_answer "HTTP/1.1 404 Not Found
Date: *
Content-Type: text/html; charset=utf-8
Content-Length: $(error_page 404 'Not Found' 'no such file' | wc -c)
Connection: close"
    stop_server
}

@test "stage 3: http-server: Content-Type by extension, index.html for /, 301 for a directory without /" {
    hint "Content-Type from the file's extension (application/octet-stream when unknown); a directory is served by its index.html, 403 without one; without its final / it gets 301 and Location with the / added" "The server: a third handler on lesson 06's loop"
    local url
    serve -q
    url=http://127.0.0.1:$SERVER_PORT
    run timeout "$(tmo 5)" curl -sS -w '%{url} %{http_code} %{content_type} %{redirect_url}\n' \
        -o /dev/null "$url/" -o /dev/null "$url/a.css" -o /dev/null "$url/app.js" \
        -o /dev/null "$url/blob.xyz" -o /dev/null "$url/sub" -o /dev/null "$url/sub/" \
        -o /dev/null "$url/sub?x=1" -o /dev/null "$url/empty-dir/"
    assert_success
    assert_text "$url/ 200 text/html; charset=utf-8 
$url/a.css 200 text/css; charset=utf-8 
$url/app.js 200 text/javascript; charset=utf-8 
$url/blob.xyz 200 application/octet-stream 
$url/sub 301 text/html; charset=utf-8 $url/sub/
$url/sub/ 200 text/html; charset=utf-8 
$url/sub?x=1 301 text/html; charset=utf-8 $url/sub/?x=1
$url/empty-dir/ 403 text/html; charset=utf-8 " "$output" \
        "each URL, its status, its Content-Type and where it redirects to, as curl saw them"
    stop_server
}

@test "stage 3: http-server: a directory with a 3,200-byte path is redirected whole" {
    hint "the Location of a 301 holds the whole target, however long, with the / added before the query" "The server: a third handler on lesson 06's loop"
    local path='' i
    serve -q
    for i in $(seq 10 25); do # 16 directories of 200 bytes each
        path+=/$(head -c 198 /dev/zero | tr '\0' d)$i
    done
    mkdir -p "$ROOT$path"
    printf 'deep\n' >"$ROOT$path/index.html"
    run timeout "$(tmo 5)" curl -sS -o /dev/null -w '%{http_code} %{redirect_url}\n' \
        "http://127.0.0.1:$SERVER_PORT$path?q"
    assert_success
    assert_text "301 http://127.0.0.1:$SERVER_PORT$path/?q" "$output" "curl's status and redirect URL for a directory asked for without its /"
    stop_server
}

# ---- keep-alive and pipelining -------------------------------------------------------------

@test "stage 4: http-server: answers three pipelined requests in order, from one write" {
    hint "answer every complete request in the buffer, in order, before waiting for more bytes; keep the bytes after a head for the next request" "Keep-alive and pipelining"
    serve -q
    run send 'GET /index.html HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /sub/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
    assert_answer "$(answer_200 'text/html; charset=utf-8' 15 '<h1>hello</h1>')
$(error_answer 404 'Not Found' 'no such file')
$(answer_200 'text/html; charset=utf-8' 10 'sub index' close)"
    stop_server
}

@test "stage 4: http-server: curl reuses one connection for three requests (keep-alive)" {
    hint "HTTP/1.1 keeps the connection open after an answer: read the next request from it, and close only when the client does" "Keep-alive and pipelining"
    serve
    run timeout "$(tmo 5)" curl -sS "http://127.0.0.1:$SERVER_PORT/index.html" \
        "http://127.0.0.1:$SERVER_PORT/sub/" "http://127.0.0.1:$SERVER_PORT/a.css"
    assert_success
    assert_text "<h1>hello</h1>
sub index
h1 { color: green; }" "$output" "curl's three bodies"
    stop_server
    assert_text "connection from
\"GET /index.html HTTP/1.1\" 200 15
\"GET /sub/ HTTP/1.1\" 200 10
\"GET /a.css HTTP/1.1\" 200 21
closed" "$(sed -E 's/ ?127\.0\.0\.1:[0-9]+ ?//' "$SERVER_ERR")" \
        "the server's log of curl's three URLs (the client's address removed): one connection was expected"
}

@test "stage 4: http-server: Connection: close, HTTP/1.0, HTTP/1.0 keep-alive (curl -H and raw)" {
    hint "Connection: close, or HTTP/1.0 without keep-alive: answer with Connection: close, then close; HTTP/1.0 that asked for keep-alive gets Connection: keep-alive" "Keep-alive and pipelining"
    local url
    serve -q
    url=http://127.0.0.1:$SERVER_PORT/index.html
    run timeout "$(tmo 5)" curl -sS -D - -o /dev/null -H 'Connection: close' "$url"
    assert_success
    assert_line $'Connection: close\r'
    run timeout "$(tmo 5)" curl -sS -D - -o /dev/null --http1.0 -H 'Connection:' "$url"
    assert_success
    assert_line $'Connection: close\r'
    run timeout "$(tmo 5)" curl -sS -D - -o /dev/null --http1.0 -H 'Connection: keep-alive' "$url"
    assert_success
    assert_line $'Connection: keep-alive\r'
    run timeout "$(tmo 5)" curl -sS -D - -o /dev/null -H 'Host: example.com' -H 'X-Extra:  spaced  ' "$url"
    assert_success
    assert_line $'HTTP/1.1 200 OK\r'
    # An error answer to an HTTP/1.0 client that asked to keep the connection says yes too,
    # or the client would wait for the close.
    run send 'GET /nope HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /a.css HTTP/1.0\r\n\r\n'
    assert_answer "$(error_answer 404 'Not Found' 'no such file' 'Connection: keep-alive')
$(answer_200 'text/css; charset=utf-8' 21 'h1 { color: green; }' close)"
    stop_server
}

@test "stage 4: http-server: python's http.client gets GET, HEAD, 404 and 405 on one connection" {
    hint "one connection for the five requests: each answer with its exact Content-Length, HEAD's without a body, 405 for POST" "Keep-alive and pipelining"
    serve -q
    run timeout "$(tmo 10)" python3 "$PEERS/http_client.py" 127.0.0.1 "$SERVER_PORT" \
        GET:/ HEAD:/a.css GET:/missing POST:/ GET:/sub/
    assert_success
    assert_text "GET / 200 OK length=15 sha256=$(printf '<h1>hello</h1>\n' | sha256sum | cut -c1-12) type=text/html; charset=utf-8
HEAD /a.css 200 OK length=0 sha256=e3b0c44298fc type=text/css; charset=utf-8
GET /missing 404 Not Found length=$(error_page 404 'Not Found' 'no such file' | wc -c) sha256=$(error_page 404 'Not Found' 'no such file' | sha256sum | cut -c1-12) type=text/html; charset=utf-8
POST / 405 Method Not Allowed length=$(error_page 405 'Method Not Allowed' 'this server only reads files: GET and HEAD' | wc -c) sha256=$(error_page 405 'Method Not Allowed' 'this server only reads files: GET and HEAD' | sha256sum | cut -c1-12) type=text/html; charset=utf-8
GET /sub/ 200 OK length=10 sha256=$(printf 'sub index\n' | sha256sum | cut -c1-12) type=text/html; charset=utf-8
connections: 1" "$output" "what python's http.client saw, request by request"
    stop_server
}

@test "stage 4: http-server: a request sent one byte at a time is answered once whole" {
    hint "a head may arrive in any number of reads: look for the empty line in all the bytes so far" "Keep-alive and pipelining"
    serve -q
    run send 'GET /a.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' --chunk 1 --delay 0.005
    assert_answer "$(answer_200 'text/css; charset=utf-8' 21 'h1 { color: green; }' close)"
    stop_server
}

@test "stage 4: http-server: 405 with Allow for other methods, keeping the connection" {
    hint "any method but GET and HEAD gets 405 with Allow: GET, HEAD, and the connection stays open; methods are case-sensitive: \"get\" is not GET" "Status codes"
    serve -q
    run send 'DELETE /index.html HTTP/1.1\r\nHost: x\r\n\r\nget / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
    assert_answer "$(error_answer 405 'Method Not Allowed' 'this server only reads files: GET and HEAD' 'Allow: GET, HEAD')
$(error_answer 405 'Method Not Allowed' 'this server only reads files: GET and HEAD' 'Allow: GET, HEAD' close)"
    stop_server
}

# ---- refused: malformed requests, request smuggling (RFC 9112, 6.3 and 11.2), bodies ------

@test "stage 5: http-server: 400, 505 and 501 for malformed lines, versions and codings, then closes" {
    hint "a malformed request line or header, a version other than 1.0 and 1.1, a coding other than chunked: the status of the table, its page, and the connection closed" "Status codes"
    local request why n=0 expected=
    serve -q
    # Each line: the request (printf escapes), TAB, the status, reason and why of its answer.
    # They go out on a connection each, from one peer; the answers are shown each under the
    # request it answers.
    : >"$BATS_TEST_TMPDIR/cases"
    while IFS=$'\t' read -r request why; do
        n=$((n + 1))
        printf '%b' "$request" >"$BATS_TEST_TMPDIR/case.$n"
        printf '%s\t%s\n' "$BATS_TEST_TMPDIR/case.$n" "$request" >>"$BATS_TEST_TMPDIR/cases"
        expected+="== $request"$'\n'$(eval "error_answer $why '' close")$'\n'
    done <<'EOF2'
GET /  HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n	400 'Bad Request' 'a malformed request line'
GET /../x HTTP/1.1\r\nHost: x\r\n\r\n	400 'Bad Request' 'a path that climbs above the root'
GET x HTTP/1.1\r\nHost: x\r\n\r\n	400 'Bad Request' 'a request target that is not a path'
GET / HTTP/2.0\r\nHost: x\r\n\r\n	505 'HTTP Version Not Supported' 'an HTTP version other than 1.0 and 1.1'
GET / HTTP/1.1x\r\nHost: x\r\n\r\n	400 'Bad Request' 'a malformed request line'
GET / HTTP/1.1\r\n\r\n	400 'Bad Request' 'an HTTP/1.1 request without Host'
GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n	400 'Bad Request' 'more than one Host header'
GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n	501 'Not Implemented' 'a transfer coding other than chunked'
GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n	400 'Bad Request' 'Transfer-Encoding in an HTTP/1.0 request'
\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n	400 'Bad Request' 'a request that starts with an empty line'
GET / HTTP/1.1\r\nHost: x\r\nBad\x01Name: y\r\n\r\n	400 'Bad Request' 'a character that has no place in a header name'
GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n	400 'Bad Request' 'a control character in a header value'
EOF2
    timeout "$(tmo 20)" python3 "$PEERS/http_send.py" 127.0.0.1 "$SERVER_PORT" \
        "$BATS_TEST_TMPDIR"/case.{1..12} >"$BATS_TEST_TMPDIR/answers" || true
    # "== FILE" becomes "== REQUEST", the request as the table above writes it.
    assert_text "${expected%$'\n'}" \
        "$(awk -F '\t' 'NR == FNR { text[$1] = $2; next }
                        /^== / { name = substr($0, 4); if (name in text) $0 = "== " text[name] }
                        { print }' "$BATS_TEST_TMPDIR/cases" \
            <(sed 's/^Date: .* GMT\r$/Date: */' "$BATS_TEST_TMPDIR/answers" | tr -d '\r'))" \
        "the answers, each under the request it answers (one connection each; CRs removed)"
    stop_server
}

@test "stage 5: http-server: smuggling: Content-Length with Transfer-Encoding gets 400, the rest is never a request" {
    hint "a request with both framings must be refused (400) and the connection closed: what follows could be read as a request" "Request smuggling: one request, read two ways"
    serve
    run send 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /a.css HTTP/1.1\r\nHost: x\r\n\r\n'
    assert_answer "$(error_answer 400 'Bad Request' 'both Content-Length and Transfer-Encoding' '' close)"
    stop_server
    assert_equal "$(grep -c '" [0-9]* [0-9]*$' "$SERVER_ERR")" 1
}

@test "stage 5: http-server: smuggling: two different Content-Lengths get 400; two equal ones are one" {
    hint "two different Content-Lengths, or one that is not digits alone, get 400 and the connection closed; two equal ones are one" "Request smuggling: one request, read two ways"
    serve -q
    run send 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdefGET /a.css HTTP/1.1\r\nHost: x\r\n\r\n'
    assert_answer "$(error_answer 400 'Bad Request' 'two different Content-Length values' '' close)"
    run send 'GET /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc'
    assert_answer "$(answer_200 'text/html; charset=utf-8' 15 '<h1>hello</h1>' close)"
    run send 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc'
    assert_answer "$(error_answer 400 'Bad Request' 'a Content-Length that is not a number' '' close)"
    stop_server
}

@test "stage 5: http-server: smuggling: obs-fold and whitespace before the colon get 400" {
    hint "a header line that starts with a space or a tab (obs-fold), or a space before the colon, gets 400 and the connection closed: two readers would read it two ways" "Request smuggling: one request, read two ways"
    serve -q
    run send 'GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n'
    assert_answer "$(error_answer 400 'Bad Request' 'obs-fold: a header line starts with a space or a tab' '' close)"
    run send 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nGET /a.css HTTP/1.1\r\n\r\n'
    assert_answer "$(error_answer 400 'Bad Request' 'whitespace between a header name and its colon' '' close)"
    run send 'GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding\t: chunked\r\n\r\n'
    assert_answer "$(error_answer 400 'Bad Request' 'whitespace between a header name and its colon' '' close)"
    stop_server
}

@test "stage 5: http-server: a request body is read and dropped, never taken for a request" {
    hint "skip a request body by its framing (Content-Length or chunked) before looking for the next request" "Request smuggling: one request, read two ways"
    serve -q
    # The body of the first request looks like a request for a.css: it must not be served.
    run send 'GET /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 32\r\n\r\nGET /a.css HTTP/1.1\r\nHost: x\r\n\r\nGET /sub/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n20;ext=1\r\nGET /a.css HTTP/1.1\r\nHost: x\r\n\r\n\r\n0\r\nTrailer: t\r\n\r\nHEAD /app.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
    [[ $output != *"color: green"* ]] ||
        echo "a.css was served: its request was the body of another request (Content-Length: 32, then a chunked body)" >&2
    assert_answer "$(answer_200 'text/html; charset=utf-8' 15 '<h1>hello</h1>')
$(answer_200 'text/html; charset=utf-8' 10 'sub index')
$(answer_200 'text/javascript; charset=utf-8' 16 '' close)"
    stop_server
}

@test "stage 5: http-server: a body over 1 MiB gets 413 at once, and the connection closes" {
    hint "a Content-Length over 1 MiB gets 413 before a byte of the body is read, and the connection closes" "Sizes"
    serve -q
    run send 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\nGET /a.css HTTP/1.1\r\nHost: x\r\n\r\n'
    assert_answer "$(error_answer 413 'Content Too Large' 'a request body larger than 1 MiB' '' close)"
    stop_server
}

# ---- sizes -----------------------------------------------------------------------------------

@test "stage 6: http-server: a request line of 8192 bytes is read; 8193 gets 414" {
    hint "count the request line as it arrives, and answer 414 as soon as it passes 8192 bytes" "Sizes"
    local path
    serve -q
    path=/$(head -c 8178 /dev/zero | tr '\0' a) # "GET " + path + " HTTP/1.1" = 8192
    run send "GET $path HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"
    assert_answer "$(error_answer 404 'Not Found' 'no such file' '' close)"
    run send "GET ${path}a HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"
    assert_answer "$(error_answer 414 'URI Too Long' 'a request line longer than 8192 bytes' '' close)"
    # Refused as soon as the 8193rd byte arrives: no end of line is waited for.
    run send "GET ${path}aaaaaaaaaaaaaaaaaaaa" --timeout 3
    assert_answer "$(error_answer 414 'URI Too Long' 'a request line longer than 8192 bytes' '' close)"
    stop_server
}

@test "stage 6: http-server: header lines of 16384 bytes in all are read; 16385 get 431" {
    hint "count the header lines' bytes as they arrive, line ends included: 16384 are read, the 16385th gets 431" "Sizes"
    local filler request
    serve -q
    # Host: x\r\n (9) + X: <v>\r\n (5 + v) + Connection: close\r\n (19) = 16384: v = 16351.
    filler=$(head -c 16351 /dev/zero | tr '\0' v)
    request="GET / HTTP/1.1\\r\\nHost: x\\r\\nX: $filler\\r\\nConnection: close\\r\\n\\r\\n"
    run send "$request"
    assert_answer "$(answer_200 'text/html; charset=utf-8' 15 '<h1>hello</h1>' close)"
    run send "GET / HTTP/1.1\\r\\nHost: x\\r\\nX: ${filler}v\\r\\nConnection: close\\r\\n\\r\\n"
    assert_answer "$(error_answer 431 'Request Header Fields Too Large' 'header lines longer than 16384 bytes in all' '' close)"
    stop_server
}

# ---- time: slowloris ---------------------------------------------------------------------------

@test "stage 6: http-server: slowloris gets 408 after --header-timeout; an idle keep-alive connection does not" {
    hint "start a clock at the first byte of a head; when --header-timeout passes before the empty line, answer 408 and close" "Slowloris: attacking with time"
    local idle_pid idle_status=0 slow
    serve --header-timeout 1
    # At the same time: a client that asks once, then says nothing. No head has begun, so
    # no 408: --idle-timeout (60 s) rules; it gives up itself after 1.3 s of silence.
    printf 'GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n' >"$BATS_TEST_TMPDIR/idle.request"
    timeout "$(tmo 10)" python3 "$PEERS/http_send.py" --timeout 1.3 127.0.0.1 "$SERVER_PORT" \
        "$BATS_TEST_TMPDIR/idle.request" >"$BATS_TEST_TMPDIR/idle.answer" 3>&- &
    idle_pid=$!
    # 45 bytes at 0.1 s each would take 4.5 s: the server must stop it after about 1 s.
    run --separate-stderr send 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaa\r\n\r\n' \
        --chunk 1 --delay 0.1 --report
    slow="a head sent a byte every 0.1 s to http-server --header-timeout 1 should get 408 and the close after about 1 s; the peer: ${stderr//$'\n'/, }"
    assert_answer "$(error_answer 408 'Request Timeout' "the request's head did not arrive in time" '' close)" ||
        fail "$slow"
    [[ $stderr =~ ^closed\ after\ (1\.[0-9]|2\.[0-9])\ s ]] || fail "$slow"
    hint "the clock runs from a head's first byte to its empty line only: a keep-alive connection waiting for its next request is no attack" "Slowloris: attacking with time"
    wait_exit "$idle_pid" 10 || idle_status=$?
    # 3: it gave up waiting, the server kept the connection.
    [ "$idle_status" -eq 3 ] && [ "$(grep -c '^HTTP/1.1 ' "$BATS_TEST_TMPDIR/idle.answer")" -eq 1 ] ||
        fail "a client that asked once and then waited (1.3 s) was not left alone: it got $(show_bytes "$BATS_TEST_TMPDIR/idle.answer" 100)$([ "$idle_status" -eq 3 ] || echo ', then the close')"
    stop_server
    hint "log the 408 with the request line as far as it came" "Slowloris: attacking with time"
    grep -qE '"GET / HTTP[^"]*" 408 ' "$SERVER_ERR" # the request line, as far as it came
}

@test "stage 6: http-server: a client that leaves halfway costs no CPU (Tiny's spin), and the next is served" {
    hint "read() returning 0 is the end of the input, not \"nothing yet\": close the connection" "Slowloris: attacking with time"
    local before after
    serve -q --header-timeout 30
    run send 'GET /index.html HTTP/1.1\r\nHost: x\r\n' --half-close --timeout 2
    assert_answer ""
    before=$(cpu_ticks "$SERVER_PID")
    sleep 0.3 # the measuring window, not a readiness wait
    after=$(cpu_ticks "$SERVER_PID")
    # A spinning server shows about 30 ticks.
    [ $((after - before)) -lt 5 ] ||
        fail "after a client sent half a head and closed its side, the server used $((after - before)) ticks (1/100 s) of CPU in 0.3 s: it spins"
    run send 'GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
    assert_answer "$(answer_200 'text/html; charset=utf-8' 15 '<h1>hello</h1>' close)"
    stop_server
}


# ---- paths: the traversal corpus -------------------------------------------------------------

@test "stage 7: http-server: 40 traversal attempts: not one byte of a file outside the root comes back" {
    hint "percent-decode the path once, resolve \".\" and \"..\", refuse a climb above the root (400), and open with openat2(RESOLVE_BENEATH)" "Traversal: reading files outside the root"
    local outside=$BATS_TEST_TMPDIR leaked wrong
    serve -q
    printf 'SECRET-8c1f outside the root\n' >"$outside/secret.txt"
    ln -s /etc/passwd "$ROOT/out-abs"
    ln -s ../secret.txt "$ROOT/out-rel"
    ln -s .. "$ROOT/out-dir"
    ln -s /proc/self/root/etc/passwd "$ROOT/out-proc"
    ln -s "$outside" "$ROOT/sub/out-abs-dir"
    # Each line: the status the target must get, then the target, sent exactly as written.
    cat >"$BATS_TEST_TMPDIR/corpus" <<'EOF'
400 /../secret.txt
400 /..%2fsecret.txt
400 /..%2Fsecret.txt
400 /%2e%2e/secret.txt
400 /%2E%2E/secret.txt
400 /%2e%2e%2fsecret.txt
400 /.%2e/secret.txt
400 /%2e./secret.txt
400 /a/../../secret.txt
400 /./../secret.txt
400 //../secret.txt
400 /%2f..%2fsecret.txt
400 /sub/../../secret.txt
400 /sub/%2e%2e/%2e%2e/secret.txt
400 /../../../../../../etc/passwd
400 /..%2f..%2f..%2f..%2fetc%2fpasswd
400 /%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd
400 http://x/../secret.txt
400 /..%5csecret.txt
400 /%5c..%5csecret.txt
400 /..\secret.txt
400 /%00/../secret.txt
400 /index.html%00.txt
400 /%2
400 /%zz/secret.txt
404 /%252e%252e/secret.txt
404 /..%252fsecret.txt
404 /%c0%ae%c0%ae/secret.txt
404 /%c0%af../secret.txt
404 /etc/passwd
404 //etc/passwd
404 /.../secret.txt
404 /..;/secret.txt
404 /proc/self/root/etc/passwd
404 /out-dir/../secret.txt
403 /out-abs
403 /out-rel
403 /out-proc
403 /out-dir/secret.txt
403 /sub/out-abs-dir/secret.txt
EOF
    run timeout "$(tmo 20)" python3 "$PEERS/http_paths.py" 127.0.0.1 "$SERVER_PORT" \
        < <(awk '{ print $2 }' "$BATS_TEST_TMPDIR/corpus")
    assert_success
    # The targets that brought back a file from outside the root, with its first line.
    leaked=$(awk '/^== / { target = substr($0, 4) }
                  /SECRET-8c1f|root:x:0:0/ && !(target in seen) { seen[target]; print "GET " target ": " $0 }' <<<"$output")
    [ -z "$leaked" ] || fail "a file outside the root came back:
$(head -n 6 <<<"$leaked")"
    # Each target whose status is not the one expected, with the why of its error page.
    wrong=$(awk 'NR == FNR { n++; target[n] = $2; want[$2] = $1; next }
                 /^== / { t = substr($0, 4); next }
                 /^HTTP\/1\.1 / { if (!(t in got)) got[t] = $2; next }
                 /<p>/ { w = $0; sub(/.*<p>/, "", w); sub(/\.?<\/p>.*/, "", w); why[t] = w }
                 END {
                     for (i = 1; i <= n; i++) {
                         t = target[i]
                         if (got[t] == want[t]) continue
                         printf "GET %s: expected %s, got %s", t, want[t], (t in got) ? got[t] : "no answer"
                         print (t in why) ? " (" why[t] ")" : ""
                     }
                 }' "$BATS_TEST_TMPDIR/corpus" - <<<"$output")
    [ -z "$wrong" ] ||
        fail "$(grep -c . <<<"$wrong") of the 40 attempts got another status than expected:
$(head -n 12 <<<"$wrong")"
    stop_server
}

@test "stage 7: http-server: a symbolic link that stays inside the root is followed" {
    hint "a link that stays inside the root is followed: RESOLVE_BENEATH refuses only what leaves it" "Traversal: reading files outside the root"
    [ -z "$VALGRIND" ] || skip "valgrind 3.19 does not know openat2: the fallback refuses every link"
    serve -q
    ln -s index.html "$ROOT/link.html"
    ln -s ../a.css "$ROOT/sub/up.css"
    run timeout "$(tmo 5)" curl -sS "http://127.0.0.1:$SERVER_PORT/link.html" "http://127.0.0.1:$SERVER_PORT/sub/up.css"
    assert_success
    assert_text "<h1>hello</h1>
h1 { color: green; }" "$output" "curl's bodies for /link.html (a link to index.html) and /sub/up.css (a link to ../a.css)"
    stop_server
}

@test "stage 7: http-server: a FIFO under the root is refused at once, not waited on" {
    hint "open files with O_NONBLOCK, and serve regular files only: open() of a FIFO would wait for a writer for ever" "Traversal: reading files outside the root"
    serve -q
    mkfifo "$ROOT/pipe"
    run send 'GET /pipe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' --timeout 3
    assert_answer "$(error_answer 403 'Forbidden' 'not a regular file' '' close)"
    stop_server
}

# ---- large files, resources ---------------------------------------------------------------------

# big_file_test [OPTIONS] - 32 MiB (8 under valgrind) through curl, sha256 compared; the
# server's peak resident size grows by less than 8 MiB: the file is never read whole.
big_file_test() {
    local size=32 before peak got
    hint "send a large file a piece at a time as the socket drains (sendfile), never read whole into memory" "sendfile, or a bounded buffer?"
    [ -z "$VALGRIND" ] || size=8 # valgrind is 20 times slower: a smaller file says the same
    serve -q "$@"
    truncate -s "${size}M" "$ROOT/big.bin"
    head -c 65536 /dev/urandom | dd of="$ROOT/big.bin" conv=notrunc status=none
    head -c 65536 /dev/urandom | dd of="$ROOT/big.bin" bs=1M seek=$((size - 1)) conv=notrunc status=none
    before=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status")
    got=$(timeout "$(tmo 20)" sh -c "curl -sS 'http://127.0.0.1:$SERVER_PORT/big.bin' | sha256sum") || true
    if [ "$got" != "$(sha256sum <"$ROOT/big.bin")" ]; then
        fail "curl got the $size MiB file wrong (its sha256 differs); asked again, it got $(kit_count \
            "$(timeout "$(tmo 20)" curl -sS -o /dev/null -w '%{size_download}' \
                "http://127.0.0.1:$SERVER_PORT/big.bin")") of $(kit_count $((size * 1048576))) bytes"
    fi
    peak=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status")
    [ -n "$VALGRIND" ] || [ $((peak - before)) -lt 8192 ] ||
        fail "the server's peak resident size grew by $(kit_count $((peak - before))) KiB while it sent a $size MiB file: more than 8 MiB"
    stop_server
}

@test "stage 8: http-server: streams a 32 MiB file with sendfile, in bounded memory" { big_file_test; }
@test "stage 8: http-server: streams a 32 MiB file through a buffer (--no-sendfile), in bounded memory" { big_file_test --no-sendfile; }

@test "stage 8: http-server: SIGTERM while a large file is going out: exit 0" {
    hint "SIGTERM ends the server with exit 0 even while a file is going out: stop the loop, close the file and every connection" "The server: a third handler on lesson 06's loop"
    serve -q
    truncate -s 256M "$ROOT/huge.bin"
    python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(b"GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
s.recv(100)
print("reading", flush=True)
time.sleep(30)' "$SERVER_PORT" >"$BATS_TEST_TMPDIR/peer.out" 3>&- &
    # The transfer has begun; the peer reads no more than those 100 bytes: it stalls.
    wait_line "$BATS_TEST_TMPDIR/peer.out" '^reading$'
    stop_server
    kill "$!" 2>/dev/null || true
}

@test "stage 8: http-server: --max-clients 2: the third connection gets 503 and is closed" {
    hint "--max-clients N: connection N+1 gets the 503 answer and the close; a slot is free again once a client leaves" "Resources"
    serve -q --max-clients 2
    mkfifo "$BATS_TEST_TMPDIR/hold"
    timeout "$(tmo 20)" python3 "$PEERS/http_idle.py" 127.0.0.1 "$SERVER_PORT" 2 \
        <"$BATS_TEST_TMPDIR/hold" >"$BATS_TEST_TMPDIR/idle.out" 3>&- &
    exec 4>"$BATS_TEST_TMPDIR/hold"
    wait_line "$BATS_TEST_TMPDIR/idle.out" '^open 2$'
    for _ in 1 2 3; do # the two may still be on their way to accept(): wait for the 503
        run send '' --timeout 3
        [[ $output == *503* ]] && break
        sleep 0.2
    done
    assert_answer "HTTP/1.1 503 Service Unavailable
Content-Type: text/plain; charset=utf-8
Content-Length: 30
Connection: close

Server busy, try again later."
    exec 4>&-
    wait_exit "$!" 10
    # A slot is free again once the two have left.
    for _ in 1 2 3 4 5; do
        run send 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
        [[ $output == *hello* ]] && break
        sleep 0.2
    done
    assert_answer "$(answer_200 'text/html; charset=utf-8' 15 '<h1>hello</h1>' close)"
    stop_server
}

@test "stage 8: http-server: 10,000 idle connections (1,000 under valgrind) cost bounded memory, and a request is still served" {
    hint "an idle connection holds no buffer: 10,000 of them add less than 8 MiB, and a request is still answered at once" "Resources"
    local n=10000 before after
    [ -z "$VALGRIND" ] || n=1000
    serve -q
    before=$(rss_kib "$SERVER_PID")
    mkfifo "$BATS_TEST_TMPDIR/hold"
    timeout "$(tmo 60)" python3 "$PEERS/http_idle.py" 127.0.0.1 "$SERVER_PORT" "$n" \
        <"$BATS_TEST_TMPDIR/hold" >"$BATS_TEST_TMPDIR/idle.out" 3>&- &
    exec 4>"$BATS_TEST_TMPDIR/hold"
    wait_line "$BATS_TEST_TMPDIR/idle.out" "^open $n\$" || { sleep $((5 * KIT_SLOW)) && wait_line "$BATS_TEST_TMPDIR/idle.out" "^open $n\$"; }
    run send 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
    assert_answer "$(answer_200 'text/html; charset=utf-8' 15 '<h1>hello</h1>' close)"
    after=$(rss_kib "$SERVER_PID")
    # About 300 bytes a connection: 10,000 fit in 8 MiB (valgrind's own overhead aside).
    [ -n "$VALGRIND" ] || [ $((after - before)) -lt 8192 ] ||
        fail "$(kit_count "$n") idle connections grew the server's resident size by $(kit_count $((after - before))) KiB: more than 8 MiB"
    exec 4>&-
    wait_exit "$!" 30
    [ "$(tail -1 "$BATS_TEST_TMPDIR/idle.out")" = "closed by the server: 0" ] ||
        fail "the server closed idle connections it should have kept: $(tail -1 "$BATS_TEST_TMPDIR/idle.out") of $(kit_count "$n")"
    stop_server
}

@test "stage 8: http-server: -b ::1 serves IPv6; http-get takes an IPv6 literal URL" {
    hint "-b ::1 listens on the IPv6 loopback, and the listening line puts it in brackets; http-get takes the host of http://[::1]:PORT/ without its brackets" "URLConnection beside the C"
    has_ipv6_loopback || skip "no IPv6 loopback (::1) on this machine"
    serve -q -b ::1
    assert_equal "$(cat "$SERVER_OUT")" "listening on [::1]:$SERVER_PORT"
    run timeout "$(tmo 5)" http-get "http://[::1]:$SERVER_PORT/index.html"
    assert_success
    assert_output "<h1>hello</h1>"
    stop_server
}

# ---- peers we did not write: wrk and a real browser ---------------------------------------------

@test "stage 8: http-server: wrk, 20 keep-alive connections, 2,000 requests: no errors, every answer 200" {
    hint "many keep-alive connections at once, each request answered in order, none dropped, none reset" "Measured: http-server against nginx"
    command -v wrk >/dev/null || skip "wrk is not installed (make deps installs it)"
    # wrk runs for its -d seconds whatever happens: its script stops the thread after 2,000
    # answers, so the smoke run costs little CPU. (Speed is the bench's business.)
    printf '%s\n' 'local n = 0' 'function response() n = n + 1; if n >= 2000 then wrk.thread:stop() end end' \
        >"$BATS_TEST_TMPDIR/stop.lua"
    serve -q
    run timeout "$(tmo 10)" wrk -t1 -c20 -d"$(tmo 1)"s -s "$BATS_TEST_TMPDIR/stop.lua" \
        "http://127.0.0.1:$SERVER_PORT/index.html"
    assert_success
    assert_line --regexp '^ +20[0-9][0-9] requests in '
    refute_line --partial 'Socket errors'
    refute_line --partial 'Non-2xx or 3xx responses'
    stop_server
}

@test "stage 8: http-server: headless Chromium loads a page with its stylesheet, image and script" {
    hint "a browser asks for the page, then its stylesheet, image and script, on keep-alive connections: each needs its Content-Type" "Build and run"
    command -v chromium >/dev/null || skip "chromium is not installed (make deps installs it)"
    local page=$BATS_TEST_TMPDIR/page
    python3 "$PEERS/http_page.py" "$page"
    mkdir -p "$BATS_TEST_TMPDIR/chromium"
    start_server http-server -d "$page" 0
    run timeout "$(tmo 60)" chromium --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$BATS_TEST_TMPDIR/chromium" --virtual-time-budget=5000 \
        --dump-dom "http://127.0.0.1:$SERVER_PORT/" 2>/dev/null
    assert_success
    assert_output --partial '<p id="result">image loaded, stylesheet applied</p>'
    stop_server
    grep -q '"GET /style.css HTTP/1.1" 200 ' "$SERVER_ERR"
    grep -q '"GET /picture.png HTTP/1.1" 200 ' "$SERVER_ERR"
    grep -q '"GET /app.js HTTP/1.1" 200 ' "$SERVER_ERR"
}
