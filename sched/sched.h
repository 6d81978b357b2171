/*
 * sched.h - internal interface of the scheduler: Ps, run queues, ready/park, idle and wake.
 * Design: docs/DESIGN.md "Scheduler".
 *
 * Model (after Go's G/M/P): a P is a worker thread with its own run queue, timer heap, stack
 * cache and io_uring. rill binds each P to one thread for its whole life (rill never hands a
 * P to another thread, since blocking work is never done on a worker), so "the current P" and
 * "the current worker thread" are the same thing.
 */
#ifndef RILL_SCHED_SCHED_H
#define RILL_SCHED_SCHED_H

#include <ck_ring.h>
#include <pthread.h>
#include <stdint.h>

#include "core/core.h"
#include "io/io.h"

#define SPIN_STACK (32 * 1024) /* room for a signal frame with AVX-512 state */
#define RUNQ_SIZE 256 /* ck_ring slots (power of two); holds RUNQ_SIZE - 1 Gs */

struct rilli_p {
    /* ---- owner worker only --------------------------------------------------------------- */
    struct rilli_g *cur;      /* G running on this P (NULL in the scheduler loop) */
    struct rilli_g g0;        /* the worker's own stack: the scheduler loop runs here */
    struct rilli_g *runnext;  /* G to run next (woken by this P's channel op). The owner
                                 reads and writes it with plain accesses; a thief may take
                                 it from a stuck victim (see struct runnext_steal) */
    uint32_t rn_seq;          /* a thief's attempts on runnext, announced: thieves bump it
                                 (rarely), the owner reads it after each take or placement */
    uint32_t rn_seen;         /* rn_seq as of the owner's last resolve */
    struct rilli_g *dead;     /* G that exited; its stack is recycled after the next switch */
    struct rilli_g *timerq, *timerq_tail; /* Gs woken by timers this P fired: run before
                                             the run queue (Go readies them into runnext) */
    uint32_t timerq_streak;   /* consecutive timerq picks; bounds runq starvation */
    uint32_t picks;           /* counts picks; paces global-queue and timer checks */
    uint32_t yields;          /* counts rill_yield calls */
    uint32_t runnext_streak;  /* consecutive runnext picks; bounds runq starvation */
    uint64_t rand;            /* xorshift state for select and steal order */
    int spinning;             /* counted in sched.nspinning */
    int id;
    struct stack_cache stacks;
    struct io_p io;
    pthread_t thread;
    char spin_stack[SPIN_STACK] __attribute__((aligned(16))); /* rilli_ctx_switch waits here */
    struct rilli_g *tsan_next; /* TSan builds: G that g0 must enter next (g.c) */
    struct steal_seen {        /* what this P, spinning, last saw of each victim (sched.c) */
        uint32_t tick;         /* the victim's schedtick */
        uint32_t yields;       /* the victim's nyield */
        int64_t since;         /* when this P first saw that tick; 0: never */
        int64_t seen;          /* when this P last looked; 0: never */
    } steal_seen[RILL_WORKERS_MAX];

    /* ---- shared ------------------------------------------------------------------------ */
    ck_ring_t runq rill_cacheline_aligned; /* SPMC: owner enqueues and dequeues, thieves dequeue */
    ck_ring_buffer_t runq_buf[RUNQ_SIZE];
    struct rilli_g *spawnnext rill_cacheline_aligned; /* the newest G a goroutine spawned here:
                                         runs when the spawner blocks; owner and thieves xchg */
    /* picks and yields as thieves see them (relaxed): the owner only stores here, so a
     * thief watching it (victim_stuck) never turns the owner's own loads into misses */
    uint32_t schedtick rill_cacheline_aligned;
    uint32_t nyield;
    int idle rill_cacheline_aligned; /* 1: on the idle list (sleeps or about to); CAS by wakers */
    /* A thief's attempts on runnext (sched.c, "Taking runnext"): one at a time, under lock. */
    struct runnext_steal {
        int lock;              /* held by the thief making an attempt, or the owner resolving */
        struct rilli_g *g;     /* a G taken and not yet resolved by the owner, or NULL */
    } rn_steal rill_cacheline_aligned;
    struct timer_heap timers;
};

