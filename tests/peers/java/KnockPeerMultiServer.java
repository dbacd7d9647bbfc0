// KnockPeerMultiServer: the kit's Java Knock Knock server with a thread per client, a test
// peer beside lesson 05's kk-multi-server.
//
// Written for the kit, to behave as the Java tutorial's KKMultiServer does
// (https://docs.oracle.com/javase/tutorial/networking/sockets/clientServer.html, "Supporting
// Multiple Clients"): the main thread only accepts, and each client gets a Thread of its own
// that talks through KnockPeerProtocol. It runs until it is killed, and listens on the
// loopback address only.
//
// One behaviour is kept on purpose because lesson 05 teaches from it: the tutorial's
// thread looks for "Bye" without the period, which the protocol never says, so it never
// hangs up. This thread likewise serves until the client closes: after "Bye." the
// protocol starts over, and the next line gets a new "Knock! Knock!". kk-multi-server
// closes after "Bye.", and tests/05-multi-client.bats shows the two side by side.
//
// usage: java KnockPeerMultiServer PORT

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

public final class KnockPeerMultiServer {
    private static final String NAME = "KnockPeerMultiServer";
    private static final int BACKLOG = 50; // Java's default

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: java " + NAME + " PORT");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);

        try (ServerSocket listener = new ServerSocket(port, BACKLOG,
                InetAddress.getLoopbackAddress())) {
            for (long n = 1;; n++) {
                Socket client = listener.accept();
                new Thread(() -> converse(client), "client-" + n).start();
            }
        } catch (IOException e) {
            System.err.println(NAME + ": port " + port + ": " + e.getMessage());
            System.exit(1);
        }
    }

    // One client's conversation, in its own thread, until that client closes.
    private static void converse(Socket client) {
        try (client;
                PrintWriter toClient = new PrintWriter(client.getOutputStream(), true,
                        StandardCharsets.UTF_8);
                BufferedReader fromClient = new BufferedReader(new InputStreamReader(
                        client.getInputStream(), StandardCharsets.UTF_8))) {
            KnockPeerProtocol jokes = new KnockPeerProtocol();
            toClient.println(jokes.greeting());
            for (String line = fromClient.readLine(); line != null;
                    line = fromClient.readLine()) {
                toClient.println(jokes.answer(line)); // "Bye." included: see the header
            }
        } catch (IOException e) {
            System.err.println(NAME + ": " + client.getRemoteSocketAddress() + ": "
                    + e.getMessage());
        }
    }
}
