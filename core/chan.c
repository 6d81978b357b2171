/*
 * chan.c - channels: a lock-free MPMC ring for buffered channels, direct handoff for
 * unbuffered ones, and the wait queues both park on. Design: docs/DESIGN.md "Channels".
 *
 * Buffered ring (Vyukov-style, one sequence stamp per cell). Positions are free-running:
 * pos = lap + index, where a lap is one_lap = next_pow2(cap + 1) positions, so no division is
 * ever needed and cap need not be a power of two. A cell with index i:
 *     stamp == pos          free for the producer at pos
 *     stamp == pos + 1      holds the value written at pos, for the consumer at pos
 *     stamp := pos + one_lap  when the consumer at pos has read it (free for the next lap)
 * A producer claims a position with one CAS on tail, writes, and publishes with a release
 * store of the stamp; a consumer claims with a CAS on head, reads, and frees the cell the
 * same way. The fast path takes no lock and makes no syscall.
 *
 * Flag bits beside the positions:
 *     tail: CLOSED   set once by close (under the lock); a send's CAS on tail then fails,
 *                    so close linearises after every send that succeeded;
 *           WAITERS  receivers are queued on recvq (set/cleared under the lock);
 *           PENDING  count of senders whose CAS saw WAITERS and that have not finished
 *                    waking a receiver (the same CAS increments it, wake_one decrements);
 *     head: WAITERS and PENDING, the same for senders queued on sendq.
 * PENDING lets rill_chan_free() wait for a sender that already made its value visible but
 * is still about to touch the channel to wake someone: Go users free a channel right after
 * receiving the last value, and that must be safe.
 *
 * No lost wakeup (buffered). A receiver that finds the ring empty takes the lock, queues
 * itself, sets tail.WAITERS with an atomic OR, and tries the ring once more before parking.
 * A producer's CAS on tail is ordered with that OR in tail's modification order: if the CAS
 * comes first, the OR returns the advanced tail and the re-try sees the value (spinning for
 * the stamp if the producer is still writing); if the OR comes first, the CAS saw WAITERS
 * (the CAS compares the whole word) and the producer wakes a receiver. Senders blocked on a
 * full ring mirror this with head.WAITERS and the consumer's CAS on head. The fast path thus
 * needs no extra fence: the CAS it does anyway is the synchronising access.
 *
 * Unbuffered channels (and select) use the lock: a sender that finds a queued receiver
 * claims it (waitq.c), copies the value straight into the receiver's elem and wakes it; a
 * receiver that finds a queued sender copies out of the sender's elem, then wakes it, so a
 * send returns only once a receiver has the value. Otherwise the caller queues itself and
 * parks. Close wakes every waiter with SEL_RETRY; each re-tries and sees the channel closed.
 *
 * Invariants:
 *  1. recvq/sendq, closed and the WAITERS/CLOSED bits change only under c->lock.
 *  2. A queued record's owner is parked, or about to park, until a claimer wakes it.
 *  3. For unbuffered channels the queues never hold a claimable sender and a claimable
 *     receiver at once (whoever arrives second pairs with the first).
 * Lock order: several channel locks are taken only by select, in address order; no other
 * lock is taken while one is held, and nothing parks or wakes while holding one.
 *
 * A waker completes a parked single send/receive on a buffered channel for its owner, through
 * the ring (wake_one): the receiver gets the ring's oldest value, not the waker's, so FIFO
 * order holds without a lock on the fast path.
 *
 * Rejected: a lock around the whole buffered channel (Go's hchan.lock): one contended line
 * per operation; handing a parked receiver the sender's own value past the ring (Go does,
 * for an empty buffered channel): with a lock-free ring, FIFO order would need the lock back.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "io/io.h"
#include "sched/sched.h"

#define CLOSED (1ULL << 63)
#define WAITERS (1ULL << 62)
#define PEND_ONE (1ULL << 48)
#define PEND_MASK (WAITERS - PEND_ONE) /* bits 48-61: wakers between their CAS and wake_one */
#define POS_MASK (PEND_ONE - 1)        /* 2^48 is a multiple of every one_lap: wraps cleanly */
#define FLAGS (CLOSED | WAITERS | PEND_MASK)

