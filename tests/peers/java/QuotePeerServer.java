// QuotePeerServer.java - one of the kit's Java peers (not the tutorial's code): it behaves as
// the tutorial's QuoteServer does ("All About Datagrams"): a DatagramSocket that answers
// each datagram, whatever it holds, with one DatagramPacket, the next line of a file, sent
// back to the request's address and port. When the file runs out it answers "No more
// quotes. Goodbye." and ends; with no file it answers the date, for ever, as the tutorial's
// does when its one-liners.txt is missing.
//
// usage: java QuotePeerServer PORT [FILE]
//
// It binds the loopback address only (a test peer has no business on the network), and
// prints nothing when it is ready, as the tutorial's server: a test waits for the bound
// UDP port with ss.

import java.io.BufferedReader;
import java.io.FileReader;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Date;

public class QuotePeerServer {
    private static final int BUFFER_SIZE = 256;

    public static void main(String[] args) throws IOException {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: java QuotePeerServer PORT [FILE]");
            System.exit(2);
        }
        InetSocketAddress where =
            new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(args[0]));
        try (DatagramSocket socket = new DatagramSocket(where);
             BufferedReader quotes = args.length == 2
                 ? new BufferedReader(new FileReader(args[1], StandardCharsets.UTF_8))
                 : null) {
            boolean more = true;
            while (more) {
                byte[] buffer = new byte[BUFFER_SIZE];
                DatagramPacket request = new DatagramPacket(buffer, buffer.length);
                socket.receive(request);

                String answer;
                if (quotes == null) {
                    answer = new Date().toString();
                } else {
                    answer = quotes.readLine();
                    if (answer == null) {
                        answer = "No more quotes. Goodbye.";
                        more = false;
                    }
                }
                byte[] reply = answer.getBytes(StandardCharsets.UTF_8);
                socket.send(new DatagramPacket(reply, reply.length, request.getAddress(),
                                               request.getPort()));
            }
        }
    }
}
