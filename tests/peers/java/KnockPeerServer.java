// KnockPeerServer: the kit's Java Knock Knock server, a test peer for kk-client.
//
// Written for the kit, to behave as the Java tutorial's KnockKnockServer does
// (https://docs.oracle.com/javase/tutorial/networking/sockets/clientServer.html), with
// the same classes: ServerSocket, Socket, PrintWriter, BufferedReader. It accepts one
// client, speaks first, answers each line through KnockPeerProtocol, and closes and exits
// 0 once it has said "Bye." (or when the client leaves). It listens on the loopback
// address only, where the tutorial's server listens on every address.
//
// usage: java KnockPeerServer PORT

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

public final class KnockPeerServer {
    private static final String NAME = "KnockPeerServer";
    private static final int BACKLOG = 50; // Java's default

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: java " + NAME + " PORT");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);

        try (ServerSocket listener = new ServerSocket(port, BACKLOG,
                        InetAddress.getLoopbackAddress());
                Socket client = listener.accept();
                PrintWriter toClient = new PrintWriter(client.getOutputStream(), true,
                        StandardCharsets.UTF_8);
                BufferedReader fromClient = new BufferedReader(new InputStreamReader(
                        client.getInputStream(), StandardCharsets.UTF_8))) {
            tellJokes(fromClient, toClient);
        } catch (IOException e) {
            System.err.println(NAME + ": port " + port + ": " + e.getMessage());
            System.exit(1);
        }
    }

    private static void tellJokes(BufferedReader fromClient, PrintWriter toClient)
            throws IOException {
        KnockPeerProtocol jokes = new KnockPeerProtocol();
        toClient.println(jokes.greeting()); // the server speaks first
        for (String line = fromClient.readLine(); line != null;
                line = fromClient.readLine()) {
            String answer = jokes.answer(line);
            toClient.println(answer);
            if (answer.equals(KnockPeerProtocol.BYE))
                return;
        }
    }
}
