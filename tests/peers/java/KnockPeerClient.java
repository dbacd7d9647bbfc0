// KnockPeerClient: the kit's Java Knock Knock client, a test peer for the C servers.
//
// Written for the kit, to behave as the Java tutorial's KnockKnockClient does
// (https://docs.oracle.com/javase/tutorial/networking/sockets/clientServer.html), with
// the same classes: Socket, PrintWriter, BufferedReader. The server speaks first, so the
// client reads first: it prints each server line as "Server: LINE", stops after "Bye.",
// and otherwise reads one line from standard input, prints it as "Client: LINE" and
// sends it. Where the tutorial's client would wait forever once standard input has ended,
// this one half-closes (shutdownOutput) and prints what the server still says, so a
// test can never hang on it.
//
// usage: java KnockPeerClient HOST PORT

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;

public final class KnockPeerClient {
    private static final String NAME = "KnockPeerClient";

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
            converse(server, fromServer, toServer, typed);
        } catch (UnknownHostException e) {
            fail("cannot resolve " + host, e);
        } catch (IOException e) {
            fail("cannot talk to " + host + " port " + port, e);
        }
    }

    private static void converse(Socket server, BufferedReader fromServer,
            PrintWriter toServer, BufferedReader typed) throws IOException {
        boolean typing = true;
        for (String said = fromServer.readLine(); said != null; said = fromServer.readLine()) {
            System.out.println("Server: " + said);
            if (said.equals(KnockPeerProtocol.BYE))
                return;
            if (!typing)
                continue;
            String line = typed.readLine();
            if (line == null) {
                typing = false;
                server.shutdownOutput(); // the server reads end of stream
                continue;
            }
            System.out.println("Client: " + line);
            toServer.println(line);
        }
    }

    private static void fail(String what, Exception e) {
        System.err.println(NAME + ": " + what + ": " + e.getMessage());
        System.exit(1);
    }
}
