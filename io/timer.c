/*
 * timer.c - per-P timer heaps: rill_sleep, select deadlines, rill_after and rill_tick.
 * Design: docs/DESIGN.md "Timers".
 *
 * Each P owns a 4-ary min-heap of struct rilli_timer under a spinlock. A timer is added to
 * the P that runs the adding goroutine (P 0 for a thread without a P) and stays on that P.
 * Timers fire from the owner's schedule loop (every TIMER_TICK picks while it has any, in a
 * spawning loop after every spawn, and whenever it looks for work; sched.c),
 * and from any idle worker, which runs another P's due timers while it looks for work,
 * so a P stuck in a long-running goroutine does not hold its timers hostage while other
 * workers are free. An idle worker sleeps in its ring until the earliest timer of any P.
 *
 * Timer states: IDLE -> QUEUED (add, under lock) -> RUNNING (popped to fire, under lock) ->
 * IDLE (release store by the firer after fn returned) or QUEUED again (periodic, under lock).
 * rilli_timer_del() removes a QUEUED timer, or waits while it is RUNNING: after it returns
 * the firer no longer touches t, so t can be freed. For a one-shot timer the firer's last
 * access to t is that release store; the G that fn returns is readied only after it, which
 * is what lets t live on that G's stack (rill_sleep, select).
 *
 * Rejected: a timer wheel (O(1) add, but coarse and sized in advance; the heap's O(log n)
 * is small next to the switch a timer causes); one global heap (a contended lock on every
 * sleep).
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include "io/io.h"
#include "sched/sched.h"

/*
 * The heap is 4-ary and keeps each timer's deadline beside its pointer, so that sifting
 * compares entries in the array and touches a timer only to record its new index. Timers
 * live on their goroutines' stacks, a page apiece: a binary heap of bare pointers read two
 * of those pages per level, and with a thousand sleepers a removal cost a microsecond of
 * cache and TLB misses.
 */
#define HEAP_D 4

/*
 * A timer's idx is what lets rilli_timer_del() find it, and keeping it costs a write into the
 * timer for every level an entry moves, a cache miss apiece (each timer sits on its own
 * goroutine's stack). A sleep's timer is never deleted, so its entry is tagged FIXED and its
 * idx is left alone: firing 100,000 sleepers, each pop of the root cost ~235 ns, mostly those
 * misses, and the sleepers behind it waited out the backlog (median lateness 130-260 us at
 * one worker).
 */
#define TIMER_ENT_FIXED ((uintptr_t)1)

static inline struct rilli_timer *ent_timer(struct timer_ent e)
{
    return (struct rilli_timer *)(e.t & ~TIMER_ENT_FIXED);
}

static inline void heap_set(struct timer_heap *th, int i, struct timer_ent e)
{
    th->h[i] = e;
    if (!(e.t & TIMER_ENT_FIXED))
        ent_timer(e)->idx = i;
}

static void sift_up(struct timer_heap *th, int i)
{
    struct timer_ent e = th->h[i];
    while (i > 0) {
        int parent = (i - 1) / HEAP_D;
        if (th->h[parent].when <= e.when)
            break;
        heap_set(th, i, th->h[parent]);
        i = parent;
    }
    heap_set(th, i, e);
}

static void sift_down(struct timer_heap *th, int i)
{
    struct timer_ent e = th->h[i];
    for (;;) {
        int c = HEAP_D * i + 1, m = -1;
        int end = c + HEAP_D < th->n ? c + HEAP_D : th->n;
        int64_t mw = e.when;
        for (; c < end; c++)
            if (th->h[c].when < mw) {
                mw = th->h[c].when;
                m = c;
            }
        if (m < 0)
            break;
        heap_set(th, i, th->h[m]);
        i = m;
    }
    heap_set(th, i, e);
}

static void heap_update_when0(struct timer_heap *th)
{
    /* relaxed: read as a hint (rilli_timer_when0); the heap itself is under the lock. */
    rill_store_relaxed(&th->when0, th->n ? th->h[0].when : INT64_MAX);
}

