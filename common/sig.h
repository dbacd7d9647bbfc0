/* sig.h - stopping cleanly on SIGINT/SIGTERM, without races.
 *
 * The race. A server that must close everything on SIGTERM cannot just let the signal
 * handler set a flag and check that flag before each blocking call. The signal may land
 * after the check and before the call: the server then goes to sleep in poll() with the
 * flag already set, and sleeps until the next client comes, or for ever.
 *
 * The kit closes that gap in two steps.
 *
 * 1. SIGINT and SIGTERM are blocked, except while the program waits. sig_setup_stop()
 *    blocks them; a stop signal that arrives meanwhile stays pending in the kernel. Only
 *    sig_wait_fd() unblocks them, for the time of its poll(). So the handler never runs
 *    in the middle of other work (no surprise EINTR from a read, a printf or a pthread
 *    call): a stop arrives only where the program is ready for it.
 *
 * 2. The handler sets the flag and also writes one byte into a pipe, the "self-pipe",
 *    which sig_wait_fd() polls beside the caller's descriptor. Unblocking and calling
 *    poll() are two steps, and the signal may be handled between them; but then its byte
 *    is already in the pipe, so poll() returns at once instead of sleeping. Nobody reads
 *    that byte: the pipe stays readable, so every later wait returns at once as well.
 *
 * Threads. Threads started after sig_setup_stop() inherit the blocked signals and never
 * run the handler: the kernel keeps SIGINT/SIGTERM for the thread that called it, while
 * that thread waits. The other threads poll the same pipe, so a stop still wakes every
 * thread waiting in sig_wait_fd() (lesson 05's client threads), and each returns EINTR.
 *
 * Why not ppoll() or pselect()? They unblock and wait in one system call, which makes the
 * pipe unnecessary. ppoll() is Linux's own, though, and pselect() cannot watch a
 * descriptor numbered 1024 (FD_SETSIZE) or more, which a threaded server soon has. The
 * self-pipe works with plain poll(), on Linux, macOS and the BSDs alike.
 *
 * After fork() the child gets a pipe of its own, so a stop of one process never wakes the
 * other. exit() closes the pipe (atexit), so that valgrind finds no descriptor left open;
 * a child that ends with _exit() leaves that to the kernel. Every blocking wait in common/
 * goes through sig_wait_fd(): net_accept, net_connect, io_read_some, io_write_all,
 * io_read_line and net_linger.
 */
#ifndef KIT_SIG_H
#define KIT_SIG_H

#include <stdbool.h>

/* sig_setup_stop - ignore SIGPIPE; make SIGINT/SIGTERM set the stop flag and wake every
 * sig_wait_fd(); keep them blocked in this thread except inside its sig_wait_fd(). Threads
 * created afterwards inherit the block and never run the handler. Returns 0, or -1 with
 * errno set. */
int sig_setup_stop(void);

/* sig_stop_requested - true once SIGINT or SIGTERM has arrived. */
bool sig_stop_requested(void);

/* sig_wait_fd - wait until fd is ready for events (POLLIN/POLLOUT) or timeout_ms passes
 * (-1: forever; fd -1: just a stop-aware pause). Returns 1 ready, 0 timed out, -1 with
 * errno EINTR when a stop was requested (or another errno from poll). */
int sig_wait_fd(int fd, short events, int timeout_ms);

#endif