struct rilli_sched {
    int nproc;                       /* number of Ps; fixed while running */
    struct rilli_p **allp;
    int running;                     /* a runtime is up (rill_go's -ESRCH check) */
    int stopping;                    /* main returned, or deadlock: workers leave their loop */
    int deadlock;                    /* set with stopping when no G can ever run again */
    uint64_t next_id rill_cacheline_aligned; /* goroutine ids */
    /* global run queue (injection): threads without a P, and run-queue overflow */
    rilli_lock gq_lock rill_cacheline_aligned;
    struct rilli_g *gq_head, *gq_tail; /* gq_lock */
    uint32_t gq_n;                     /* written under gq_lock, read relaxed as a hint */
    int npidle rill_cacheline_aligned; /* Ps with idle == 1 */
    int nspinning;                     /* Ps looking for work without sleeping */
    int nforeign;                      /* foreign threads blocked inside a rill call */
    int npending;                      /* events that will ready a parked G: I/O in flight,
                                          rill_blocking calls; atomic */
    int nwakers;                       /* threads without a P touching the Ps (rilli_ready,
                                          rilli_io_cancel_fd); atomic */
    int nhelpers;                      /* threads rill runs besides the workers (offload
                                          pool); atomic */
    int base_threads;                  /* process threads when rill_run started */
    pthread_mutex_t run_lock;          /* serialises rill_run */
};

extern struct rilli_sched rilli_sched;

/* runq.c. The owner's per-switch operations are inline here: every yield and park does a
 * push or a get, and a call each cost more than the ring operation itself. */
void rilli_runq_spill(struct rilli_p *p, struct rilli_g *g);    /* owner; queue full */
struct rilli_g *rilli_spawnnext_take(struct rilli_p *p);        /* owner or thief */
/* Thief: take half of victim's queue, at most max Gs, if it holds at least min Gs. */
struct rilli_g *rilli_runq_steal(struct rilli_p *p, struct rilli_p *victim, unsigned min,
                                 unsigned max);

/* Owner: append g; 0 when the queue is full. */
static inline int rilli_runq_put(struct rilli_p *p, struct rilli_g *g)
{
    rill_tsan_release(g);
    return ck_ring_enqueue_spmc(&p->runq, p->runq_buf, g);
}

/* Owner: append g; a full queue spills half of itself to the global queue. */
static inline void rilli_runq_push(struct rilli_p *p, struct rilli_g *g)
{
    if (rill_unlikely(!rilli_runq_put(p, g)))
        rilli_runq_spill(p, g);
}

/* Owner (and rilli_runq_steal() on a victim): the oldest G, or NULL. */
static inline struct rilli_g *rilli_runq_get(struct rilli_p *p)
{
    void *v;
    /* With one P there are no thieves (only Ps steal, and nproc is fixed while running):
     * the owner is the only consumer, and the single-consumer dequeue needs no CAS. */
    bool got = rilli_sched.nproc == 1 ? ck_ring_dequeue_spsc(&p->runq, p->runq_buf, &v)
                                      : ck_ring_dequeue_spmc(&p->runq, p->runq_buf, &v);
    if (!got)
        return NULL;
    rill_tsan_acquire(v);
    return v;
}

static inline int rilli_runq_empty(struct rilli_p *p)
{
    /* relaxed: a hint, as ck_ring_size is; the idle and deadlock re-checks order it */
    return ck_ring_size(&p->runq) == 0 && !rill_load_relaxed(&p->spawnnext);
}

/* The current P, NULL on threads the runtime did not create. Not inlined and not pure, so the
 * compiler never caches it across a context switch (a G may resume on another thread). */
