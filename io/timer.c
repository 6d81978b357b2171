/*
 * timer.c - per-P timer heaps: rill_sleep, select deadlines, rill_after and rill_tick.
 * Design: docs/DESIGN.md "Timers".
 *
 * Each P owns a binary min-heap of struct rilli_timer under a spinlock. A timer is added to
 * the P that runs the adding goroutine (P 0 for a thread without a P) and stays on that P.
 * Timers fire from the owner's schedule loop (every 61st pick, and whenever it looks for
 * work), and from any idle worker, which runs another P's due timers while it looks for work,
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

static void heap_swap(struct timer_heap *th, int a, int b)
{
    struct rilli_timer *t = th->h[a];
    th->h[a] = th->h[b];
    th->h[b] = t;
    th->h[a]->idx = a;
    th->h[b]->idx = b;
}

static void sift_up(struct timer_heap *th, int i)
{
    while (i > 0) {
        int parent = (i - 1) / 2;
        if (th->h[parent]->when <= th->h[i]->when)
            break;
        heap_swap(th, i, parent);
        i = parent;
    }
}

static void sift_down(struct timer_heap *th, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < th->n && th->h[l]->when < th->h[m]->when)
            m = l;
        if (r < th->n && th->h[r]->when < th->h[m]->when)
            m = r;
        if (m == i)
            return;
        heap_swap(th, i, m);
        i = m;
    }
}

static void heap_update_when0(struct timer_heap *th)
{
    /* relaxed: read as a hint (rilli_timer_when0); the heap itself is under the lock. */
    rill_store_relaxed(&th->when0, th->n ? th->h[0]->when : INT64_MAX);
}

static int heap_push(struct timer_heap *th, struct rilli_timer *t)
{
    if (th->n == th->cap) {
        int cap = th->cap ? th->cap * 2 : 64;
        struct rilli_timer **h = realloc(th->h, (size_t)cap * sizeof(*h));
        if (!h)
            return -ENOMEM;
        th->h = h;
        th->cap = cap;
    }
    t->idx = th->n++;
    th->h[t->idx] = t;
    sift_up(th, t->idx);
    heap_update_when0(th);
    return 0;
}

static void heap_remove(struct timer_heap *th, struct rilli_timer *t)
{
    int i = t->idx, last = --th->n;
    if (i != last) {
        th->h[i] = th->h[last];
        th->h[i]->idx = i;
        sift_down(th, i);
        sift_up(th, i);
    }
    t->idx = -1;
    heap_update_when0(th);
}

int rilli_timer_add(struct rilli_timer *t, int64_t when)
{
    struct rilli_p *p = rilli_cur_p();
    int foreign = p == NULL;
    if (foreign)
        p = rilli_sched.allp[0];
    struct timer_heap *th = &p->timers;
    rilli_lock_acquire(&th->lock);
    t->when = when;
    t->p = p;
    t->stopped = 0;
    int rc = heap_push(th, t);
    if (rc == 0)
        rill_store_relaxed(&t->state, TIMER_QUEUED); /* relaxed: under the heap lock */
    int first = rc == 0 && th->h[0] == t;
    rilli_lock_release(&th->lock);
    /* A P that runs the adder is awake and sees the timer at its next pick; a sleeping P 0
     * must recompute its timeout. relaxed: a stale idle reading only delays the timer
     * until P 0's current sleep ends, never past it, since P 0 sleeps until its when0. */
    if (foreign && first && rill_load_relaxed(&p->idle))
        rilli_io_notify(&p->io, NULL);
    return rc;
}

int rilli_timer_del(struct rilli_timer *t)
{
    struct rilli_p *p = t->p; /* set once by add, before t is published to anyone else */
    if (!p)
        return 0;
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
    while (th->n > 0 && th->h[0]->when <= now) {
        struct rilli_timer *t = th->h[0];
        heap_remove(th, t);
        rill_store_relaxed(&t->state, TIMER_RUNNING); /* relaxed: under the heap lock */
        rilli_lock_release(&th->lock);
        struct rilli_g *g = t->fn(t);
        rilli_lock_acquire(&th->lock);
        if (t->period > 0 && !t->stopped) {
            t->when += t->period;
            if (t->when <= now) /* a slow reader misses ticks; they are dropped, not queued */
                t->when = now + t->period;
            if (heap_push(th, t) == 0) {
                rill_store_relaxed(&t->state, TIMER_QUEUED); /* relaxed: under the lock */
                goto next;
            }
        }
        /* rel: the last access to t; pairs with the acq load in rilli_timer_del(). */
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
    rilli_chan_try_op(t->arg, RILL_SEND, &now, NULL);
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
    if (rilli_timer_add(t, rill_now() + (ns > 0 ? ns : 0)) < 0)
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
