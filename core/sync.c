/*
 * sync.c - WaitGroup and Mutex that park the goroutine, never the worker thread.
 * Design: docs/DESIGN.md "Sync".
 *
 * Both keep their state in one atomic word and their waiters in a wait queue under a small
 * lock inside the caller-owned placeholder (rill.h), using the same records and claim
 * protocol as channels (waitq.c), so foreign threads can wait on them too.
 *
 * Mutex: state bit 0 = locked, state >> 1 = queued waiters. Lock: CAS 0 -> 1, else spin a
 * little (the holder is usually about to release), else queue and park. Unlock: CAS 1 -> 0
 * when nobody waits; otherwise hand the lock straight to the oldest waiter (the locked bit
 * stays set), so a waiter cannot be starved by new arrivals. Waiters are counted under the
 * queue lock, before the re-check: an unlocker that sees no waiter bits does not need the
 * queue, and one that sees them takes the queue lock and finds the record.
 *
 * WaitGroup: counter and waiter count in one atomic word; a waiter counts and queues itself
 * under the lock while the counter is non-zero; the add that brings the counter to zero takes
 * the lock only if someone waits, and wakes them all.
 */
#include <errno.h>

#include "core/core.h"
#include "sched/sched.h"

struct wg {
    uint64_t state;       /* atomic: counter << 32 | waiters (queued or about to be) */
    rilli_lock lock;
    struct rilli_waitq q; /* lock */
};

struct mutex {
    uint64_t state;      /* atomic: bit 0 locked, rest waiters * 2 */
    rilli_lock lock;
    struct rilli_waitq q; /* lock */
};

_Static_assert(sizeof(struct wg) <= sizeof(struct rill_waitgroup), "rill_waitgroup too small");
_Static_assert(sizeof(struct mutex) <= sizeof(struct rill_mutex), "rill_mutex too small");

/*
 * The counter and the number of waiters share one word, as in Go, so the add that brings
 * the counter to zero knows at once whether anyone waits: with no waiter it never touches
 * the WaitGroup again, which lets a waiter that saw zero free it right away.
 */
#define WG_ONE (1ULL << 32)

int rill_wg_add(struct rill_waitgroup *wgp, int n)
{
    if (!wgp)
        return -EINVAL;
    struct wg *wg = (struct wg *)wgp;
    /* acq_rel: the goroutine's work before done() happens before the waiter's return */
    uint64_t v = rill_faa_acqrel(&wg->state, (uint64_t)(int64_t)n * WG_ONE) +
                 (uint64_t)(int64_t)n * WG_ONE;
    int32_t count = (int32_t)(v >> 32);
    if (count < 0) {
        rill_faa_acqrel(&wg->state, (uint64_t)(-(int64_t)n) * WG_ONE); /* undo */
        return -EINVAL;
    }
    if (count > 0 || (uint32_t)v == 0 || n == 0)
        return 0;
    /* Zero with waiters: they are all queued (counted and queued under the lock). */
    rilli_lock_acquire(&wg->lock);
    struct rilli_waiter *wake = rilli_waitq_claim_all(&wg->q, NULL);
    rill_store_rel(&wg->state, 0); /* rel: the waiters' count is consumed */
    rilli_lock_release(&wg->lock);
    rilli_waitq_wake_all(wake);
    return 0;
}

int rill_wg_done(struct rill_waitgroup *wg)
{
    return rill_wg_add(wg, -1);
}

int rill_wg_wait(struct rill_waitgroup *wgp)
{
    if (!wgp)
        return -EINVAL;
    struct wg *wg = (struct wg *)wgp;
    for (;;) {
        if ((rill_load_acq(&wg->state) >> 32) == 0) /* acq: pairs with the acq_rel add */
            return 0;
        struct rilli_p *p = rilli_cur_p(); /* read each round: we may have moved */
        struct rilli_sel sel;
        rilli_sel_init(&sel, p, 1);
        struct rilli_waiter w = {.sel = &sel};
        rilli_lock_acquire(&wg->lock);
        /* acq, not relaxed: a count of zero here returns at once, so this load must pair with
         * the done() that reached zero, as the one above does */
        uint64_t v = rill_load_acq(&wg->state);
        int counted = 0;
        /* acq_rel: counts us under the lock; the add that reaches zero sees the count */
        while ((v >> 32) != 0 && !(counted = rill_cas_acqrel(&wg->state, &v, v + 1)))
            ;
        if (!counted) {
            rilli_lock_release(&wg->lock);
            return 0;
        }
        rilli_waitq_push(&wg->q, &w);
        rilli_lock_release(&wg->lock);
        rilli_sel_park_on(p, &sel, "waitgroup wait", wgp);
    }
}