struct rilli_p *rilli_cur_p(void);
void rilli_set_cur_p(struct rilli_p *p);
/* The running G, NULL outside goroutines. Same caveat. */
struct rilli_g *rilli_cur_g(void);

/* Make g runnable. next: put it in the current P's runnext (a channel partner). Any context. */
void rilli_ready(struct rilli_g *g, int next);

/* A thread without a P (the offload pool, a foreign thread) about to touch the Ps (wakep,
 * a ring's mailbox or eventfd) counts itself in nwakers first: 1 if it may go on, and must
 * then call rilli_waker_leave(); 0 once the runtime is stopping, when the Ps are going away.
 * worker_main() waits for nwakers == 0 before it tears its ring down. */
static inline int rilli_waker_enter(void)
{
    rill_faa_seq(&rilli_sched.nwakers, 1);
    /* seq: Dekker with worker_main(): it stores stopping, then waits for nwakers == 0; we
     * count ourselves, then look at stopping. */
    if (rill_unlikely(rill_load_seq(&rilli_sched.stopping))) {
        rill_faa_acqrel(&rilli_sched.nwakers, -1); /* acq_rel: as in rilli_waker_leave() */
        return 0;
    }
    return 1;
}

static inline void rilli_waker_leave(void)
{
    rill_faa_acqrel(&rilli_sched.nwakers, -1); /* acq_rel: pairs with the seq load in
                                                   worker_main() */
}
/* Make g, woken by a timer, runnable ahead of the current P's run queue (sched_pick bounds
 * how long that queue may wait); on a thread without a P, as rilli_ready. */
void rilli_ready_timer(struct rilli_g *g);
/* Park the running G; someone must already be able to ready it. reason/obj: for the
 * deadlock report. Goroutine context. */
void rilli_park(const char *reason, const void *obj);
/* rilli_park() for a caller that already holds the current P (read since its last switch). */
void rilli_park_on(struct rilli_p *p, const char *reason, const void *obj);
/* A fresh wait record for the running G of p, the current P read since the caller's last
 * switch (NULL on a thread without one: the record then waits on its futex). solo: see
 * struct rilli_sel. */
static inline void rilli_sel_init(struct rilli_sel *sel, struct rilli_p *p, int solo)
{
    sel->g = p ? p->cur : NULL;
    sel->state = SEL_WAITING;
    sel->result = 0;
    sel->futex = 0;
    sel->solo = solo;
}
/* rilli_sel_wait(sel, RILL_FOREVER, ...) with the goroutine case inline: every blocking
 * channel operation without a deadline parks through here. p: the current P, read since the
 * caller's last switch (NULL on a thread without one), whose running G is sel->g. */
static inline int rilli_sel_park_on(struct rilli_p *p, struct rilli_sel *sel, const char *reason,
                                    const void *obj)
{
    if (rill_unlikely(!sel->g))
        return rilli_sel_wait(sel, RILL_FOREVER, reason, obj);
    rilli_park_on(p, reason, obj);
    return rill_load_acq(&sel->state); /* acq: pairs with the claim CAS */
}
static inline int rilli_sel_park(struct rilli_sel *sel, const char *reason, const void *obj)
{
    return rilli_sel_park_on(rilli_cur_p(), sel, reason, obj);
}
/* The owner loaded g (or NULL) from runnext, then stored over it: g, or NULL when a thief
 * took it first (sched.c, "Taking runnext"). The store and this load are plain: the thief's
 * membarrier orders them, and the compiler barrier keeps them in this order. */