struct cell {
    uint64_t stamp;
    unsigned char data[];
};

struct rill_chan {
    /* immutable after make */
    size_t esize, cap, one_lap, stride;
    unsigned char *cells;
    struct rilli_timer *timer; /* rill_after / rill_tick: stopped by rill_chan_free */
    /* producers */
    uint64_t tail rill_cacheline_aligned;
    /* consumers */
    uint64_t head rill_cacheline_aligned;
    /* slow path; c->lock */
    rilli_lock lock rill_cacheline_aligned;
    int closed;
    struct rilli_waitq recvq, sendq;
};

/* memcpy/memset with n == 0 still require valid pointers; signal channels pass NULL. */
static inline void elem_copy(void *dst, const void *src, size_t n)
{
    if (n == 8) /* the common element (a pointer, a long): two moves, not a libc call */
        memcpy(dst, src, 8);
    else if (n)
        memcpy(dst, src, n);
}

static inline void elem_zero(void *dst, size_t n)
{
    if (n && dst)
        memset(dst, 0, n);
}

static inline struct cell *cell_at(struct rill_chan *c, uint64_t pos)
{
    return (struct cell *)(void *)(c->cells + (pos & (c->one_lap - 1)) * c->stride);
}

static inline uint64_t pos_next(struct rill_chan *c, uint64_t pos)
{
    uint64_t idx = pos & (c->one_lap - 1);
    return (idx + 1 < c->cap ? pos + 1 : (pos & ~(c->one_lap - 1)) + c->one_lap) & POS_MASK;
}

static void backoff(unsigned *spins)
{
    if ((*spins)++ < 128)
        rill_cpu_relax();
    else
        sched_yield(); /* the other side was preempted between its CAS and its stamp */
}

/* After a lost CAS: contention on this line; a short, growing pause keeps several cores from
 * taking it from each other on every attempt. */
static void cas_backoff(unsigned *spins)
{
    unsigned n = 1u << ((*spins)++ < 6 ? *spins : 6);
    for (unsigned i = 0; i < n; i++)
        rill_cpu_relax();
}

/* The cell at pos, whose stamp was read, still holds last lap's value: the ring is full, or a
 * consumer has claimed that value and is still reading it (head_lap_behind tells which). */
static inline int cell_last_lap(const struct rill_chan *c, uint64_t pos, uint64_t stamp)
{
    return ((stamp + c->one_lap) & POS_MASK) == ((pos + 1) & POS_MASK);
}

/* Consumers are a whole lap behind pos: no one is reading the cell there, the ring is full. */
static inline int head_lap_behind(struct rill_chan *c, uint64_t pos)
{
    /* acq: pairs with pop's CAS on head: a consumer's claim of the cell is seen */
    return ((rill_load_acq(&c->head) + c->one_lap) & POS_MASK) == pos;
}

/* The common push, inline in rill_chan_send(): a free cell, no receiver waiting, not closed,
 * and no other producer in the way. 1 done; -EAGAIN full (the caller blocks: no need to look
 * again first, chan_block() re-tries under the lock); 0 anything else, and nothing changed
 * (ring_push() sorts it out). The accesses of ring_push()'s first round with no flag set, so
 * the same proof ("No lost wakeup" above): the CAS still compares the whole word. */
