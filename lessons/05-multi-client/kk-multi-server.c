/* kk-multi-server - the tutorial's KKMultiServer: Knock Knock jokes, a thread per client.
 *
 * Lesson 04's conversation (kk_session.c, unchanged) run by the thread-per-client
 * skeleton (mt_server.c): each client has its own thread and its own struct kk_protocol
 * on that thread's stack, so a slow client delays no one.
 */
#include "kk_session.h"
#include "mt_server.h"

int main(int argc, char **argv)
{
    static const struct mt_service knock_knock = {
        .serve = kk_session_run,
        .report = kk_session_report,
    };

    return mt_server_main(argc, argv, &knock_knock);
}
