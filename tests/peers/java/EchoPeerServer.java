// EchoPeerServer: the kit's Java echo server, a test peer for the C echo clients.
//
// Written for the kit, to behave as the Java tutorial's EchoServer does
// (https://docs.oracle.com/javase/tutorial/networking/sockets/clientServer.html), with
// the same classes: ServerSocket, Socket, PrintWriter, BufferedReader. It accepts one
// client, sends back each line it reads (readLine, then println: the line ending becomes
// "\n"), and exits 0 when that client closes. Unlike the tutorial's server it listens on
// the loopback address only: a test peer has no business on the network.
//
// usage: java EchoPeerServer PORT

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

public final class EchoPeerServer {
    private static final String NAME = "EchoPeerServer";
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
            for (String line = fromClient.readLine(); line != null;
                    line = fromClient.readLine()) {
                toClient.println(line);
            }
        } catch (IOException e) {
            System.err.println(NAME + ": port " + port + ": " + e.getMessage());
            System.exit(1);
        }
    }
}
