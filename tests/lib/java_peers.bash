# tests/lib/java_peers.bash - the kit's Java peers (tests/peers/java/) in the lesson tests.
#
# The peers are small Java programs written for the kit. They behave as the Java
# tutorial's programs do and use the same classes (Socket, ServerSocket, PrintWriter,
# BufferedReader, a Thread per client), so a test that runs one against a C program shows
# that the C program talks with Java's socket classes. A bats file compiles the peers it
# once (all of them: see java_peers_build), and every test that runs one starts with
# need_java_peers:
#
#   load lib/java_peers
#   setup_file() { java_peers_build; }
#   @test "..." {
#       need_java_peers
#       run timeout "$(tmo 10)" "${JAVA_PEER[@]}" EchoPeerClient 127.0.0.1 "$SERVER_PORT"
#   }
#
# A server peer takes a PORT, as the tutorial's servers do: no port 0 and no "listening on"
# line. Take a port from free_port and start the peer with java_peer_server, which waits
# until it listens.
# shellcheck shell=bash

JAVA_PEERS_SRC=$KIT_ROOT/tests/peers/java
# Compiled once for every bats file and every run, like the kit's programs: into build/,
# again only when a source is newer than the last compilation.
JAVA_PEERS_CLASSES=$KIT_ROOT/build/java-peers

# The command that runs a peer: "${JAVA_PEER[@]}" CLASS ARGS...
JAVA_PEER=(java -cp "$JAVA_PEERS_CLASSES")

# java_peers_build [CLASS...] - in setup_file: make sure every peer is compiled (every
# warning an error) into build/java-peers. Several bats files run at once: the first to
# come compiles, under a lock, and the others wait for it and reuse its classes. Without
# javac and java it compiles nothing, and need_java_peers skips.
java_peers_build() {
    local stamp=$JAVA_PEERS_CLASSES/.compiled
    command -v javac >/dev/null && command -v java >/dev/null || return 0
    mkdir -p "$KIT_ROOT/build"
    (
        flock 9
        if [ -f "$stamp" ] && [ -z "$(find "$JAVA_PEERS_SRC" -name '*.java' -newer "$stamp")" ]; then
            exit 0
        fi
        rm -rf "$JAVA_PEERS_CLASSES.new" &&
            javac -Xlint:all -Werror -d "$JAVA_PEERS_CLASSES.new" "$JAVA_PEERS_SRC"/*.java &&
            touch "$JAVA_PEERS_CLASSES.new/.compiled" &&
            rm -rf "$JAVA_PEERS_CLASSES" && mv "$JAVA_PEERS_CLASSES.new" "$JAVA_PEERS_CLASSES"
    ) 9>"$KIT_ROOT/build/java-peers.lock"
}

# need_java_peers - skip this test, saying why, when this machine has no JDK.
need_java_peers() {
    [ -d "$JAVA_PEERS_CLASSES" ] ||
        skip "no JDK here (javac and java): tests/deps installs default-jdk-headless"
}

# java_peer_server SECS CLASS PORT - start the server peer CLASS on PORT, to be ended by
# timeout after SECS (scaled) at the latest, and wait until it listens. It asks ss rather than connecting: a one-client peer would serve that
# probe as its only client. Sets JAVA_PEER_PID (the timeout process: a signal sent to it
# reaches the JVM) and JAVA_PEER_OUT (the peer's stdout and stderr).
java_peer_server() {
    local secs=$1 class=$2 port=$3 n=0
    JAVA_PEER_OUT=$BATS_TEST_TMPDIR/$class.out
    timeout "$(tmo "$secs")" "${JAVA_PEER[@]}" "$class" "$port" \
        >"$JAVA_PEER_OUT" 2>&1 </dev/null 3>&- &
    JAVA_PEER_PID=$!
    KIT_SERVER_PIDS+=("$JAVA_PEER_PID")
    until ss -Hltn "sport = :$port" | grep -q LISTEN; do
        if ! kill -0 "$JAVA_PEER_PID" 2>/dev/null || [ $((n += 1)) -gt $((200 * KIT_SLOW)) ]; then
            sed 's/^/# /' "$JAVA_PEER_OUT" >&3
            fail "$class did not start listening on port $port"
        fi
        sleep 0.05
    done
}