static inline int ring_push_fast(struct rill_chan *c, const void *elem)
{
    uint64_t t = rill_load_relaxed(&c->tail); /* relaxed: validated by the stamp and CAS */
    if (t & FLAGS) /* closed, receivers waiting, or a waker in flight (PENDING) */
        return 0;
    struct cell *cl = cell_at(c, t);          /* no flags: t is the position */
    uint64_t stamp = rill_load_acq(&cl->stamp); /* acq: as in ring_push() */
    if (stamp != t) /* full: block at once (as ring_push()); else let ring_push() look again */
        return cell_last_lap(c, t, stamp) && head_lap_behind(c, t) ? -EAGAIN : 0;
    if (!rill_cas_acqrel(&c->tail, &t, pos_next(c, t))) /* acq_rel: as in ring_push() */
        return 0;
    elem_copy(cl->data, elem, c->esize);
    rill_store_rel(&cl->stamp, (t + 1) & POS_MASK); /* rel: as in ring_push() */
    return 1;
}

/* The common pop, inline in rill_chan_recv(): a value there, no sender waiting, no other
 * consumer in the way. 1 done; -EAGAIN empty and open (the caller blocks); 0 anything else,
 * and nothing changed (ring_pop() sorts it out). */
static inline int ring_pop_fast(struct rill_chan *c, void *elem)
{
    uint64_t h = rill_load_relaxed(&c->head); /* relaxed: validated by the stamp and CAS */
    if (h & FLAGS) /* senders waiting, or a waker in flight */
        return 0;
    struct cell *cl = cell_at(c, h);          /* no flags: h is the position */
    uint64_t stamp = rill_load_acq(&cl->stamp); /* acq: as in ring_pop() */
    if (stamp != ((h + 1) & POS_MASK)) {
        /* nothing written here, and no producer mid-write: empty (as ring_pop()) */
        if (stamp == h && rill_load_acq(&c->tail) == h) /* acq: as there; equal: not closed */
            return -EAGAIN;
        return 0;
    }
    if (!rill_cas_acqrel(&c->head, &h, pos_next(c, h))) /* acq_rel: as in ring_pop() */
        return 0;
    if (elem)
        elem_copy(elem, cl->data, c->esize);
    rill_store_rel(&cl->stamp, (h + c->one_lap) & POS_MASK); /* rel: as in ring_pop() */
    return 1;
}

/* Push: 0 done, 1 done and receivers wait (caller wakes one), -EAGAIN full, -EPIPE closed. */
static int ring_push(struct rill_chan *c, const void *elem)
{
    unsigned spins = 0;
    uint64_t t = rill_load_relaxed(&c->tail); /* relaxed: validated by the stamp and CAS */
    for (;;) {
        if (t & CLOSED)
            return -EPIPE;
        uint64_t pos = t & POS_MASK;
        struct cell *cl = cell_at(c, pos);
        /* acq: pairs with the consumer's rel store of the stamp: its read of the old value
         * is done before we overwrite the cell. */
        uint64_t stamp = rill_load_acq(&cl->stamp);
        if (stamp == pos) {
            uint64_t nt = pos_next(c, pos) | (t & FLAGS);
            if (t & WAITERS) {
                rill_assert((t & PEND_MASK) != PEND_MASK); /* 16K wakers in flight at once */
                nt += PEND_ONE;
            }
            /* acq_rel: claims pos; the synchronising access for tail.WAITERS (file top) */
            if (rill_cas_acqrel(&c->tail, &t, nt)) {
                elem_copy(cl->data, elem, c->esize);
                /* rel: publishes the value; pairs with the acq stamp load in ring_pop() */
                rill_store_rel(&cl->stamp, (pos + 1) & POS_MASK);
                return (t & WAITERS) ? 1 : 0;
            }
            cas_backoff(&spins); /* lost to another producer: let the line settle */
            continue;            /* t reloaded by the failed CAS */
        }
        if (cell_last_lap(c, pos, stamp)) { /* full, unless a consumer is mid-read */
            if (head_lap_behind(c, pos))
                return -EAGAIN;
            backoff(&spins);
        }
        t = rill_load_relaxed(&c->tail); /* relaxed: as above */
    }
}

/* Pop: 0 done, 1 done and senders wait (caller wakes one), -EAGAIN empty, -EPIPE closed and
 * drained. elem may be NULL. */
