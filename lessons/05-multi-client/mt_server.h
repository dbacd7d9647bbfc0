/* mt_server.h - a thread-per-client TCP server, written once for every service.
 *
 * The tutorial's KKMultiServer in C: the main thread only accepts; each client gets its
 * own POSIX thread running the service's serve() on a blocking socket, with its own state
 * on its own stack. kk-multi-server and echo-multi-server are this skeleton plus one
 * handler each.
 */
#ifndef MT_SERVER_H
#define MT_SERVER_H

/* What a server does with one connection. */
struct mt_service {
    /* serve - hold one conversation on the connected, blocking socket fd (the skeleton
     * owns fd and closes it). Runs in the connection's own thread; must not touch shared
     * state. Returns 0, or -1 with errno set. */
    int (*serve)(int fd);
    /* report - say on stderr why serve() failed for peer ("127.0.0.1:54321"), given its
     * errno err; may say nothing (a client that left early is no news). */
    void (*report)(const char *peer, int err);
};

/* mt_server_main - the whole program: parse [-b ADDR] [--max-clients N] [-q] PORT (multi.h),
 * listen, serve every client in its own thread until SIGINT or SIGTERM, then stop every
 * thread. Returns the exit status (exits itself on bad usage or a failure to listen). */
int mt_server_main(int argc, char **argv, const struct mt_service *service);

#endif
