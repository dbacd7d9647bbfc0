/* registry.h - the live connections of a thread-per-client server, behind one mutex.
 *
 * This is the only state the threads share. The accept loop adds a connection before it
 * starts the connection's thread; the thread takes itself out when it is done, and the
 * accept loop joins it later. On a stop, the accept loop shuts down every live socket,
 * which wakes each thread blocked in read or write, and joins them all.
 *
 * Why a registry at all, when the threads share nothing else: to count clients (for
 * --max-clients), to reach a thread blocked in read() (a signal cannot: it is blocked in
 * every client thread), and to join every thread so nothing outlives main.
 */
#ifndef MT_REGISTRY_H
#define MT_REGISTRY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "net.h"

struct registry;

/* One client: its socket, its thread, its name for the log. */
struct conn {
    struct conn *prev, *next; /* in the live list, then in the done list */
    pthread_t thread;
    int fd;
    char peer[NET_ENDPOINT_LEN];
    void *server;    /* what the thread needs besides fd (the skeleton's struct) */
    bool slot_freed; /* registry_free_slot: no longer counted against max */
};

struct registry {
    pthread_mutex_t lock;
    pthread_cond_t finished; /* a thread moved itself to the done list */
    struct conn *live;       /* threads running; their sockets are open */
    struct conn *done;       /* threads that have ended (or are ending): to join */
    size_t count;            /* live connections holding a slot (not yet slot_freed) */
    size_t max;              /* the most live connections allowed */
    size_t threads;          /* threads started that have not yet called registry_done:
                              * after registry_leave a thread is in neither list while it
                              * closes and logs, and a stop must still wait for it */
};

/* registry_init - an empty registry allowing max live connections. Returns 0, or -1 with
 * errno set. */
int registry_init(struct registry *reg, size_t max);

/* registry_destroy - release the mutex and condition; the lists must be empty. */
void registry_destroy(struct registry *reg);

/* registry_add - count c as live, unless max connections are live already. Returns 0, or -1
 * when the server is full. */
int registry_add(struct registry *reg, struct conn *c);

/* registry_free_slot - c's conversation is over but its socket is still open (it lingers,
 * see net_linger): its slot is free for the next client, and a stop still reaches it. */
void registry_free_slot(struct registry *reg, struct conn *c);

/* registry_leave - c's conversation is over (called by its thread): c is no longer live,
 * so no one will shut down c->fd and the thread may close it; its slot is free for the next
 * client. The thread must still call registry_done. */
void registry_leave(struct registry *reg, struct conn *c);

/* registry_abandon - c's thread could not be started (called by the accept loop): forget c
 * as registry_leave and registry_done together would; its owner closes and frees it. */
void registry_abandon(struct registry *reg, struct conn *c);

/* registry_done - called by c's own thread as its last act: c may now be joined and freed. */
void registry_done(struct registry *reg, struct conn *c);

/* registry_reap - join and free every thread that is done, without waiting for others. */
void registry_reap(struct registry *reg);

/* registry_stop - shut down every live socket (waking the threads blocked on them), then
 * wait for every thread, join it and free it. */
void registry_stop(struct registry *reg);

#endif