static int ring_pop(struct rill_chan *c, void *elem)
{
    unsigned spins = 0;
    uint64_t h = rill_load_relaxed(&c->head); /* relaxed: validated by the stamp and CAS */
    for (;;) {
        uint64_t pos = h & POS_MASK;
        struct cell *cl = cell_at(c, pos);
        /* acq: pairs with the producer's rel store of the stamp: the value is there */
        uint64_t stamp = rill_load_acq(&cl->stamp);
        if (stamp == ((pos + 1) & POS_MASK)) {
            uint64_t nh = pos_next(c, pos) | (h & FLAGS);
            if (h & WAITERS) {
                rill_assert((h & PEND_MASK) != PEND_MASK);
                nh += PEND_ONE;
            }
            /* acq_rel: claims pos; the synchronising access for head.WAITERS */
            if (rill_cas_acqrel(&c->head, &h, nh)) {
                if (elem)
                    elem_copy(elem, cl->data, c->esize);
                /* rel: the cell is free for the next lap; pairs with ring_push()'s acq */
                rill_store_rel(&cl->stamp, (pos + c->one_lap) & POS_MASK);
                return (h & WAITERS) ? 1 : 0;
            }
            cas_backoff(&spins);
            continue;
        }
        if (stamp == pos) {
            /* acq: pairs with push's CAS on tail, and with close's OR of CLOSED */
            uint64_t t = rill_load_acq(&c->tail);
            if ((t & POS_MASK) == pos)
                return (t & CLOSED) ? -EPIPE : -EAGAIN;
            backoff(&spins); /* a producer claimed pos and is still writing */
        }
        h = rill_load_relaxed(&c->head); /* relaxed: as above */
    }
}

/* ---- queues ------------------------------------------------------------------------------- */

void rilli_chan_lock(struct rill_chan *c)
{
    rilli_lock_acquire(&c->lock);
}

void rilli_chan_unlock(struct rill_chan *c)
{
    rilli_lock_release(&c->lock);
}

static uint64_t *flag_word(struct rill_chan *c, int op)
{
    return op == RILL_RECV ? &c->tail : &c->head;
}

void rilli_chan_enqueue(struct rill_chan *c, int op, struct rilli_waiter *w)
{
    rilli_waitq_push(op == RILL_RECV ? &c->recvq : &c->sendq, w);
    /* acq_rel RMW: orders our queueing before the re-try of the ring that follows; pairs with
     * the CAS in ring_push()/ring_pop() (file top, "No lost wakeup"). */
    if (c->cap)
        rill_for_acqrel(flag_word(c, op), WAITERS);
}

static void flag_sync(struct rill_chan *c, int op)
{
    struct rilli_waitq *q = op == RILL_RECV ? &c->recvq : &c->sendq;
    if (c->cap && rilli_waitq_empty(q))
        rill_fand_acqrel(flag_word(c, op), ~WAITERS); /* acq_rel: under the lock, as set */
}

void rilli_chan_dequeue(struct rill_chan *c, int op, struct rilli_waiter *w)
{
    rilli_waitq_remove(op == RILL_RECV ? &c->recvq : &c->sendq, w);
    flag_sync(c, op);
}

/* Wake one waiter of queue op after a ring operation reported WAITERS (and counted itself in
 * that word's PENDING). No lock held.
 *
 * A single blocked send or receive (not a select) is completed on its behalf, as Go does: a
 * receiver gets the ring's oldest value, a sender's value goes into the slot just freed, and
 * the woken G returns at once instead of coming back to retry (a capacity-1 channel otherwise
 * costs every item a second trip through the lock). If the ring raced away from us (another
 * fast-path operation took the value or the slot) it is woken to retry, as before.
 *
 * All of it under the lock, so that one atomic on the flag word does both of its updates: it
 * drops our PENDING count and, when the queue is now empty, clears WAITERS (subtracting a bit
 * that is set clears it; only lock holders change it). PENDING may drop under the lock: the
 * unlock is then our last access to c, and rill_chan_free() takes the lock before it looks
 * at PENDING. The ring operation takes no lock. A wake it calls for (r == 1) comes after we
 * unlock, covered by the PENDING count that operation added to the other word. */
