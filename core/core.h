/*
 * core.h - internal interface of the core module: goroutines (G), stacks, the switch glue,
 * wait records shared by channels, select and sync. Design: docs/DESIGN.md "Goroutines",
 * "Stacks", "Channels".
 *
 * Other modules include this header only, never the .c internals of core.
 */
#ifndef RILL_CORE_CORE_H
#define RILL_CORE_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/assert.h"
#include "core/atomic.h"
#include "rill.h"

struct rilli_p;
struct rilli_slab;

/* G status. Written by the G itself or by the P that runs it; read by the deadlock report. */
enum {
    G_IDLE = 0,     /* in a free pool, no goroutine */
    G_RUNNABLE = 1, /* on a run queue */
    G_RUNNING = 2,  /* on a worker */
    G_WAITING = 3,  /* parked; wait_reason says on what */
    G_DEAD = 4,     /* returned; its stack is released after the next switch */
};

/*
 * One goroutine. The struct lives in its slab's header array, outside the stack, so a free
 * stack can be returned to the kernel without losing the pool links.
 *
 * Ownership: sp is the handoff word between the thread leaving the G and the thread entering
 * it (see g_switch in sched/sched.c). All other fields belong to whoever runs the G, or to the pool
 * that holds it while it is idle.
 */
struct rilli_g {
    void *sp;            /* saved stack pointer; NULL while running or being entered */
    uint64_t id;         /* 1 = main; fresh per spawn */
    int status;          /* G_*; relaxed: read racily only by the deadlock report */
    const char *wait_reason; /* what a G_WAITING G waits on ("chan receive", ...) */
    const void *wait_obj;    /* the channel / mutex / waitgroup it waits on, or NULL */
    void (*fn)(void *);  /* entry function, kept for the deadlock report */
    void *arg;           /* fn's argument (points into the stack when copied) */
    struct rilli_g *next; /* run-queue-global / free-list link (owner of that list) */
    struct rilli_g *prev; /* global stack pool link (stack.c lock) */
    char *stack_lo;      /* lowest usable byte (just above the guard page or canary) */
    char *stack_hi;      /* one past the highest byte; 16-byte aligned */
    struct rilli_slab *slab;
    uint64_t *canary;    /* unguarded stacks: the word an overflow hits first; else NULL */
    uint8_t guarded;     /* a guard page (marker or PROT_NONE) sits below stack_lo */
    uint8_t guard_todo;  /* its guard is installed when it is first handed out (stack.c) */
    uint8_t main;        /* this G runs rill_run's main: its return stops the runtime */
    void *recover;       /* innermost rill_recover frame (panic.c), NULL if none */
    struct rill_ctx *ctx; /* context bound by rill_ctx_bind (io/ctx.c), NULL if none */
    void *asan_fake;     /* ASan fake-stack handle while switched out */
    void *tsan_fiber;    /* TSan fiber of this G (created with the G, reused across spawns) */
};

/* ---- g.c: spawn, switch, exit -------------------------------------------------------- */

/* Allocate and prepare a G to run fn(arg); copies arg_size bytes onto its stack when > 0.
 * Any context. NULL with *err set (-ENOMEM, -EINVAL). */
struct rilli_g *rilli_g_new(struct rilli_p *p, void (*fn)(void *), const void *arg,
                            size_t arg_size, int *err);
/* C entry of a new goroutine (called from rilli_ctx_entry); p is the P that entered it. */
__attribute__((noreturn)) void rilli_g_main(struct rilli_g *g, struct rilli_p *p);
/* Print one line per G, with where a parked one is (frame-pointer walk). Runtime stopped. */
int rilli_g_report_blocked(void);

/* ---- stack.c: stacks and their pools --------------------------------------------------- */

struct stack_cache {
    struct rilli_g *head; /* free Gs with hot stacks; owner P only */
    unsigned n;
};
void rilli_stack_global_init(size_t stack_size, unsigned flags);
void rilli_stack_global_fini(void);
/* A G with a stack, from the P's cache (p may be NULL: global pool). NULL on ENOMEM. */
struct rilli_g *rilli_stack_get(struct rilli_p *p);
/* Return a dead G; p NULL or not the current P means the global pool. Scheduler context,
 * never on the G's own stack. */
