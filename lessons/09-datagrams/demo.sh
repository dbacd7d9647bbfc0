#!/usr/bin/env bash
# demo.sh - `make run` for lesson 09: quote-server on a free port, quote-client and socat
# asking it for quotes, a port where nothing listens, a relay that loses datagrams on
# purpose, then SIGTERM. With root and `ip netns`, the multicast pair too, in a private
# network namespace made for the demo and removed after it.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=SCRIPTDIR/../../common/listening.sh
source ../../common/listening.sh

work=$(mktemp -d)
pids=()
netns=
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    [ -z "$netns" ] || ip netns del "$netns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

show() { # show ARGS... - print the command line, run it, print its exit status
    echo "\$ $*"
    "$@" 2>&1 && echo "(exit 0)" || echo "(exit $?)"
    echo
}

printf 'Nobody promised you this datagram.\nSend it twice, read it once.\n' >"$work/quotes"
./quote-server -f "$work/quotes" 0 >"$work/out" 2>"$work/err" &
server=$!
pids+=("$server")
port=$(kit_wait_port "$work/out" "$server") || { echo "demo.sh: quote-server did not start" >&2; exit 1; }
echo "\$ ./quote-server -f quotes.txt 0 &"
cat "$work/out"
echo

show ./quote-client 127.0.0.1 "$port"
show ./quote-client 127.0.0.1 "$port"
if command -v socat >/dev/null 2>&1; then
    echo "\$ printf 'any-tag' | socat -t 0.5 - UDP:127.0.0.1:$port; echo"
    printf 'any-tag' | timeout 5 socat -t 0.5 - "UDP:127.0.0.1:$port"
    echo
    echo
else
    echo "(socat is not installed: \"make deps\" installs it; skipping the socat client)"
    echo
fi

if command -v python3 >/dev/null 2>&1; then
    # A UDP port nobody has: the kernel answers with an ICMP port unreachable.
    free=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    show ./quote-client 127.0.0.1 "$free"

    # The relay drops the first two requests: the client tries again, and waits longer.
    python3 ../../tests/peers/udp_relay.py --up drop,drop 127.0.0.1 "$port" \
        >"$work/relay.out" 2>"$work/relay.err" &
    pids+=("$!")
    relay=$(kit_wait_port "$work/relay.out" "$!") || { echo "demo.sh: the relay did not start" >&2; exit 1; }
    echo "\$ python3 ../../tests/peers/udp_relay.py --up drop,drop 127.0.0.1 $port &"
    cat "$work/relay.out"
    echo
    show ./quote-client -v --timeout 100 127.0.0.1 "$relay"
    echo "(the relay's log:)"
    cat "$work/relay.err"
    echo
else
    echo "(python3 is not installed: skipping the port nobody has and the lossy relay)"
    echo
fi

echo "\$ kill -TERM $server   # the server exits 0; its log went to stderr:"
kill -TERM "$server"
status=0
wait "$server" || status=$?
pids=("${pids[@]:1}")
cat "$work/err"
echo "(exit $status)"
[ "$status" -eq 0 ] || exit "$status"

# ---- multicast, in a network namespace of its own (root only) ---------------------------------
echo
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null 2>&1; then
    echo "(multicast: the demo makes a private network namespace for it, which needs root)"
    exit 0
fi
netns=kit-demo09-$$
if ! { ip netns add "$netns" && ip -n "$netns" link set lo multicast on &&
    ip -n "$netns" link set lo up; } 2>/dev/null; then
    echo "(multicast: ip netns does not work here; skipped)"
    exit 0
fi
on=(ip netns exec "$netns")
echo "# In a network namespace whose loopback has MULTICAST on (ip link set lo multicast on):"
for c in 1 2; do
    "${on[@]}" ./quote-multicast-client -i lo --count 3 --timeout 5000 4446 \
        >"$work/m$c.out" 2>&1 &
    pids+=("$!")
    kit_wait_for "$work/m$c.out" '^joined ' "$!" >/dev/null || { echo "demo.sh: client $c did not join" >&2; exit 1; }
done
echo "\$ ./quote-multicast-client -i lo --count 3 4446 &     # twice"
echo "\$ ./quote-multicast-server -i lo -f quotes.txt --interval 200 --count 3 4446"
"${on[@]}" ./quote-multicast-server -i lo -f "$work/quotes" --interval 200 --count 3 4446 2>&1
for c in 1 2; do
    wait "${pids[-1]}" 2>/dev/null || true
    pids=("${pids[@]:0:${#pids[@]}-1}")
done
for c in 1 2; do
    echo "(client $c, stdout and stderr:)"
    cat "$work/m$c.out"
done
