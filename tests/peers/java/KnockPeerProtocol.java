// KnockPeerProtocol: the Knock Knock conversation as the kit's Java peers speak it.
//
// Written for the kit, to answer exactly as the Java tutorial's KnockKnockProtocol does
// (https://docs.oracle.com/javase/tutorial/networking/sockets/clientServer.html): the same
// five jokes, the same texts byte for byte (they are what a client has to interoperate
// with), the same case-insensitive matching (String.equalsIgnoreCase). It does no I/O:
// a server asks it for the greeting, then hands it each client line and sends back the
// answer. Lesson 04's README lays out the states and the texts.

final class KnockPeerProtocol {
    static final String KNOCK = "Knock! Knock!";
    static final String BYE = "Bye.";

    private static final String WHOS_THERE = "Who's there?";
    private static final String TRY_AGAIN = "! Try again. " + KNOCK;
    private static final String ANOTHER = " Want another? (y/n)";

    // Each joke: the clue the server gives, then the punch line.
    private static final String[][] JOKES = {
        {"Turnip", "Turnip the heat, it's cold in here!"},
        {"Little Old Lady", "I didn't know you could yodel!"},
        {"Atch", "Bless you!"},
        {"Who", "Is there an owl in here?"},
        {"Who", "Is there an echo in here?"},
    };

    // Where the conversation stands: what the server said last.
    private enum Said { NOTHING, KNOCK, CLUE, PUNCH_LINE }

    private Said said = Said.NOTHING;
    private int joke = 0; // the joke being told; the one after the last is the first

    // The server's opening line.
    String greeting() {
        said = Said.KNOCK;
        return KNOCK;
    }

    // The server's answer to one client line. After "Bye." the conversation starts over:
    // whatever comes next is answered with a new greeting.
    String answer(String line) {
        switch (said) {
        case KNOCK:
            return afterKnock(line);
        case CLUE:
            return afterClue(line);
        case PUNCH_LINE:
            return afterPunchLine(line);
        default:
            return greeting();
        }
    }

    private String afterKnock(String line) {
        if (!line.equalsIgnoreCase(WHOS_THERE))
            return reprimand(WHOS_THERE);
        said = Said.CLUE;
        return clue();
    }

    private String afterClue(String line) {
        String expected = clue() + " who?";
        said = Said.KNOCK; // a wrong answer starts the same joke again
        if (!line.equalsIgnoreCase(expected))
            return reprimand(expected);
        said = Said.PUNCH_LINE;
        return JOKES[joke][1] + ANOTHER;
    }

    private String afterPunchLine(String line) {
        if (!line.equalsIgnoreCase("y")) {
            said = Said.NOTHING;
            return BYE;
        }
        joke = (joke + 1) % JOKES.length;
        said = Said.KNOCK;
        return KNOCK;
    }

    private String clue() {
        return JOKES[joke][0];
    }

    private static String reprimand(String expected) {
        return "You're supposed to say \"" + expected + "\"" + TRY_AGAIN;
    }
}
