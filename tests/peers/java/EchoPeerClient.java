// EchoPeerClient: the kit's Java echo client, a test peer for the C echo servers.
//
// Written for the kit, to behave as the Java tutorial's EchoClient does
// (https://docs.oracle.com/javase/tutorial/networking/sockets/readingWriting.html),
// with the same classes: Socket, PrintWriter, BufferedReader. For each line of standard
// input it sends the line, waits for the line that comes back, and prints it after
// "echo: ". When the server has closed, readLine() gives null and the line printed is
// "echo: null", which is what lesson 02's README shows the Java client doing.
//
// usage: java EchoPeerClient HOST PORT

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;

public final class EchoPeerClient {
    private static final String NAME = "EchoPeerClient";

    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: java " + NAME + " HOST PORT");
            System.exit(2);
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);

        try (Socket server = new Socket(host, port);
                PrintWriter toServer = new PrintWriter(server.getOutputStream(), true,
                        StandardCharsets.UTF_8);
                BufferedReader fromServer = new BufferedReader(new InputStreamReader(
                        server.getInputStream(), StandardCharsets.UTF_8));
                BufferedReader typed = new BufferedReader(new InputStreamReader(
                        System.in, StandardCharsets.UTF_8))) {
            exchangeLines(typed, toServer, fromServer);
        } catch (UnknownHostException e) {
            fail("cannot resolve " + host, e);
        } catch (IOException e) {
            fail("cannot talk to " + host + " port " + port, e);
        }
    }

    // One line out, one line back, until standard input ends: the reply is awaited before
    // the next line is read, so at most one line is ever in flight.
    private static void exchangeLines(BufferedReader typed, PrintWriter toServer,
            BufferedReader fromServer) throws IOException {
        for (String line = typed.readLine(); line != null; line = typed.readLine()) {
            toServer.println(line); // autoflush: the line leaves now
            String reply = fromServer.readLine(); // null once the server has closed
            System.out.println("echo: " + reply);
        }
    }

    private static void fail(String what, Exception e) {
        System.err.println(NAME + ": " + what + ": " + e.getMessage());
        System.exit(1);
    }
}
