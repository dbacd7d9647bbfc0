/* net-check - net_connect(), net_listen() and net_accept() seen from outside.
 *
 *   net-check connect HOST PORT   sig_setup_stop(), then net_connect(): prints "connected:
 *                                 blocking, close-on-exec", or net_connect's error line and
 *                                 exits 1 (after a SIGTERM: "...: Interrupted system call")
 *   net-check accept              net_listen() on 127.0.0.1 port 0, net_connect() to it,
 *                                 net_accept(): prints the same two flags of each socket
 *
 * The flags are what net.c sets with fcntl() now that it avoids Linux's SOCK_CLOEXEC and
 * accept4(): close-on-exec on every socket, and blocking mode back after a connect.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "net.h"
#include "sig.h"

static const char usage[] = "connect HOST PORT | accept";

/* Print "WHAT: blocking|non-blocking, close-on-exec|inherited on exec" for fd. */
static void print_flags(const char *what, int fd)
{
    int status = fcntl(fd, F_GETFL), fd_flags = fcntl(fd, F_GETFD);

    if (status < 0 || fd_flags < 0)
        die("fcntl:");
    printf("%s: %s, %s\n", what, status & O_NONBLOCK ? "non-blocking" : "blocking",
           fd_flags & FD_CLOEXEC ? "close-on-exec" : "inherited on exec");
}

static int check_connect(const char *host, const char *port)
{
    char err[NET_ERR_LEN];
    int fd;

    if (sig_setup_stop() < 0) /* what makes a blocking connect() deaf to SIGTERM */
        die("signals:");
    fd = net_connect(host, port, err, sizeof err);
    if (fd < 0) {
        diag_warn("%s", err);
        return EXIT_RUNTIME;
    }
    print_flags("connected", fd);
    close(fd);
    return 0;
}

static int check_accept(void)
{
    char err[NET_ERR_LEN];
    int listen_fd, client_fd = -1, server_fd = -1;

    listen_fd = net_listen("127.0.0.1", "0", 1, err, sizeof err);
    if (listen_fd >= 0) {
        char port[8];
        snprintf(port, sizeof port, "%u", (unsigned)net_local_port(listen_fd));
        client_fd = net_connect("127.0.0.1", port, err, sizeof err);
    }
    if (client_fd >= 0)
        server_fd = net_accept(listen_fd, NULL, err, sizeof err);
    if (server_fd >= 0) {
        print_flags("listening", listen_fd);
        print_flags("connected", client_fd);
        print_flags("accepted", server_fd);
        close(server_fd);
    } else {
        diag_warn("%s", err);
    }
    if (client_fd >= 0)
        close(client_fd);
    if (listen_fd >= 0)
        close(listen_fd);
    return server_fd >= 0 ? 0 : EXIT_RUNTIME;
}

int main(int argc, char **argv)
{
    diag_set_progname(argv[0]);
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        diag_print_usage(usage);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "connect") == 0)
        return check_connect(argv[2], argv[3]);
    if (argc == 2 && strcmp(argv[1], "accept") == 0)
        return check_accept();
    die_usage(usage);
}
