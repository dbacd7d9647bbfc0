/* echo.c - every byte back, until EOF. */
#include <errno.h>
#include <string.h>
#include <sys/types.h>

#include "diag.h"
#include "echo.h"
#include "io.h"

/* Bytes moved per read. On a thread's stack, which is small (mt_server.c): 16 KiB is a few
 * loopback segments, enough to keep system calls few without costing memory. */
enum { ECHO_BUF_SIZE = 16 * 1024 };

/* Each write finishes before the next read, so nothing is pending at EOF. */
int echo_serve(int fd)
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

void echo_report(const char *peer, int err)
{
    if (err != ECONNRESET && err != EPIPE && err != EINTR)
        diag_warn("%s: %s", peer, strerror(err));
}
