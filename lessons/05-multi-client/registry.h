/* registry.h - the live connections of a thread-per-client server, behind one mutex.
 *
 * This is the only state the threads share. The accept loop adds a connection before it
 * starts the connection's thread; the thread takes itself out when it is done, and a reaper
 * thread joins it at once, as a forking server's SIGCHLD handler reaps each child. On a stop,
 * the accept loop shuts down every live socket, which wakes each thread blocked in read or
 * write, and the reaper joins them all before it ends itself.
 *
 * Why a registry at all, when the threads share nothing else: to count clients (for
 * --max-clients), to reach a thread blocked in read() (the stop signals are blocked in every
 * client thread; shutdown() wakes it, see mt_server.c), and to join every thread, so that
 * nothing outlives main.
 */
#ifndef MT_REGISTRY_H
#define MT_REGISTRY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "net.h"

/* One client: its socket, its thread, its name for the log. */
struct conn {
    struct conn *prev, *next; /* in the live list, then in the done list */
    pthread_t thread;         /* set by the thread itself (see client_thread) */
    int fd;
    char peer[NET_ENDPOINT_LEN];
    void *server;    /* what the thread needs besides fd (the skeleton's struct) */
    bool slot_freed; /* registry_free_slot: no longer counted against max */
};

struct registry {
    pthread_mutex_t lock;
    pthread_cond_t finished; /* for the reaper: a thread is done, or a stop began */
    pthread_t reaper;        /* joins the threads of the done list */
    struct conn *live;       /* threads running; their sockets are open */
    struct conn *done;       /* threads that have ended (or are ending): to join */
    size_t count;            /* conversations under way: live connections not yet
                              * slot_freed (one lingering after its conversation no
                              * longer counts); --max-clients bounds it */
    size_t max;              /* the most conversations allowed at once */
    size_t threads;          /* threads started that have not yet called registry_done:
                              * after registry_leave a thread is in neither list while it
                              * closes and logs, and a stop must still wait for it */
    bool stopping;           /* registry_stop has begun */
};

/* registry_init - an empty registry allowing max conversations at once, and its reaper
 * thread (started now: call it after sig_setup_stop, so the reaper blocks the stop signals
 * too). Returns 0, or -1 with errno set. */
int registry_init(struct registry *reg, size_t max);

/* registry_destroy - release the mutex and condition, after registry_stop. */
void registry_destroy(struct registry *reg);

/* registry_add - count c as live, unless max conversations are under way already. Returns 0,
 * or -1 when the server is full. */
int registry_add(struct registry *reg, struct conn *c);

/* registry_free_slot - c's conversation is over but its socket is still open (it is about to
 * linger, see net_linger): its slot is free for the next client, and a stop still reaches it.
 * Returns true when a stop has begun: the socket is shut down already, nobody to linger for. */
bool registry_free_slot(struct registry *reg, struct conn *c);

/* registry_leave - c's conversation is over (called by its thread): c is no longer live,
 * so no one will shut down c->fd and the thread may close it; its slot is free for the next
 * client. The thread must still call registry_done. */
void registry_leave(struct registry *reg, struct conn *c);

/* registry_abandon - c's thread could not be started (called by the accept loop): forget c
 * as registry_leave and registry_done together would; its owner closes and frees it. */
void registry_abandon(struct registry *reg, struct conn *c);

/* registry_done - called by c's own thread as its last act: the reaper may now join it and
 * free c. */
void registry_done(struct registry *reg, struct conn *c);

/* registry_stop - shut down every live socket (waking the threads blocked on them), then wait
 * until the reaper has joined and freed every thread, and join the reaper. */
void registry_stop(struct registry *reg);

#endif