#define LOCKED 1ULL
#define WAITER 2ULL
#define SPIN 64

int rill_mutex_trylock(struct rill_mutex *mp)
{
    struct mutex *m = (struct mutex *)mp;
    uint64_t v = rill_load_relaxed(&m->state); /* relaxed: validated by the CAS */
    /* acq: pairs with the rel in unlock; the previous holder's writes are visible */
    return !(v & LOCKED) && rill_cas_acq(&m->state, &v, v | LOCKED) ? 0 : -EBUSY;
}

static void mutex_lock_slow(struct mutex *m, struct rill_mutex *mp)
{
    for (int i = 0; i < SPIN; i++) {
        if (rill_mutex_trylock(mp) == 0)
            return;
        rill_cpu_relax();
    }
    for (;;) {
        struct rilli_p *p = rilli_cur_p(); /* read each round: we may have moved */
        struct rilli_sel sel;
        rilli_sel_init(&sel, p, 1);
        struct rilli_waiter w = {.sel = &sel};
        rilli_lock_acquire(&m->lock);
        rill_faa_acqrel(&m->state, WAITER); /* acq_rel: counted before the re-check */
        uint64_t v = rill_load_relaxed(&m->state);
        while (!(v & LOCKED)) {
            /* acq: as in trylock; we take the lock and uncount ourselves in one step */
            if (rill_cas_acq(&m->state, &v, (v | LOCKED) - WAITER)) {
                rilli_lock_release(&m->lock);
                return;
            }
        }
        rilli_waitq_push(&m->q, &w);
        rilli_lock_release(&m->lock);
        if (rilli_sel_park_on(p, &sel, "mutex lock", mp) == 0)
            return; /* handed the lock by the unlocker */
    }
}

void rill_mutex_lock(struct rill_mutex *mp)
{
    struct mutex *m = (struct mutex *)mp;
    uint64_t z = 0;
    /* acq: pairs with the rel in unlock */
    if (rill_likely(rill_cas_acq(&m->state, &z, LOCKED)))
        return;
    mutex_lock_slow(m, mp);
}

void rill_mutex_unlock(struct rill_mutex *mp)
{
    struct mutex *m = (struct mutex *)mp;
    uint64_t v = LOCKED;
    /* acq_rel: releases the critical section to the next locker */
    if (rill_likely(rill_cas_acqrel(&m->state, &v, 0)))
        return;
    if (!(v & LOCKED))
        rill_throw("rill_mutex_unlock: mutex %p is not locked", (void *)mp);
    rilli_lock_acquire(&m->lock);
    struct rilli_waiter *w = rilli_waitq_claim(&m->q, 0, NULL);
    if (w) {
        rill_faa_acqrel(&m->state, -WAITER); /* acq_rel: LOCKED stays set: handed to w */
        rilli_lock_release(&m->lock);
        rilli_sel_wake(w->sel);
        return;
    }
    /* Waiters are counted but not queued yet (between the count and the push, under the
     * lock we hold now, so this cannot happen) - or the count is broken. */
    rilli_lock_release(&m->lock);
    v = rill_load_relaxed(&m->state); /* relaxed: only a hint for the error below */
    if (v & ~LOCKED) {
        /* a waiter counted itself and is re-checking: release and let it take the lock */
        rill_fand_acqrel(&m->state, ~LOCKED);
        return;
    }
    rill_throw("rill_mutex_unlock: waiter count broken (state %llu)", (unsigned long long)v);
}
