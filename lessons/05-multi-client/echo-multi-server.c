/* echo-multi-server - lesson 03's echo server with a thread per client.
 *
 * The same skeleton as kk-multi-server (mt_server.c); only the handler differs: every
 * byte a client sends comes back, line or not, until the client closes its side (echo.c,
 * which echo-fork-server runs in a process per client instead).
 */
#include "echo.h"
#include "mt_server.h"

int main(int argc, char **argv)
{
    static const struct mt_service echo = {
        .serve = echo_serve,
        .report = echo_report,
    };

    return mt_server_main(argc, argv, &echo);
}
