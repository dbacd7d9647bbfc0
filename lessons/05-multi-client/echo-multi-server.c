/* echo-multi-server - lesson 03's echo server with a thread per client.
 *
 * The same skeleton as kk-multi-server (mt_server.c); only the handler differs: every
 * byte a client sends comes back, line or not, until the client closes its side.
 */
#include <errno.h>
#include <string.h>
#include <sys/types.h>

#include "diag.h"
#include "io.h"
#include "mt_server.h"

/* Bytes moved per read. On the thread's stack, which is small (mt_server.c): 16 KiB is
 * a few loopback segments, enough to keep system calls few without costing memory. */
enum { ECHO_BUF_SIZE = 16 * 1024 };

/* Send back everything fd sends, until EOF. Each write finishes before the next read, so
 * nothing is pending at EOF. Returns 0 at EOF, or -1 with errno set. */
static int echo_serve(int fd)
{
    char buf[ECHO_BUF_SIZE];

    for (;;) {
        ssize_t n = io_read_some(fd, buf, sizeof buf);
        if (n <= 0)
            return (int)n;
        if (io_write_all(fd, buf, (size_t)n) < 0)
            return -1;
    }
}

/* A client that vanished (reset, or gone while we wrote) or a stop is no news. */
static void echo_report(const char *peer, int err)
{
    if (err != ECONNRESET && err != EPIPE && err != EINTR)
        diag_warn("%s: %s", peer, strerror(err));
}

int main(int argc, char **argv)
{
    static const struct mt_service echo = {
        .serve = echo_serve,
        .report = echo_report,
    };

    return mt_server_main(argc, argv, &echo);
}
