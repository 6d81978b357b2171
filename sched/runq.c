/*
 * runq.c - per-P run queues on Concurrency Kit's SPMC ring, and the global injection queue.
 * Design: docs/DESIGN.md "Run queues and stealing".
 *
 * A P's queue is a ck_ring used single-producer/multi-consumer: only the owner enqueues; the
 * owner and thieves dequeue with ck_ring_dequeue_spmc (a CAS on the consumer index), so a
 * thief never blocks the owner. A thief takes half of the victim's queue (at least one G),
 * which amortises the cost of finding work over many Gs, as Go's runqsteal does. The owner's
 * per-switch operations (put, push, get, empty) are inline in sched.h; which victims a thief
 * may take from is decided in sched.c (steal_round).
 *
 * The global queue takes Gs from threads without a P (rill_go from a foreign thread, wakes
 * by a foreign thread) and the overflow of a full local queue. It is a FIFO under a spinlock,
 * as Go's sched.runq is under sched.lock: it is touched rarely, and gq_n lets every P test
 * it for emptiness without the lock.
 *
 * ck_ring's own fences are inline asm that ThreadSanitizer cannot see; the tsan_release /
 * tsan_acquire annotations on each G tell it what the ring's release/acquire already does.
 */
#include "sched/sched.h"

struct rilli_g *rilli_spawnnext_take(struct rilli_p *p)
{
    if (!rill_load_relaxed(&p->spawnnext)) /* relaxed: a hint; the xchg decides */
        return NULL;
    /* acq_rel: pairs with the xchg in rill_go(): the G's frame, written before, is seen */
    struct rilli_g *g = rill_xchg_acqrel(&p->spawnnext, NULL);
    if (g)
        rill_tsan_acquire(g);
    return g;
}

struct rilli_g *rilli_runq_steal(struct rilli_p *p, struct rilli_p *victim, unsigned min,
                                 unsigned max)
{
    unsigned n = ck_ring_size(&victim->runq);
    if (n == 0 || n < min) /* a lone fresh spawn only once any G may be taken */
        return min <= 1 ? rilli_spawnnext_take(victim) : NULL;
    unsigned take = n - n / 2;
    if (take > max)
        take = max;
    struct rilli_g *first = rilli_runq_get(victim);
    if (!first)
        return NULL;
    for (unsigned i = 1; i < take; i++) {
        struct rilli_g *g = rilli_runq_get(victim);
        if (!g)
            break;
        if (!rilli_runq_put(p, g)) {
            rilli_gq_put(g);
            break;
        }
    }
    return first;
}

/* Append a chain of n Gs (linked through next, NULL-terminated) to the global queue. */
static void gq_put_list(struct rilli_g *head, struct rilli_g *tail, uint32_t n)
{
    rilli_lock_acquire(&rilli_sched.gq_lock);
    if (rilli_sched.gq_tail)
        rilli_sched.gq_tail->next = head;
    else
        rilli_sched.gq_head = head;
    rilli_sched.gq_tail = tail;
    /* rel: gq_n is read without the lock as an emptiness hint (rilli_gq_get, the idle
     * re-check); the lock still orders the list itself. */
    rill_store_rel(&rilli_sched.gq_n, rilli_sched.gq_n + n);
    rilli_lock_release(&rilli_sched.gq_lock);
}

/* The full-queue path of rilli_runq_push, out of line so that the common push saves no
 * registers. */
__attribute__((noinline, cold)) void rilli_runq_spill(struct rilli_p *p, struct rilli_g *g)
{
    /* Full: the older half goes to the global queue in one batch, as Go's runqputslow does,
     * and g stays local. The local queue then holds the newest work, so a tree of
     * goroutines that each spawn and wait (skynet) runs close to depth-first and recycles
     * hot stacks, instead of keeping a whole level alive; the global queue is served every
     * GLOBAL_TICK picks and whenever the local queue runs dry. */
    struct rilli_g *head = NULL, *tail = NULL;
    uint32_t n = 0;
    while (n < RUNQ_SIZE / 2) {
        struct rilli_g *o = rilli_runq_get(p); /* a thief may race us for each: fine */
        if (!o)
            break;
        o->next = NULL;
        if (tail)
            tail->next = o;
        else
            head = o;
        tail = o;
        n++;
    }
    if (n)
        gq_put_list(head, tail, n);
    if (!rilli_runq_put(p, g))
        rilli_gq_put(g);
}

void rilli_gq_put(struct rilli_g *g)
{
    g->next = NULL;
    gq_put_list(g, g, 1);
}

struct rilli_g *rilli_gq_get(struct rilli_p *p, int batch)
{
    /* acq: pairs with the rel store in rilli_gq_put(); a stale 0 only delays the G until the
     * next check, and the idle path re-checks after a seq_cst fence (park.c). */
    if (rill_load_acq(&rilli_sched.gq_n) == 0)
        return NULL;
    rilli_lock_acquire(&rilli_sched.gq_lock);
    struct rilli_g *first = rilli_sched.gq_head;
    if (!first) {
        rilli_lock_release(&rilli_sched.gq_lock);
        return NULL;
    }
    struct rilli_g *g = first->next;
    uint32_t taken = 1;
    while (g && (int)taken < batch && rilli_runq_put(p, g)) {
        g = g->next;
        taken++;
    }
    rilli_sched.gq_head = g;
    if (!g)
        rilli_sched.gq_tail = NULL;
    rill_store_rel(&rilli_sched.gq_n, rilli_sched.gq_n - taken); /* rel: as in rilli_gq_put */
    rilli_lock_release(&rilli_sched.gq_lock);
    return first;
}

#ifdef RILL_TSAN
/*
 * ck_ring copies slots with plain memcpy and validates them afterwards with its own (inline
 * asm, so invisible) CAS on the indices: a consumer may read a slot a producer is writing and
 * then discard it. That race is the ring's design, not ours; the G itself is synchronised by
 * the tsan_release/tsan_acquire pair above. Suppress reports inside ck_ring only.
 */
/* default visibility: the TSan runtime is a shared library and looks the hook up by name */
__attribute__((visibility("default"))) const char *__tsan_default_suppressions(void);
__attribute__((visibility("default"))) const char *__tsan_default_suppressions(void)
{
    return "race:_ck_ring_\nrace:ck_ring_\n";
}
#endif