static void wake_one(struct rill_chan *c, int op)
{
    rilli_lock_acquire(&c->lock);
    struct rilli_waitq *q = op == RILL_RECV ? &c->recvq : &c->sendq;
    struct rilli_waiter *w = rilli_waitq_claim(q, SEL_RETRY, NULL);
    int r = -EAGAIN;
    if (w && w->sel->solo) {
        /* The claimed waiter stays parked until we wake it, so its elem is ours to use. */
        r = op == RILL_RECV ? ring_pop(c, w->elem) : ring_push(c, w->elem);
        if (r >= 0) {
            w->sel->result = 0;
            /* relaxed: as the claim (rilli_waitq_claim); the owner reads state after its
             * wake, which orders it. 0 is the solo record's index: "done". */
            rill_store_relaxed(&w->sel->state, 0);
        }
    }
    uint64_t *fw = flag_word(c, op), drop = PEND_ONE;
    /* relaxed: WAITERS changes only under the lock, which we hold */
    if (rilli_waitq_empty(q) && (rill_load_relaxed(fw) & WAITERS))
        drop += WAITERS;
    /* acq_rel: under the lock as WAITERS is; pairs with the acq loads in rill_chan_free() */
    rill_faa_acqrel(fw, -drop);
    rilli_lock_release(&c->lock);
    if (r == 1) /* our operation on its behalf found the other side waiting too */
        wake_one(c, op == RILL_RECV ? RILL_SEND : RILL_RECV);
    if (w)
        rilli_sel_wake(w->sel);
}

/* What a G blocked in a single send or receive waits on, for the deadlock report. */
static const char *wait_reason(int op)
{
    return op == RILL_SEND ? "chan send" : "chan receive";
}

/* ---- one operation, lock held ------------------------------------------------------------- */

/* A select won through c (lock held) keeps no record on c: its owner, once woken, does not
 * touch c again, so whoever completed the handoff may free c as soon as its own call returns
 * (rill_chan_free). The claim removed the winning record; only a select with another case
 * on c (both directions, or the same one twice: sel->dup) has more. */
static void __attribute__((noinline)) unlink_sel(struct rill_chan *c, const struct rilli_sel *sel)
{
    for (int op = RILL_SEND; op <= RILL_RECV; op++) {
        struct rilli_waitq *q = op == RILL_RECV ? &c->recvq : &c->sendq;
        for (struct rilli_waiter *w = q->head, *next; w; w = next) {
            next = w->next;
            if (w->sel == sel)
                rilli_waitq_remove(q, w);
        }
        flag_sync(c, op);
    }
}

/* The unbuffered half of rilli_chan_op_locked(): hand the value to or from a queued partner
 * (*partner is then set: wake it once the lock is dropped), or -EPIPE when closed, or -EAGAIN.
 * Lock held. Inline: chan_unbuf() runs it on every blocking handoff. */
static inline int unbuf_locked(struct rill_chan *c, int op, void *elem,
                               const struct rilli_sel *self, struct rilli_sel **partner)
{
    if (op == RILL_SEND && c->closed)
        return -EPIPE;
    struct rilli_waiter *w =
        rilli_waitq_claim(op == RILL_SEND ? &c->recvq : &c->sendq, SEL_CLAIM_IDX, self);
    if (w) {
        if (op == RILL_SEND) {
            if (w->elem)
                elem_copy(w->elem, elem, c->esize);
        } else if (elem) {
            elem_copy(elem, w->elem, c->esize);
        }
        w->sel->result = 0;
        *partner = w->sel;
        if (rill_unlikely(!w->sel->solo && w->sel->dup))
            unlink_sel(c, w->sel);
        return 0;
    }
    if (c->closed) { /* a receive: nothing left to take */
        elem_zero(elem, c->esize);
        return -EPIPE;
    }
    return -EAGAIN;
}

