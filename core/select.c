/*
 * select.c - rill_select: wait on several channel operations, perform exactly one.
 * Design: docs/DESIGN.md "Select".
 *
 * 1. Validate (as the single operations: a send case needs a value unless its channel has
 *    elem_size 0); build a random permutation of the non-nil cases (poll order: a uniform choice
 *    among ready cases, as Go's); the distinct channels sorted by address (lock order) are
 *    built only if the fast pass fails.
 * 2. Fast pass, no locks held across cases: try each case once in poll order (lock-free for
 *    buffered channels). The first that succeeds wins. deadline == 0 stops here (-EAGAIN).
 * 3. Slow pass: lock every channel (address order), queue one record per case (all sharing
 *    one struct rilli_sel), then try each case again in poll order, skipping our own records,
 *    so a select never pairs with itself. Holding every lock, nobody can claim us meanwhile,
 *    so on success we unlink all records and return. Otherwise unlock and park (with a timer
 *    for the deadline).
 * 4. Woken: the claimer set sel.state to a case index (an unbuffered partner completed that
 *    case: done), SEL_TIMEOUT, or SEL_RETRY (a buffered channel changed, or one closed: go
 *    to 2). Before returning, lock all and unlink the records still queued.
 *
 * Rejected: Go's single locked pass without the fast pass (select2 on buffered channels
 * would take n locks per call); blocking without queueing on every channel (a select must be
 * wakeable by any of its cases).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/core.h"
#include "sched/sched.h"

#define SMALL 8

struct sel_state {
    struct rill_case *cases;
    uint16_t *order;            /* poll order: indices of non-nil cases */
    struct rill_chan **locks;   /* distinct channels, address order */
    struct rilli_waiter *w;     /* one record per case */
    size_t norder, nlocks;
    struct rilli_p *p;          /* the current P, read again after every park (NULL: none) */
};

/* Lock, unlock or leave the queues of every channel but skip (NULL: all). */
static void lock_all(struct sel_state *s, const struct rill_chan *skip)
{
    for (size_t i = 0; i < s->nlocks; i++)
        if (s->locks[i] != skip)
            rilli_chan_lock(s->locks[i]);
}

static void unlock_all(struct sel_state *s, const struct rill_chan *skip)
{
    for (size_t i = s->nlocks; i-- > 0;)
        if (s->locks[i] != skip)
            rilli_chan_unlock(s->locks[i]);
}

static void dequeue_all(struct sel_state *s, const struct rill_chan *skip)
{
    for (size_t k = 0; k < s->norder; k++) {
        int i = s->order[k];
        if (s->cases[i].chan != skip)
            rilli_chan_dequeue(s->cases[i].chan, s->cases[i].op, &s->w[i]);
    }
}

/* Check the cases (as the single operations do: a send needs a value unless its channel has
 * elem_size 0) and build the poll order, a uniform random permutation of the live cases, in
 * one pass: 0 or -EINVAL. Fisher-Yates, inside out. One rilli_rand() yields two 16-bit
 * draws; j = draw * (m + 1) >> 16 is uniform on [0, m] up to a bias of m / 65536: under 0.2%
 * at RILL_SELECT_MAX (128) cases. */
static int setup_order(struct sel_state *s, size_t n)
{
    s->norder = 0;
    uint32_t bits = 0;
    int left = 0;
    for (size_t i = 0; i < n; i++) {
        const struct rill_case *k = &s->cases[i];
        if (k->op != RILL_SEND && k->op != RILL_RECV)
            return -EINVAL; /* a nil case's op too: it is still a bad case */
        if (!k->chan)
            continue;
        if (k->op == RILL_SEND && !k->elem && rilli_chan_esize(k->chan))
            return -EINVAL;
        if (!left) {
            bits = rilli_rand_on(s->p);
            left = 2;
        }
        size_t j = ((bits & 0xffff) * (s->norder + 1)) >> 16;
        bits >>= 16;
        left--;
        s->order[s->norder] = s->order[j];
        s->order[j] = (uint16_t)i;
        s->norder++;
    }
    return 0;
}

/* The distinct channels in address order (the lock order); only the slow pass needs it.
 * Insertion sort: the shift is written into the search loop (a separate shift loop becomes a
 * memmove call), and a duplicate, which is rare, is shifted back out. */
