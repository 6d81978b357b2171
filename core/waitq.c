/*
 * waitq.c - wait records: the queues blocked goroutines (and foreign threads) wait on, the
 * one-CAS claim that decides who completes a blocked operation, and the queue lock.
 * Design: docs/DESIGN.md "Channels" (wait queues) and "Threads the runtime did not create".
 *
 * The claim protocol (see core.h): sel->state starts SEL_WAITING; the first CAS to anything
 * else wins, and only the winner may write into the waiter's elem/result and wake it. A
 * record whose sel was already claimed through another channel is "stale": whoever meets it
 * in a queue drops it; its owner unlinks what is left when it wakes. Because the owner stays
 * parked until the winner wakes it, the records on its stack outlive every access to them.
 */
#include <errno.h>
#include <sched.h>

#include "core/core.h"
#include "io/io.h"
#include "sched/sched.h"

void rilli_lock_slow(rilli_lock *l)
{
    for (unsigned spins = 0;; spins++) {
        /* relaxed: test before the test-and-set, to keep the line shared while it is held */
        while (rill_load_relaxed(&l->v)) {
            if (spins++ < 64)
                rill_cpu_relax();
            else
                sched_yield(); /* the holder may have been preempted */
        }
        /* acq: pairs with the rel store in rilli_lock_release() */
        if (rill_xchg_acqrel(&l->v, 1) == 0)
            return;
    }
}

void rilli_waitq_push(struct rilli_waitq *q, struct rilli_waiter *w)
{
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail)
        q->tail->next = w;
    else
        rill_store_relaxed(&q->head, w); /* relaxed: peeked without the lock (chan.c) */
    q->tail = w;
    w->queued = 1;
}

int rilli_sel_claim(struct rilli_sel *sel, int state)
{
    int w = SEL_WAITING;
    /* acq_rel: the winner's later writes to elem/result happen after, and the waiter's
     * acquire of its wake (run-queue pop or futex) sees them. */
    return rill_cas_acqrel(&sel->state, &w, state);
}

struct rilli_waiter *rilli_waitq_claim_scan(struct rilli_waitq *q, int state,
                                            const struct rilli_sel *self)
{
    struct rilli_waiter *w = q->head;
    while (w) {
        struct rilli_waiter *next = w->next;
        if (w->sel == self) { /* our own select's record: never pair with it, keep it */
            w = next;
            continue;
        }
        rilli_waitq_remove(q, w);
        int st = state == SEL_CLAIM_IDX ? w->idx : state;
        if (w->sel->solo) {
            /* relaxed: a solo record is claimable only under this queue's lock, which we
             * hold; the owner reads state after its wake, which orders it (ready/futex). */
            rill_store_relaxed(&w->sel->state, st);
            return w;
        }
        if (rilli_sel_claim(w->sel, st))
            return w;
        w = next; /* stale: claimed through another channel; dropped */
    }
    return NULL;
}

struct rilli_waiter *rilli_waitq_claim_all(struct rilli_waitq *q, struct rilli_waiter *list)
{
    struct rilli_waiter *w;
    while ((w = rilli_waitq_claim(q, SEL_RETRY, NULL))) {
        w->next = list;
        list = w;
    }
    return list;
}

void rilli_waitq_wake_all(struct rilli_waiter *list)
{
    while (list) {
        struct rilli_waiter *next = list->next; /* read before its owner may run and return */
        rilli_sel_wake(list->sel);
        list = next;
    }
}

void rilli_sel_wake_thread(struct rilli_sel *sel)
{
    /* rel: pairs with the acq load in rilli_sel_wait(); result/elem written before are seen */
    rill_store_rel(&sel->futex, 1);
    rilli_sys_futex_wake(&sel->futex, 1);
}

static struct rilli_g *sel_timeout_fire(struct rilli_timer *t)
{
    struct rilli_sel *sel = t->arg;
    return rilli_sel_claim(sel, SEL_TIMEOUT) ? sel->g : NULL;
}

static int sel_wait_thread(struct rilli_sel *sel, int64_t deadline)
{
    /* rel/acq: nforeign tells the deadlock check that a thread inside rill may still wake
     * a goroutine (deadlock.c loads it with acquire). */
    rill_faa_acqrel(&rilli_sched.nforeign, 1);
    for (;;) {
        /* acq: pairs with the rel store in rilli_sel_wake() */
        if (rill_load_acq(&sel->futex))
            break;
        int64_t timeout = -1;
        if (deadline != RILL_FOREVER) {
            timeout = deadline - rill_now();
            if (timeout <= 0) {
                if (rilli_sel_claim(sel, SEL_TIMEOUT))
                    break;
                timeout = -1; /* claimed by a partner: its wake is on the way */
            }
        }
        rilli_sys_futex_wait(&sel->futex, 0, timeout);
    }
    rill_faa_acqrel(&rilli_sched.nforeign, -1); /* acq_rel: as the increment above */
    return rill_load_acq(&sel->state); /* acq: pairs with the claim CAS */
}

int rilli_sel_wait(struct rilli_sel *sel, int64_t deadline, const char *reason, const void *obj)
{
    if (!sel->g)
        return sel_wait_thread(sel, deadline);
    if (deadline == RILL_FOREVER) /* no timer to set up (and zero) on this stack */
        return rilli_sel_park(sel, reason, obj);
    struct rilli_timer t = {.fn = sel_timeout_fire, .arg = sel};
    int armed = rilli_timer_add(&t, deadline) == 0; /* -ENOMEM: wait without the timer */
    rilli_park(reason, obj);
    if (armed)
        rilli_timer_del(&t);
    return rill_load_acq(&sel->state); /* acq: pairs with the claim CAS */
}