/* The buffered half of rilli_chan_op_locked(), out of line: the unbuffered half then saves
 * no registers for its calls. */
static int __attribute__((noinline)) ring_op_locked(struct rill_chan *c, int op, void *elem,
                                                    struct rilli_chan_wake *wk)
{
    int r = op == RILL_SEND ? ring_push(c, elem) : ring_pop(c, elem);
    if (r == 1) {
        wk->op = op == RILL_SEND ? RILL_RECV : RILL_SEND;
        r = 0;
    }
    if (r == -EPIPE && op == RILL_RECV)
        elem_zero(elem, c->esize);
    return r;
}

int rilli_chan_op_locked(struct rill_chan *c, int op, void *elem, const struct rilli_sel *self,
                     struct rilli_chan_wake *wk)
{
    if (!c->cap)
        return unbuf_locked(c, op, elem, self, &wk->sel);
    return ring_op_locked(c, op, elem, wk);
}

void rilli_chan_wake(struct rill_chan *c, struct rilli_chan_wake *wk, struct rilli_p *p)
{
    if (wk->sel)
        rilli_sel_wake_on(p, wk->sel); /* p NULL: rilli_ready() looks it up */
    else if (wk->op)
        wake_one(c, wk->op);
}

int rilli_chan_try_op(struct rill_chan *c, int op, void *elem, const struct rilli_sel *self,
                      struct rilli_p *p)
{
    struct rilli_chan_wake wk = {0};
    if (!c->cap) {
        /* Nobody to pair with and not closed: -EAGAIN without the lock, as Go's non-blocking
         * paths do. relaxed: a hint; the answer was true at the moment of the loads, which
         * is as good as under the lock (a partner arriving just after is not missed by a
         * blocking caller, which queues itself under the lock and re-checks). */
        struct rilli_waitq *q = op == RILL_SEND ? &c->recvq : &c->sendq;
        if (!rill_load_relaxed(&q->head) && !rill_load_relaxed(&c->closed))
            return -EAGAIN;
    } else {
        int r = rilli_chan_op_locked(c, op, elem, self, &wk); /* lock-free for buffered channels */
        rilli_chan_wake(c, &wk, p);
        return r;
    }
    rilli_lock_acquire(&c->lock);
    int r = rilli_chan_op_locked(c, op, elem, self, &wk);
    rilli_lock_release(&c->lock);
    rilli_chan_wake(c, &wk, p);
    return r;
}

static int chan_unbuf_again(struct rill_chan *c, int op, void *elem);

/* Blocking send/receive on an unbuffered channel, when no partner was queued: the lock is
 * held. Queue a solo record and park; a partner completes the handoff. Out of line, so that
 * the handoff in chan_unbuf() saves no registers for it. */
static int __attribute__((noinline)) chan_unbuf_park(struct rill_chan *c, int op, void *elem,
                                                     struct rilli_p *p)
{
    struct rilli_sel sel;
    rilli_sel_init(&sel, p, 1);
    struct rilli_waiter w = {.elem = elem, .sel = &sel};
    rilli_waitq_push(op == RILL_RECV ? &c->recvq : &c->sendq, &w);
    rilli_lock_release(&c->lock);
    if (rill_likely(rilli_sel_park_on(p, &sel, wait_reason(op), c) >= 0))
        return sel.result; /* a partner completed the handoff */
    /* SEL_RETRY: woken by close, which already unlinked w. Start over, on whichever P we now
     * run: a tail call, so the straight line above keeps nothing for this rare case. */
    return chan_unbuf_again(c, op, elem);
}