static void setup_locks(struct sel_state *s)
{
    s->nlocks = 0;
    for (size_t k = 0; k < s->norder; k++) {
        struct rill_chan *c = s->cases[s->order[k]].chan;
        size_t m = s->nlocks;
        while (m > 0 && s->locks[m - 1] > c) {
            s->locks[m] = s->locks[m - 1];
            m--;
        }
        if (m > 0 && s->locks[m - 1] == c) {
            for (; m < s->nlocks; m++)
                s->locks[m] = s->locks[m + 1];
            continue;
        }
        s->locks[m] = c;
        s->nlocks++;
    }
}

static int fast_pass(struct sel_state *s)
{
    for (size_t k = 0; k < s->norder; k++) {
        struct rill_case *cs = &s->cases[s->order[k]];
        int r = rilli_chan_try_op(cs->chan, cs->op, cs->elem, NULL, s->p);
        if (r != -EAGAIN) {
            cs->result = r;
            return s->order[k];
        }
    }
    return -EAGAIN;
}

/* Slow pass and wait. Returns a case index, -ETIMEDOUT, or SEL_RETRY. */
static int slow_pass(struct sel_state *s, int64_t deadline)
{
    struct rilli_sel sel;
    rilli_sel_init(&sel, s->p, 0);
    sel.dup = s->nlocks < s->norder; /* fewer distinct channels than cases */
    struct rilli_chan_wake wk = {0};
    lock_all(s, NULL);
    for (size_t k = 0; k < s->norder; k++) {
        int i = s->order[k];
        s->w[i] = (struct rilli_waiter){.sel = &sel, .elem = s->cases[i].elem, .idx = i};
        rilli_chan_enqueue(s->cases[i].chan, s->cases[i].op, &s->w[i]);
    }
    for (size_t k = 0; k < s->norder; k++) {
        int i = s->order[k];
        struct rill_case *cs = &s->cases[i];
        int r = rilli_chan_op_locked(cs->chan, cs->op, cs->elem, &sel, &wk);
        if (r != -EAGAIN) {
            dequeue_all(s, NULL);
            unlock_all(s, NULL);
            rilli_chan_wake(cs->chan, &wk, s->p);
            cs->result = r;
            return i;
        }
    }
    unlock_all(s, NULL);
    int st = deadline == RILL_FOREVER ? rilli_sel_park_on(s->p, &sel, "select", NULL)
                                      : rilli_sel_wait(&sel, deadline, "select", NULL);
    s->p = rilli_cur_p(); /* we may have moved */
    /* Won through a channel: its partner already took every record of ours off it
     * (unlink_sel in chan.c) and may have freed it since, as a receiver may once it has the
     * value; so leave that channel alone. The lock of every other one still waits out anyone
     * who met a record of ours there. */
    const struct rill_chan *won = st >= 0 ? s->cases[st].chan : NULL;
    lock_all(s, won);
    dequeue_all(s, won);
    unlock_all(s, won);
    if (st >= 0) {
        s->cases[st].result = sel.result;
        return st;
    }
    return st == SEL_TIMEOUT ? -ETIMEDOUT : SEL_RETRY;
}

int rill_select(struct rill_case *cases, size_t n, int64_t deadline)
{
    if (n > RILL_SELECT_MAX || (n > 0 && !cases))
        return -EINVAL;
    /* a negative deadline but RILL_FOREVER is already past: -ETIMEDOUT below, unless a case
     * is ready (rill.h) */
    uint16_t order_s[SMALL];
    struct rill_chan *locks_s[SMALL];
    struct rilli_waiter w_s[SMALL];
    struct sel_state s = {
        .cases = cases, .order = order_s, .locks = locks_s, .w = w_s, .p = rilli_cur_p()};
    void *heap = NULL;
    if (n > SMALL) {
        heap = malloc(n * (sizeof(uint16_t) + sizeof(struct rill_chan *) +
                           sizeof(struct rilli_waiter)));
        if (!heap)
            return -ENOMEM;
        s.w = heap;
        s.locks = (struct rill_chan **)(s.w + n);
        s.order = (uint16_t *)(s.locks + n);
    }
    s.nlocks = SIZE_MAX; /* built on the first slow pass */
    int r = setup_order(&s, n);
    while (r == 0) { /* r is a case index from here on; 0 breaks out below too */
        r = fast_pass(&s);
        if (r != -EAGAIN)
            break;
        if (deadline == 0)
            break;
        if (deadline != RILL_FOREVER && rill_now() >= deadline) {
            r = -ETIMEDOUT;
            break;
        }
        if (s.nlocks == SIZE_MAX)
            setup_locks(&s);
        r = slow_pass(&s, deadline);
        if (r != SEL_RETRY)
            break;
        r = 0; /* go round again */
    }
    if (heap)
        free(heap);
    return r;
}
