/* echo-event-server - the echo server of lesson 03, for thousands of clients at once.
 *
 * One thread, one epoll loop (event_loop.c): every byte a client sends comes back to it.
 * The echo needs no state at all; all it must respect is the loop's bound on output,
 * which is why it declares that one input byte makes one output byte (out_per_in).
 */
#include <stddef.h>

#include "event_loop.h"
#include "event_server.h"

/* Bytes came: send them back. The loop read no more than the output buffer can hold. */
static int echo_on_data(struct ev_conn *conn, const char *data, size_t len)
{
    return ev_send(conn, data, len);
}

static const struct ev_handlers echo_handlers = {
    .state_size = 0,
    .out_per_in = 1,
    .busy_text = "Server busy, try again later.\n", /* as echo-multi-server says it */
    .on_data = echo_on_data,
};

int main(int argc, char **argv)
{
    return event_server_main(argc, argv, &echo_handlers);
}