/* Blocking send/receive on an unbuffered channel: claim a queued partner under the lock
 * (unbuf_locked), else queue a solo record and park. No generic op or wake records, so a
 * handoff makes no calls but the claim and the wake. */
static inline int chan_unbuf(struct rill_chan *c, int op, void *elem)
{
    struct rilli_p *p = rilli_cur_p(); /* one read for the wake or the park, whichever comes */
    struct rilli_sel *partner = NULL;
    rilli_lock_acquire(&c->lock);
    int r = unbuf_locked(c, op, elem, NULL, &partner);
    if (r == -EAGAIN)
        return chan_unbuf_park(c, op, elem, p);
    rilli_lock_release(&c->lock);
    if (partner)
        rilli_sel_wake_on(p, partner);
    return r;
}

/* chan_unbuf() out of line, for chan_unbuf_park()'s retry. */
static int __attribute__((noinline)) chan_unbuf_again(struct rill_chan *c, int op, void *elem)
{
    return chan_unbuf(c, op, elem);
}

/* Blocking single operation on a buffered channel: the slow path of send/recv. */
static int chan_block(struct rill_chan *c, int op, void *elem)
{
    for (;;) {
        struct rilli_p *p = rilli_cur_p(); /* read each round: we may have moved */
        struct rilli_sel sel;
        rilli_sel_init(&sel, p, 1);
        struct rilli_waiter w = {.elem = elem, .idx = 0, .sel = &sel};
        struct rilli_chan_wake wk = {0};
        rilli_lock_acquire(&c->lock);
        rilli_chan_enqueue(c, op, &w); /* before the re-try: see "No lost wakeup" */
        /* self NULL: a single operation has no record of its own queued anywhere yet */
        int r = rilli_chan_op_locked(c, op, elem, NULL, &wk);
        if (r != -EAGAIN) {
            rilli_chan_dequeue(c, op, &w);
            rilli_lock_release(&c->lock);
            rilli_chan_wake(c, &wk, p);
            return r;
        }
        rilli_lock_release(&c->lock);
        int st = rilli_sel_park_on(p, &sel, wait_reason(op), c);
        if (st >= 0)
            return sel.result; /* a waker completed it for us (wake_one) */
        /* SEL_RETRY: woken by space/data or close; the waker already unlinked w */
    }
}

/* ---- public API --------------------------------------------------------------------------- */

struct rill_chan *rill_chan_make(size_t elem_size, size_t cap)
{
    if (elem_size > RILL_CHAN_ELEM_MAX || cap > RILL_CHAN_CAP_MAX)
        return NULL;
    size_t one_lap = 1, stride = 0;
    if (cap) {
        while (one_lap < cap + 1)
            one_lap <<= 1;
        stride = (sizeof(struct cell) + elem_size + 7) & ~(size_t)7;
    }
    size_t hdr = (sizeof(struct rill_chan) + RILL_CACHELINE - 1) & ~(size_t)(RILL_CACHELINE - 1);
    size_t total = hdr + cap * stride;
    total = (total + RILL_CACHELINE - 1) & ~(size_t)(RILL_CACHELINE - 1);
    struct rill_chan *c = aligned_alloc(RILL_CACHELINE, total);
    if (!c)
        return NULL;
    memset(c, 0, hdr);
    c->esize = elem_size;
    c->cap = cap;
    c->one_lap = one_lap;
    c->stride = stride;
    c->cells = (unsigned char *)c + hdr;
    for (size_t i = 0; i < cap; i++)
        ((struct cell *)(void *)(c->cells + i * stride))->stamp = i;
    return c;
}

size_t rilli_chan_esize(const struct rill_chan *c)
{
    return c->esize;
}

void rilli_chan_set_timer(struct rill_chan *c, struct rilli_timer *t)
{
    c->timer = t;
}

