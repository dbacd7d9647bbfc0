/* registry.c - live connections: add, leave, reap as they end, and stop them all. */
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

static void *reap_threads(void *arg);

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
    rc = pthread_create(&reg->reaper, NULL, reap_threads, reg);
    if (rc != 0)
        goto fail_cond;
    return 0;
fail_cond:
    pthread_cond_destroy(&reg->finished);
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
    int rc = -1;

    lock(reg);
    if (reg->count < reg->max) {
        push(&reg->live, c);
        reg->count++;
        reg->threads++; /* its thread is about to start */
        rc = 0;
    }
    unlock(reg);
    return rc;
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

/* ---- the reaper ------------------------------------------------------------------ */

/* Join and free every conn of a list taken out of the registry. No lock is held: each of
 * these threads has called registry_done already, so a join waits only for its return. */
static void join_all(struct conn *list)
{
    while (list != NULL) {
        struct conn *next = list->next;
        check(pthread_join(list->thread, NULL), "pthread_join");
        free(list);
        list = next;
    }
}

/* Join each client thread as soon as it is done: an ended thread that nobody joins keeps its
 * stack mapped, and the accept loop, asleep until the next client, cannot do it. Ends once a
 * stop has begun and every thread is joined; not "once the live list is empty": a thread
 * that has left it may still be closing its socket and logging, and is joined like others. */
static void *reap_threads(void *arg)
{
    struct registry *reg = arg;

    lock(reg);
    for (;;) {
        struct conn *done = reg->done;
        if (done == NULL) {
            if (reg->stopping && reg->threads == 0)
                break;
            check(pthread_cond_wait(&reg->finished, &reg->lock), "pthread_cond_wait");
            continue;
        }
        reg->done = NULL;
        unlock(reg);
        join_all(done);
        lock(reg);
    }
    unlock(reg);
    return NULL;
}

void registry_stop(struct registry *reg)
{
    lock(reg);
    reg->stopping = true;
    /* A thread blocked in read() sees EOF, one blocked in write() gets EPIPE. shutdown(),
     * unlike close(), leaves the descriptor to its thread, which closes it itself. */
    for (struct conn *c = reg->live; c != NULL; c = c->next)
        (void)shutdown(c->fd, SHUT_RDWR);
    check(pthread_cond_signal(&reg->finished), "pthread_cond_signal"); /* maybe none left */
    unlock(reg);
    check(pthread_join(reg->reaper, NULL), "pthread_join");
}
