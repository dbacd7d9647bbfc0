// QuotePeerClient.java - one of the kit's Java peers (not the tutorial's code): it behaves as
// the tutorial's QuoteClient does ("All About Datagrams"): one DatagramSocket, a request of
// 256 zero bytes, a reply read into a 256-byte DatagramPacket and printed as
// "Quote of the Moment: ...".
//
// usage: java QuotePeerClient HOST PORT
//
// Like the tutorial's, it reads the reply into 256 bytes: a longer datagram is cut to 256
// bytes without a word (DatagramPacket.getLength() says 256). Unlike the tutorial's, it
// gives up after 5 seconds (setSoTimeout) instead of waiting for ever, so a test never hangs.

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

public class QuotePeerClient {
    private static final int BUFFER_SIZE = 256;
    private static final int TIMEOUT_MS = 5000;

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: java QuotePeerClient HOST PORT");
            System.exit(2);
        }
        InetAddress server = InetAddress.getByName(args[0]);
        int port = Integer.parseInt(args[1]);
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout(TIMEOUT_MS);
            byte[] request = new byte[BUFFER_SIZE];
            socket.send(new DatagramPacket(request, request.length, server, port));

            byte[] buffer = new byte[BUFFER_SIZE];
            DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
            socket.receive(reply);
            String quote = new String(reply.getData(), 0, reply.getLength(), StandardCharsets.UTF_8);
            System.out.println("Quote of the Moment: " + quote);
        } catch (SocketTimeoutException e) {
            System.err.println("QuotePeerClient: no reply in " + TIMEOUT_MS + " ms");
            System.exit(1);
        }
    }
}