void rilli_stack_put(struct rilli_p *p, struct rilli_g *g);
/* Flush a P's cache to the global pool (P teardown). */
void rilli_stack_cache_flush(struct stack_cache *c);
/* Is addr inside g's guard page? For the SIGSEGV handler. */
int rilli_stack_in_guard(const struct rilli_g *g, const void *addr);
/* Canary check for unguarded stacks; throws "goroutine N: stack overflow" on damage. */
void rilli_stack_check(const struct rilli_g *g);
/* Call fn on every G that was ever allocated (runtime stopped or all Ps idle). */
void rilli_stack_foreach_g(void (*fn)(struct rilli_g *, void *), void *arg);
size_t rilli_stack_size(void);
/* Give old wholly free slabs back to the kernel (see stack.c "Pools"). Returns when the next
 * one comes of age, or INT64_MAX. Any context. */
int64_t rilli_stack_scavenge(int64_t now);
/* Bytes from the top of a stack chunk to its floor: how far an overflow can run down
 * through unguarded stacks before it faults (panic.c). */
size_t rilli_stack_chunk_span(void);

/* ---- waitq.c: wait records ------------------------------------------------------------ */

/*
 * A blocking operation (a send, a receive, a whole select, a lock, a wait) owns one
 * struct rilli_sel on the waiter's stack, and one struct rilli_waiter per channel it is
 * queued on. Whoever completes the operation first claims it with one CAS on sel->state
 * (WAITING -> a case index, SEL_RETRY or SEL_TIMEOUT); only the winner may touch the
 * waiter's elem and only the winner wakes it. The waiter stays parked until woken, and
 * removes its remaining records from every queue before its stack frame goes away.
 */
enum { SEL_WAITING = -1, SEL_RETRY = -2, SEL_TIMEOUT = -3 };
#define SEL_CLAIM_IDX (-100) /* rilli_waitq_claim: claim with the record's own idx */

struct rilli_sel {
    struct rilli_g *g;   /* parked goroutine, or NULL for a thread the runtime did not make */
    int state;           /* SEL_WAITING until claimed (CAS, acq_rel) */
    int result;          /* 0 or -EPIPE for the claimed case; written by the claimer before wake */
    uint32_t futex;      /* foreign thread: 0 -> 1 on wake (futex word) */
    int solo;            /* queued on one queue only, no deadline: every claimer holds that
                            queue's lock, so the claim needs no CAS */
    int dup;             /* a select (!solo) with two cases on one channel: set by select,
                            read only when !solo (chan.c unlink_sel) */
};

struct rilli_waiter {
    struct rilli_waiter *next, *prev; /* in a channel's queue; owned by the channel lock */
    struct rilli_sel *sel;
    void *elem;  /* value source (send) or destination (recv) for a direct handoff */
    int idx;     /* the case index reported to sel on a handoff */
    int queued;  /* linked in a queue; channel lock */
};

struct rilli_waitq {
    struct rilli_waiter *head, *tail; /* FIFO; the owning structure's lock protects both */
};

void rilli_waitq_push(struct rilli_waitq *q, struct rilli_waiter *w);
/* Unlink w if it is queued on q. Lock held. */
static inline void rilli_waitq_remove(struct rilli_waitq *q, struct rilli_waiter *w)
{
    if (!w->queued)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        rill_store_relaxed(&q->head, w->next); /* relaxed: as in rilli_waitq_push() */
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->next = w->prev = NULL;
    w->queued = 0;
}
struct rilli_waiter *rilli_waitq_claim_scan(struct rilli_waitq *q, int state,
                                            const struct rilli_sel *self);
/* Pop waiters until one whose sel is claimed with 'state'; skip (drop) waiters already
 * claimed by someone else, and those whose sel is 'self' (a select never pairs with itself:
 * those stay queued). Lock held. NULL if none. Inline for the common case, a solo head (a
 * blocking send, receive, lock or wait): never a select's own, and claimed without a CAS
 * because its only claimers hold this queue's lock; the rest is rilli_waitq_claim_scan. */
static inline struct rilli_waiter *rilli_waitq_claim(struct rilli_waitq *q, int state,
                                                     const struct rilli_sel *self)
{
    struct rilli_waiter *w = q->head;
    if (!w)
        return NULL;
    if (!w->sel->solo)
        return rilli_waitq_claim_scan(q, state, self);
    rilli_waitq_remove(q, w);
    /* relaxed: the owner reads state after its wake, which orders it (ready or futex) */
    rill_store_relaxed(&w->sel->state, state == SEL_CLAIM_IDX ? w->idx : state);
    return w;
}
/* Claim every waiter of q with SEL_RETRY, linking the winners through ->next onto list.
 * Lock held. Returns the new list head. */