struct rilli_g *rilli_runnext_resolve(struct rilli_p *p, struct rilli_g *g);
static inline struct rilli_g *rilli_runnext_check(struct rilli_p *p, struct rilli_g *g)
{
    rill_barrier();
    /* relaxed: a thief announces its attempt here before its membarrier, so a change is seen
     * whenever the attempt could have seen g (Dekker, the fence being the membarrier) */
    if (rill_unlikely(rill_load_relaxed(&p->rn_seq) != p->rn_seen))
        return rilli_runnext_resolve(p, g);
    return g;
}
/* The slow path of a placement in runnext: resolve, then queue the displaced G, if any. */
void rilli_runnext_displaced(struct rilli_p *p, struct rilli_g *old);
/* rilli_ready(g, 1) by a caller that read the current P since its last switch (NULL: look it
 * up). Inline: an unbuffered handoff makes one, and this is its whole cost on a P. */
static inline void rilli_ready_next_on(struct rilli_p *p, struct rilli_g *g)
{
    if (rill_unlikely(!p)) {
        rilli_ready(g, 1);
        return;
    }
    rill_store_relaxed(&g->status, G_RUNNABLE); /* relaxed: informational */
    /* A channel partner: it runs on this P within a switch or two, and so does the G it
     * displaces from runnext, which is usually the other end of the same exchange. Waking a
     * thief for either only spreads one conversation over two cores (a P that then stops
     * switching has its runnext taken by the idle poll instead: sched.c). */
    struct rilli_g *old = rill_load_relaxed(&p->runnext);
    rill_tsan_release(g);
    rill_store_rel(&p->runnext, g); /* rel: a thief's CAS acquires g */
    rill_barrier(); /* as in rilli_runnext_check(), which checks with old NULL too: a G taken
                       from runnext before is resolved before g can be taken */
    if (rill_unlikely(old || rill_load_relaxed(&p->rn_seq) != p->rn_seen))
        rilli_runnext_displaced(p, old);
}
/* Wake the owner of a claimed sel (goroutine: make runnable, next on this P; thread: futex).
 * Call with no channel lock held. sel may be gone as soon as this returns. p: as for
 * rilli_ready_next_on(). Inline: every handoff makes one. */
static inline void rilli_sel_wake_on(struct rilli_p *p, struct rilli_sel *sel)
{
    struct rilli_g *g = sel->g;
    if (rill_likely(g))
        rilli_ready_next_on(p, g);
    else
        rilli_sel_wake_thread(sel);
}
static inline void rilli_sel_wake(struct rilli_sel *sel)
{
    rilli_sel_wake_on(NULL, sel);
}
/* The running G has returned: recycle it and run something else. Goroutine context. */
void rilli_goexit(void); /* never returns; not marked noreturn so ASan does not
                             * unpoison the stack we are leaving (fiber-unaware) */
/* Called right after every switch lands, on the new context (sanitizers, dead G). */
void rilli_sched_after_switch(struct rilli_g *self, struct rilli_p *p);

void rilli_gq_put(struct rilli_g *g);                           /* any */
struct rilli_g *rilli_gq_get(struct rilli_p *p, int batch);     /* a P */

/* park.c: idle workers */
void rilli_wakep(void);                                         /* any context */
void rilli_p_idle(struct rilli_p *p);                           /* scheduler context */
void rilli_sched_stop_all(void);

/* deadlock.c */
enum { DEADLOCK_NO = 0, DEADLOCK_YES = 1, DEADLOCK_MAYBE = 2 };
#define DEADLOCK_POLL_NS 100000000 /* re-check period while foreign threads could wake a G */
void rilli_deadlock_init(void);   /* at rill_run start: count the process's threads */
int rilli_deadlock_check(void);   /* all Ps idle: DEADLOCK_*; YES exactly once */
void rilli_deadlock_report(void);

/* sched.c: run one P's loop until the runtime stops. */
void rilli_sched_loop(struct rilli_p *p);
/* A random 32-bit value from the current P's generator (any thread). */
uint32_t rilli_rand(void);

static inline uint64_t rilli_xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* rilli_rand() for a caller that read the current P since its last switch (p NULL: none). */
static inline uint32_t rilli_rand_on(struct rilli_p *p)
{
    return p ? (uint32_t)(rilli_xorshift(&p->rand) >> 16) : rilli_rand();
}

#endif
