/* sig.h - stopping cleanly on SIGINT/SIGTERM, without races.
 *
 * A server that must close everything on SIGTERM cannot just check a flag
 * before each blocking call: the signal may land between the check and the
 * call, and the server would sleep forever. So the stop signals stay blocked
 * except inside sig_wait_fd(), which waits with ppoll() and lets them in only
 * while it sleeps. Every blocking wait in common/ goes through sig_wait_fd().
 */
#ifndef KIT_SIG_H
#define KIT_SIG_H

#include <stdbool.h>

/* sig_setup_stop - ignore SIGPIPE; make SIGINT/SIGTERM set the stop flag, blocked except in
 * sig_wait_fd() in this thread. Threads created afterwards inherit the block and never see
 * them. Returns 0, or -1 with errno set. */
int sig_setup_stop(void);

/* sig_stop_requested - true once SIGINT or SIGTERM has arrived. */
bool sig_stop_requested(void);

/* sig_wait_fd - wait until fd is ready for events (POLLIN/POLLOUT) or timeout_ms passes
 * (-1: forever). Returns 1 ready, 0 timed out, -1 with errno EINTR when a stop was requested
 * (or another errno from ppoll). */
int sig_wait_fd(int fd, short events, int timeout_ms);

#endif
