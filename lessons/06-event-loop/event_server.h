/* event_server.h - the main() both event-loop servers share: options, listen, run.
 *
 * echo-event-server and kk-event-server differ only in their handlers (event_loop.h);
 * everything else, from the command line to the exit status, is this one function.
 */
#ifndef EL_EVENT_SERVER_H
#define EL_EVENT_SERVER_H

#include "event_loop.h"

/* event_server_main - parse the command line, listen, print "listening on ADDR:PORT" and
 * serve with handlers until SIGINT/SIGTERM. Returns the exit status (0); exits 2 on bad
 * usage and 1 on a run-time failure, with one line on stderr. */
int event_server_main(int argc, char **argv, const struct ev_handlers *handlers);

/* event_server_run - what event_server_main does once the command line is read, for a
 * server with options of its own (lesson 08): listen on addr:port, print "listening on
 * ADDR:PORT" and serve until SIGINT/SIGTERM. Returns 0; exits 1 with one line on stderr
 * on a run-time failure. Call diag_set_progname() first. */
int event_server_run(const char *addr, const char *port, const struct ev_handlers *handlers,
                     const struct ev_options *loop_opt);

#endif