static int heap_push(struct timer_heap *th, struct rilli_timer *t)
{
    if (th->n == th->cap) {
        int cap = th->cap ? th->cap * 2 : 64;
        struct timer_ent *h = realloc(th->h, (size_t)cap * sizeof(*h));
        if (!h)
            return -ENOMEM;
        th->h = h;
        th->cap = cap;
    }
    int i = th->n++;
    th->h[i] = (struct timer_ent){t->when, (uintptr_t)t | (t->fixed ? TIMER_ENT_FIXED : 0)};
    sift_up(th, i);
    heap_update_when0(th);
    return 0;
}

/* Remove the entry at index i. */
static void heap_remove_at(struct timer_heap *th, int i)
{
    int last = --th->n;
    if (i != last) {
        heap_set(th, i, th->h[last]);
        sift_down(th, i);
        sift_up(th, i);
    }
    heap_update_when0(th);
}

static void heap_remove(struct timer_heap *th, struct rilli_timer *t)
{
    rill_assert(!t->fixed); /* a fixed timer's idx is not kept */
    heap_remove_at(th, t->idx);
    t->idx = -1;
}

static int timer_add(struct rilli_timer *t, int64_t when, int fixed)
{
    struct rilli_p *p = rilli_cur_p();
    int foreign = p == NULL;
    if (foreign)
        p = rilli_sched.allp[0];
    struct timer_heap *th = &p->timers;
    rilli_lock_acquire(&th->lock);
    /* An absolute deadline of INT64_MAX (a select or I/O deadline "at the end of time") would
     * read as an empty heap in when0: keep it pending, as a saturated duration is. */
    t->when = when < RILLI_WHEN_MAX ? when : RILLI_WHEN_MAX;
    rill_store_relaxed(&t->p, p); /* relaxed: under the heap lock; see rilli_timer_del() */
    t->stopped = 0;
    t->fixed = fixed;
    int rc = heap_push(th, t);
    if (rc == 0)
        rill_store_relaxed(&t->state, TIMER_QUEUED); /* relaxed: under the heap lock */
    int first = rc == 0 && ent_timer(th->h[0]) == t;
    rilli_lock_release(&th->lock);
    /* A P that runs the adder is awake and sees the timer at its next pick; a sleeping P 0
     * must recompute its timeout. relaxed: a stale idle reading only delays the timer
     * until P 0's current sleep ends, never past it, since P 0 sleeps until its when0. */
    if (foreign && first && rill_load_relaxed(&p->idle))
        rilli_io_notify(&p->io, NULL);
    return rc;
}

int rilli_timer_add(struct rilli_timer *t, int64_t when)
{
    return timer_add(t, when, 0);
}

int rilli_timer_add_fixed(struct rilli_timer *t, int64_t when)
{
    return timer_add(t, when, 1);
}

int rilli_timer_del(struct rilli_timer *t)
{
    /* relaxed: set by add before t is published to anyone else; cleared by the firer of a
     * one-shot timer just before its last access to t (its release store of IDLE), and by
     * the end of the run. NULL: no heap to look in, but a firer may still be finishing. */
    struct rilli_p *p = rill_load_relaxed(&t->p);
    if (!p) {
        /* acq: pairs with the firer's rel store of IDLE: after it, fn(t) has returned */
        for (int spins = 0; rill_load_acq(&t->state) != TIMER_IDLE; spins++) {
            if (spins < 100)
                rill_cpu_relax();
            else
                sched_yield();
        }
        return 0;
    }
    struct timer_heap *th = &p->timers;
    rilli_lock_acquire(&th->lock);
    if (t->state == TIMER_QUEUED) {
        heap_remove(th, t);
        rill_store_relaxed(&t->state, TIMER_IDLE); /* relaxed: under the heap lock */
        rilli_lock_release(&th->lock);
        return 1;
    }
    t->stopped = 1; /* a periodic timer firing now is not queued again */
    rilli_lock_release(&th->lock);
    /* acq: pairs with the firer's rel store RUNNING -> IDLE; after it, fn(t) has returned. */
    for (int spins = 0; rill_load_acq(&t->state) == TIMER_RUNNING; spins++) {
        if (spins < 100)
            rill_cpu_relax();
        else
            sched_yield();
    }
    return 0;
}

