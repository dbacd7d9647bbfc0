/* slow-close.so - an LD_PRELOAD shim for one test: close() of a socket, called from any
 * thread but the main one, waits 500 ms first.
 *
 * It widens a window a thread-per-client server has after a client thread leaves the
 * registry and before it has closed its socket and logged "closed": a stop arriving
 * there must still wait for that thread (tests/05-multi-client-echo.bats). Without the shim
 * the window is a few microseconds wide and a test could not land in it reliably.
 */
#define _GNU_SOURCE /* RTLD_NEXT, gettid */
#include <dlfcn.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { DELAY_MS = 500 };

int close(int fd)
{
    static int (*real_close)(int);
    struct stat st;

    if (real_close == NULL)
        *(void **)&real_close = dlsym(RTLD_NEXT, "close"); /* POSIX's way to get a function */
    if (gettid() != getpid() && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)) {
        struct timespec delay = {.tv_sec = 0, .tv_nsec = DELAY_MS * 1000000L};
        nanosleep(&delay, NULL);
    }
    return real_close(fd);
}