struct rilli_waiter *rilli_waitq_claim_all(struct rilli_waitq *q, struct rilli_waiter *list);
/* Wake every waiter of a claimed list. No lock held. */
void rilli_waitq_wake_all(struct rilli_waiter *list);
static inline int rilli_waitq_empty(const struct rilli_waitq *q)
{
    return q->head == NULL;
}
/* Try to claim sel for state; 1 on success. */
int rilli_sel_claim(struct rilli_sel *sel, int state);
/* rilli_sel_wake (sched/sched.h) for a thread the runtime did not make: futex. */
void rilli_sel_wake_thread(struct rilli_sel *sel);
/* Park the caller until its sel is claimed (goroutine: park; thread: futex wait).
 * deadline (absolute ns, RILL_FOREVER) arms a timer that claims with SEL_TIMEOUT.
 * reason/obj describe the wait for the deadlock report. Returns sel->state. */
int rilli_sel_wait(struct rilli_sel *sel, int64_t deadline, const char *reason, const void *obj);

/* A spinlock for wait queues; held for a few instructions, never across a park. Spins with
 * pause, then yields the thread, so a preempted holder does not burn a core. */
typedef struct {
    uint32_t v;
} rilli_lock;
void rilli_lock_slow(rilli_lock *l);
static inline void rilli_lock_acquire(rilli_lock *l)
{
    /* acq: pairs with the rel store in rilli_lock_release(); the previous holder's writes
     * to the protected data are visible. */
    if (rill_likely(rill_xchg_acqrel(&l->v, 1) == 0))
        return;
    rilli_lock_slow(l);
}
static inline void rilli_lock_release(rilli_lock *l)
{
    rill_store_rel(&l->v, 0); /* rel: pairs with the acq xchg in rilli_lock_acquire() */
}

/* ---- chan.c, for select.c and timer channels ------------------------------------------- */

/* Non-blocking single operations (0, -EAGAIN, -EPIPE). 'self' is the caller's own sel, whose
 * queued records must not be paired with (NULL outside select). p: the current P if the
 * caller read it since its last switch, else NULL (then looked up if a wake needs it). */
int rilli_chan_try_op(struct rill_chan *c, int op, void *elem, const struct rilli_sel *self,
                      struct rilli_p *p);
/* What an operation done under the lock leaves to do once the lock is dropped. */
struct rilli_chan_wake {
    struct rilli_sel *sel; /* an unbuffered partner to wake */
    int op;                /* or: wake one waiter of this queue (RILL_SEND/RILL_RECV) */
};
/* One operation with c's lock held; never blocks. 0, -EAGAIN, -EPIPE. */
int rilli_chan_op_locked(struct rill_chan *c, int op, void *elem, const struct rilli_sel *self,
                         struct rilli_chan_wake *wk);
/* Do what wk says; no channel lock held. p: as for rilli_chan_try_op(). */
void rilli_chan_wake(struct rill_chan *c, struct rilli_chan_wake *wk, struct rilli_p *p);
void rilli_chan_lock(struct rill_chan *c);
void rilli_chan_unlock(struct rill_chan *c);
/* Queue / unqueue a waiter for op on c. Channel lock held. */
void rilli_chan_enqueue(struct rill_chan *c, int op, struct rilli_waiter *w);
void rilli_chan_dequeue(struct rill_chan *c, int op, struct rilli_waiter *w);
struct rilli_timer;
/* c's element size (0: a signal channel). Any context. */
size_t rilli_chan_esize(const struct rill_chan *c);
/* Attach a timer the channel owns (rill_after/rill_tick): rill_chan_free stops it first. */
void rilli_chan_set_timer(struct rill_chan *c, struct rilli_timer *t);

/* ---- panic.c ------------------------------------------------------------------------------ */
void rilli_panic_install(void);   /* process-wide SIGSEGV handler; idempotent */
int rilli_altstack_init(void);    /* per worker thread: sigaltstack for the handler */
void rilli_altstack_fini(void);

/* ---- sanitizer glue ------------------------------------------------------------------------ */
#if defined(__SANITIZE_ADDRESS__)
#define RILL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RILL_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define RILL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RILL_TSAN 1
#endif
#endif

#ifdef RILL_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define rill_tsan_acquire(a) __tsan_acquire((void *)(a))
#define rill_tsan_release(a) __tsan_release((void *)(a))
#else
#define rill_tsan_acquire(a) ((void)0)
#define rill_tsan_release(a) ((void)0)
#endif

#endif
