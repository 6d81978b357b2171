/*
 * park.c - idle workers: going to sleep, waking exactly one, and stopping all.
 * Design: docs/DESIGN.md "Idle workers and wakeups".
 *
 * A worker with nothing to run (after spinning, sched.c) marks its P idle, re-checks every
 * source of work, and sleeps in its own io_uring (rilli_io_wait) until a wake message, a
 * completion or its next timer. Waking a sleeping worker costs 25-50 us on this class of
 * machine, so a waker wakes at most one P, and only when no P is already spinning: the woken
 * P starts out spinning (the waker counts it in nspinning on its behalf, as Go's wakep does),
 * which stops the next ready from waking a second one.
 *
 * p->idle: 0 running; 1 idle (counted in npidle); 2 claimed by a waker, which already took
 * it out of npidle and counted it as spinning. Only the owner moves 0 -> 1 and 1 -> 0 (on a
 * wake it did not get from a waker); only a waker moves 1 -> 2; the owner moves 2 -> 0.
 *
 * No lost wakeup: a G lands either on a running P's own queue (that P runs it) or on the
 * global queue, followed by a seq_cst fence and a wakep. An idler does: idle = 1,
 * npidle++ (seq_cst RMW), then re-checks the global queue and every run queue. Dekker: either
 * the waker sees npidle > 0 and wakes someone, or the idler's re-check sees the G. And the
 * wake itself is a message in the target's ring: it waits there if the target has not gone
 * to sleep yet, so it cannot be lost between the re-check and the sleep.
 */
#include <stdint.h>

#include "sched/sched.h"

#define S rilli_sched

/* How often an idle P looks at the others while any of them runs: a G queued behind one
 * that runs for long waits up to about twice this (sched.c, STUCK_NS and RUNNEXT_STUCK_NS),
 * and an idle P costs a wake and a short spin per period. An idle runtime polls nothing. */
#define IDLE_POLL_NS 1000000

void rilli_wakep(void)
{
    struct rilli_p *me = rilli_cur_p();
    for (;;) {
        int zero = 0;
        /* acq_rel: only one waker at a time may hand out the spinning role (Go's wakep); the
         * CAS fails if some P already spins, and that P will find the work. */
        if (rill_load_relaxed(&S.nspinning) != 0 || !rill_cas_acqrel(&S.nspinning, &zero, 1))
            return;
        int n = S.nproc;
        int start = (int)(rilli_rand() % (uint32_t)n);
        for (int i = 0; i < n; i++) {
            struct rilli_p *q = S.allp[(start + i) % n];
            int one = 1;
            /* acq_rel: claims q; pairs with the seq_cst RMW on npidle in rilli_p_idle(). */
            if (q != me && rill_load_relaxed(&q->idle) == 1 && rill_cas_acqrel(&q->idle, &one, 2)) {
                rill_faa_acqrel(&S.npidle, -1); /* acq_rel: our claim took q out of the count */
                rilli_io_notify(&q->io, me ? &me->io : NULL);
                return;
            }
        }
        /* Nobody to wake: give the role back. A thread that queued a G on the global queue
         * while we held the role saw nspinning == 1 and left the wake to us, but our look at
         * the idle flags may predate a P going to sleep without seeing that G. So look again.
         * seq: Dekker with that waker (store gq_n, fence, load nspinning) and with the idler
         * (npidle++, load gq_n): our decrement, then the loads of gq_n and npidle. */
        rill_faa_seq(&S.nspinning, -1);
        if (!rill_load_seq(&S.gq_n) || !rill_load_seq(&S.npidle))
            return;
    }
}

/* Any work visible anywhere? Called after the idle flag is published. */
static int work_visible(struct rilli_p *p)
{
    /* acq: pairs with the rel stores in rilli_gq_put() and rilli_sched_stop_all() */
    if (rill_load_relaxed(&p->runnext) || p->timerq || rill_load_acq(&S.gq_n) ||
        rill_load_acq(&S.stopping))
        return 1;
    for (int i = 0; i < S.nproc; i++)
        if (!rilli_runq_empty(S.allp[i]))
            return 1;
    return 0;
}

/* Until the earliest timer of any P, or until 'when' (stacks old enough to give back). */
static int64_t sleep_timeout(int64_t when)
{
    for (int i = 0; i < S.nproc; i++) {
        int64_t w = rilli_timer_when0(&S.allp[i]->timers);
        if (w < when)
            when = w;
    }
    if (when == INT64_MAX)
        return -1;
    int64_t d = when - rill_now();
    return d > 0 ? d : 0;
}

/* Leave the idle state after waking or re-checking. Owner only. */
static void idle_leave(struct rilli_p *p)
{
    int one = 1;
    /* acq_rel: 1 -> 0 races with a waker's 1 -> 2; whoever wins does the npidle decrement. */
    if (rill_cas_acqrel(&p->idle, &one, 0)) {
        rill_faa_acqrel(&S.npidle, -1); /* acq_rel: pairs with rilli_wakep() */
        return;
    }
    /* A waker claimed us (idle == 2) and counted us as spinning. */
    rill_store_relaxed(&p->idle, 0); /* relaxed: only the owner reads 0 -> 1 next */
    p->spinning = 1;
}

void rilli_p_idle(struct rilli_p *p)
{
    rill_store_relaxed(&p->idle, 1); /* relaxed: published by the seq_cst RMW below */
    /* seq: Dekker with rilli_ready()/rilli_gq_put(): npidle++ then re-check the queues; the
     * waker stores its G then fences then loads npidle. */
    rill_faa_seq(&S.npidle, 1);
    if (work_visible(p)) {
        idle_leave(p);
        return;
    }
    /* a runtime gone quiet returns what a burst left, and wakes for the rest */
    int64_t timeout = sleep_timeout(rilli_stack_scavenge(rill_now()));
    if (rill_load_acq(&S.npidle) == S.nproc) { /* acq: pairs with the seq_cst RMWs */
        int d = rilli_deadlock_check();
        if (d == DEADLOCK_YES) {
            idle_leave(p);
            rilli_deadlock_report();
            return;
        }
        if (d == DEADLOCK_MAYBE && (timeout < 0 || timeout > DEADLOCK_POLL_NS))
            timeout = DEADLOCK_POLL_NS;
    } else if (timeout < 0 || timeout > IDLE_POLL_NS) {
        /* Another P runs: look again soon, in case it keeps running one G while others
         * wait behind it, in its queue or in its runnext, which wakes nobody (sched.c,
         * STUCK_NS and "Taking runnext"). */
        timeout = IDLE_POLL_NS;
    }
    rilli_io_wait(&p->io, timeout);
    idle_leave(p);
}

void rilli_sched_stop_all(void)
{
    /* seq: pairs with the acq loads in sched.c, and is the store side of the Dekker with
     * threads without a P in rilli_ready() (nwakers, see worker_main()) */
    rill_store_seq(&S.stopping, 1);
    struct rilli_p *me = rilli_cur_p();
    for (int i = 0; i < S.nproc; i++)
        if (S.allp[i] != me)
            rilli_io_notify(&S.allp[i]->io, me ? &me->io : NULL);
}