void rill_chan_free(struct rill_chan *c)
{
    if (!c)
        return;
    /* Let a closer or waker that still holds the lock, or is about to wake someone after
     * its operation became visible, finish its last access (see PENDING at the top). */
    rilli_lock_acquire(&c->lock);
    rilli_lock_release(&c->lock);
    unsigned spins = 0;
    /* acq: pairs with the decrement in wake_one() */
    while ((rill_load_acq(&c->tail) | rill_load_acq(&c->head)) & PEND_MASK)
        backoff(&spins);
    if (c->timer) {
        rilli_timer_del(c->timer);
        free(c->timer);
    }
    free(c);
}

int rill_chan_send(struct rill_chan *c, const void *elem)
{
    if (rill_unlikely(!c || (!elem && c->esize)))
        return -EINVAL;
    if (c->cap) {
        int r = ring_push_fast(c, elem);
        if (rill_likely(r == 1))
            return 0;
        if (r == 0) {
            r = ring_push(c, elem);
            if (r == 0)
                return 0;
            if (r == 1) {
                wake_one(c, RILL_RECV);
                return 0;
            }
            if (r == -EPIPE)
                return r;
        }
        return chan_block(c, RILL_SEND, (void *)elem);
    }
    return chan_unbuf(c, RILL_SEND, (void *)elem);
}

int rill_chan_recv(struct rill_chan *c, void *elem)
{
    if (rill_unlikely(!c))
        return -EINVAL;
    if (c->cap) {
        int r = ring_pop_fast(c, elem);
        if (rill_likely(r == 1))
            return 0;
        if (r == 0) {
            r = ring_pop(c, elem);
            if (r == 0)
                return 0;
            if (r == 1) {
                wake_one(c, RILL_SEND);
                return 0;
            }
            if (r == -EPIPE) {
                elem_zero(elem, c->esize);
                return r;
            }
        }
        return chan_block(c, RILL_RECV, elem);
    }
    return chan_unbuf(c, RILL_RECV, elem);
}

int rill_chan_try_send(struct rill_chan *c, const void *elem)
{
    if (!c || (!elem && c->esize))
        return -EINVAL;
    return rilli_chan_try_op(c, RILL_SEND, (void *)elem, NULL, NULL);
}

int rill_chan_try_recv(struct rill_chan *c, void *elem)
{
    if (!c)
        return -EINVAL;
    return rilli_chan_try_op(c, RILL_RECV, elem, NULL, NULL);
}

int rill_chan_close(struct rill_chan *c)
{
    if (!c)
        return -EINVAL;
    rilli_lock_acquire(&c->lock);
    if (c->closed) {
        rilli_lock_release(&c->lock);
        return -EPIPE;
    }
    rill_store_relaxed(&c->closed, 1); /* relaxed: peeked without the lock (try_op) */
    if (c->cap)
        rill_for_acqrel(&c->tail, CLOSED); /* acq_rel: fails every later send's CAS */
    struct rilli_waiter *wake = rilli_waitq_claim_all(&c->recvq, NULL);
    wake = rilli_waitq_claim_all(&c->sendq, wake);
    flag_sync(c, RILL_RECV);
    flag_sync(c, RILL_SEND);
    rilli_lock_release(&c->lock);
    rilli_waitq_wake_all(wake);
    return 0;
}

size_t rill_chan_cap(struct rill_chan *c)
{
    return c ? c->cap : 0;
}

size_t rill_chan_len(struct rill_chan *c)
{
    if (!c || !c->cap)
        return 0;
    for (;;) {
        /* acq: a consistent snapshot is one where tail did not move while head was read */
        uint64_t t = rill_load_acq(&c->tail) & POS_MASK;
        uint64_t h = rill_load_acq(&c->head) & POS_MASK;
        if ((rill_load_acq(&c->tail) & POS_MASK) != t)
            continue;
        uint64_t mask = c->one_lap - 1;
        uint64_t hi = h & mask, ti = t & mask;
        if (hi < ti)
            return ti - hi;
        if (hi > ti)
            return c->cap - hi + ti;
        return t == h ? 0 : c->cap;
    }
}