int rilli_timer_run(struct rilli_p *p, int64_t now)
{
    struct timer_heap *th = &p->timers;
    int fired = 0;
    rilli_lock_acquire(&th->lock);
    while (th->n > 0 && th->h[0].when <= now) {
        struct rilli_timer *t = ent_timer(th->h[0]);
        heap_remove_at(th, 0);
        if (!t->fixed)
            t->idx = -1;
        rill_store_relaxed(&t->state, TIMER_RUNNING); /* relaxed: under the heap lock */
        rilli_lock_release(&th->lock);
        struct rilli_g *g = t->fn(t);
        rilli_lock_acquire(&th->lock);
        if (t->period > 0 && !t->stopped) {
            t->when = rilli_when_after(t->when, t->period);
            if (t->when <= now) /* a slow reader misses ticks; they are dropped, not queued */
                t->when = rilli_when_after(now, t->period);
            if (heap_push(th, t) == 0) {
                rill_store_relaxed(&t->state, TIMER_QUEUED); /* relaxed: under the lock */
                goto next;
            }
        }
        /* Belongs to no heap now: a later del (after this run, whose heaps go) looks in
         * none. relaxed: published by the release store below. */
        rill_store_relaxed(&t->p, NULL);
        /* rel: the last access to t; pairs with the acq loads in rilli_timer_del(). */
        rill_store_rel(&t->state, TIMER_IDLE);
    next:
        if (g) {
            rilli_lock_release(&th->lock);
            rilli_ready_timer(g);
            rilli_lock_acquire(&th->lock);
        }
        fired++;
    }
    rilli_lock_release(&th->lock);
    return fired;
}

void rilli_timer_heap_fini(struct timer_heap *th)
{
    /* The run is over and its Ps go: a timer still queued that outlives them (a rill_after
     * or rill_tick channel, a context's deadline) is left stopped and belongs to no P, so
     * stopping it again later (rill_chan_free, rill_ctx_free) touches nothing freed. A fixed
     * timer sits on the stack of a goroutine the run abandoned: nobody stops it. */
    for (int i = 0; i < th->n; i++) {
        if (th->h[i].t & TIMER_ENT_FIXED)
            continue;
        struct rilli_timer *t = ent_timer(th->h[i]);
        rill_store_relaxed(&t->p, NULL); /* relaxed: the workers are gone */
        t->idx = -1;
        rill_store_relaxed(&t->state, TIMER_IDLE); /* relaxed: the workers are gone */
    }
    free(th->h);
    th->h = NULL;
    th->n = th->cap = 0;
    th->when0 = INT64_MAX;
}

/* ---- rill_after / rill_tick ---------------------------------------------------------------- */

static struct rilli_g *chan_timer_fire(struct rilli_timer *t)
{
    int64_t now = rill_now();
    /* A full channel means the reader has not taken the last tick: this one is dropped. */
    rilli_chan_try_op(t->arg, RILL_SEND, &now, NULL, NULL);
    return NULL;
}

static struct rill_chan *chan_timer(int64_t ns, int64_t period)
{
    /* acq: pairs with the rel store of running in rill_run() */
    if (!rill_load_acq(&rilli_sched.running))
        return NULL;
    struct rill_chan *c = rill_chan_make(sizeof(int64_t), 1);
    struct rilli_timer *t = calloc(1, sizeof(*t));
    if (!c || !t)
        goto err;
    t->fn = chan_timer_fire;
    t->arg = c;
    t->period = period;
    rilli_chan_set_timer(c, t);
    if (rilli_timer_add(t, rilli_when_after(rill_now(), ns > 0 ? ns : 0)) < 0)
        goto err;
    return c;
err:
    if (c)
        rilli_chan_set_timer(c, NULL);
    free(t);
    rill_chan_free(c);
    return NULL;
}

struct rill_chan *rill_after(int64_t ns)
{
    return chan_timer(ns, 0);
}

struct rill_chan *rill_tick(int64_t period)
{
    return period > 0 ? chan_timer(period, period) : NULL;
}
