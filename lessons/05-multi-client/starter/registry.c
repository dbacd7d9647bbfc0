/* registry.c - live connections: add, leave, reap as they end, and stop them all: YOUR TURN.
 *
 * The starter of lesson 05, after mt_server.c's TODO(5). What stays is the kit's: the two
 * lists and their lock, and what a client thread calls as it ends (registry_free_slot,
 * registry_leave, registry_done). registry.h says what each function promises. Yours:
 * counting and refusing clients (TODO 6), the reaper that joins each thread as it ends
 * (TODO 7), and the stop (TODO 8). As shipped, every client is taken, no thread is ever
 * joined, and a stop waits for nobody.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "diag.h"
#include "registry.h"

/* ---- the lists (the caller holds the lock) ------------------------------------- */

static void push(struct conn **head, struct conn *c)
{
    c->prev = NULL;
    c->next = *head;
    if (*head != NULL)
        (*head)->prev = c;
    *head = c;
}

static void unlink_conn(struct conn **head, struct conn *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        *head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* pthread functions return the error instead of setting errno; one that fails here means
 * memory corruption or a logic error, so the program stops rather than guess. */
static void check(int rc, const char *what)
{
    if (rc != 0) {
        errno = rc;
        die("%s:", what);
    }
}

static void lock(struct registry *reg)
{
    check(pthread_mutex_lock(&reg->lock), "pthread_mutex_lock");
}

static void unlock(struct registry *reg)
{
    check(pthread_mutex_unlock(&reg->lock), "pthread_mutex_unlock");
}

/* ---- the registry --------------------------------------------------------------- */

int registry_init(struct registry *reg, size_t max)
{
    int rc;

    *reg = (struct registry){.max = max};
    rc = pthread_mutex_init(&reg->lock, NULL);
    if (rc != 0)
        goto fail;
    rc = pthread_cond_init(&reg->finished, NULL);
    if (rc != 0)
        goto fail_mutex;
    /* TODO(7): the reaper. Start it here: rc = pthread_create(&reg->reaper, NULL,
     * reap_threads, reg), and on failure destroy the condition and the mutex (in that order)
     * and return -1 with errno = rc. Write reap_threads(void *arg) above this function: under
     * the lock, in a loop, take the whole done list (registry_done puts each ending thread's
     * conn there and signals reg->finished); if it is empty, return once reg->stopping is set
     * and reg->threads is 0, else pthread_cond_wait(&reg->finished, &reg->lock) and look
     * again; if not, set reg->done to NULL, unlock, pthread_join() each conn's thread and
     * free() the conn, then lock again. An ended thread that nobody joins keeps its stack
     * mapped. Until TODO 8 is written too, a stop hangs: registry_destroy() cannot destroy
     * the condition while the reaper still waits on it for a stop it is never told of.
     * README: "What the threads share, and how they stop". Checked by: stage 11. */
    return 0;
fail_mutex:
    pthread_mutex_destroy(&reg->lock);
fail:
    errno = rc;
    return -1;
}

void registry_destroy(struct registry *reg)
{
    pthread_cond_destroy(&reg->finished);
    pthread_mutex_destroy(&reg->lock);
}

int registry_add(struct registry *reg, struct conn *c)
{
    /* TODO(6): under the lock (lock(reg), unlock(reg)): when reg->count conversations are
     * under way already, reg->max of them, return -1 (the caller turns the client away);
     * otherwise push c onto the live list (push(&reg->live, c)), count it (reg->count++) and
     * its thread about to start (reg->threads++), and return 0. The lock: every client thread
     * changes these too, as it ends. README: "A cap: --max-clients". Checked by: stage 13. */
    (void)reg;
    (void)c;
    return 0; /* for now every client is taken */
}

/* The caller holds the lock. */
static void free_slot(struct registry *reg, struct conn *c)
{
    if (!c->slot_freed)
        reg->count--;
    c->slot_freed = true;
}

bool registry_free_slot(struct registry *reg, struct conn *c)
{
    bool stopping;

    lock(reg);
    free_slot(reg, c);
    stopping = reg->stopping;
    unlock(reg);
    return stopping;
}

void registry_leave(struct registry *reg, struct conn *c)
{
    lock(reg);
    unlink_conn(&reg->live, c);
    free_slot(reg, c);
    unlock(reg);
}

void registry_abandon(struct registry *reg, struct conn *c)
{
    lock(reg);
    unlink_conn(&reg->live, c);
    free_slot(reg, c);
    reg->threads--;
    unlock(reg);
}

void registry_done(struct registry *reg, struct conn *c)
{
    lock(reg);
    push(&reg->done, c);
    reg->threads--;
    check(pthread_cond_signal(&reg->finished), "pthread_cond_signal");
    unlock(reg);
}

/* ---- the stop ------------------------------------------------------------------ */

void registry_stop(struct registry *reg)
{
    /* TODO(8): under the lock: set reg->stopping, and shutdown(fd, SHUT_RDWR) every socket
     * still on the live list (a thread blocked in read() then sees EOF, one in write() gets
     * EPIPE; unlike close(), shutdown() leaves the descriptor to its thread, which closes it
     * itself); signal reg->finished (the reaper may have nothing left to wait for); unlock,
     * then pthread_join() the reaper, which ends once it has joined every client thread.
     * Only then may main free what the threads use, and exit.
     * README: "How the threads stop: the pipe, and shutdown()". Checked by: stage 12. */
    (void)reg; /* for now nobody is waited for: main returns while the threads still run */
}
