/*
 * sched.c - the runtime: rill_run, worker threads, the schedule loop, ready/park/yield/exit.
 * Design: docs/DESIGN.md "Scheduler".
 *
 * Structures: one struct rilli_p per worker thread (sched.h), the global struct rilli_sched.
 * The thread that calls rill_run() becomes worker 0; the others are created here and all are
 * joined before rill_run() returns.
 *
 * Choosing what runs next (sched_pick, then find_runnable when that finds nothing):
 *  1. every 60th pick: the due timers, I/O, and one G from the global queue (so it cannot
 *     starve);
 *  2. Gs woken by this P's timers (timerq: Go readies a timer's G into runnext, so a sleeper
 *     is not late by a whole run queue; at most TIMERQ_STREAK in a row while others wait),
 *     then
 *     runnext, unless it has been taken RUNNEXT_MAX times in a row while the local queue
 *     waits: then it goes to the back, so a ping-pong pair cannot starve the queue;
 *  3. the local queue; 4. the global queue; 5. this P's I/O: submit the SQEs the round
 *     queued and reap completions, one io_uring_enter (io/ring.c); 6. due timers of every P;
 *  7. stealing half of another P's queue (and polling 5 again), while spinning is allowed;
 *  8. sleep in the P's io_uring until a wake, a completion or the next timer (park.c).
 * Step 1 also polls I/O, so SQEs queued behind a long run queue wait at most 60 picks.
 *
 * A parking or yielding G switches straight to the next G (one switch, not two through the
 * scheduler stack); only when nothing is runnable does it switch to the worker's g0, which
 * runs steps 3-8. A G that exits does the same and is recycled by whoever lands next.
 *
 * Invariants:
 *  1. p->cur is the G whose stack the worker runs on (NULL on g0); only the owner writes it.
 *  2. Only the owner puts a G in runnext (readying a G from another P goes to that P's own
 *     queue), with plain stores; a thief takes it only from a stuck P ("Taking runnext").
 *  3. Once 'stopping' is set no new G is picked; workers leave their loop at the next pick.
 *
 * Rejected: a single shared run queue (one contended cache line per operation); letting
 * thieves take runnext after a few us, as Go does (here a runnext G runs within a few hundred
 * ns because goroutines park on every blocking call; only a P stuck for 1 ms gives it up).
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/arch/ctx.h"
#include "sched/sched.h"

#ifdef RILL_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef RILL_TSAN
#include <sanitizer/tsan_interface.h>
#endif

#define RUNNEXT_MAX 64
#define GLOBAL_TICK 60 /* a multiple of TIMER_TICK: pick_rare tests it only then */
/* Timer-woken picks in a row while other Gs wait. At 64, 100K 1 ms sleeps at one worker had a
 * p99 lateness of 0.66-1.5 ms: each pick let through to the queue starts a new goroutine or
 * resumes the spawner, and the backlog of sleepers behind it grew. At 256: 0.46-0.85 ms (both
 * backends), while a woken burst still yields the queue a pick every ~100 us. */
#define TIMERQ_STREAK 256
#define TIMER_TICK 4       /* picks between checks for due timers */
#define GQ_TICK_BATCH 1    /* global-queue Gs taken at each GLOBAL_TICK */
_Static_assert(GLOBAL_TICK % TIMER_TICK == 0, "pick_rare runs on timer ticks only");
#define SPAWN_BUDGET (RUNQ_SIZE / 4) /* queued Gs at which rill_go yields (see rill_go) */
#define DEFAULT_STACK (64 * 1024)

struct rilli_sched rilli_sched = {.run_lock = PTHREAD_MUTEX_INITIALIZER};
#define S rilli_sched

/* initial-exec: a plain %fs-relative load instead of a __tls_get_addr call in PIC code */
static __thread struct rilli_p *tls_p __attribute__((tls_model("initial-exec")));

/* noinline + asm volatile: never inlined, never considered pure, so each call re-reads the
 * thread's TLS after a switch that may have moved the goroutine to another thread. */
__attribute__((noinline)) struct rilli_p *rilli_cur_p(void)
{
    __asm__ __volatile__("" ::: "memory");
    return tls_p;
}

__attribute__((noinline)) void rilli_set_cur_p(struct rilli_p *p)
{
    __asm__ __volatile__("" ::: "memory");
    tls_p = p;
}

struct rilli_g *rilli_cur_g(void)
{
    struct rilli_p *p = rilli_cur_p();
    return p ? p->cur : NULL;
}

uint32_t rilli_rand(void)
{
    static __thread uint64_t foreign_seed;
    struct rilli_p *p = rilli_cur_p();
    if (p)
        return rilli_rand_on(p);
    if (!foreign_seed)
        foreign_seed = (uint64_t)rill_now() | 1;
    return (uint32_t)(rilli_xorshift(&foreign_seed) >> 16);
}

int64_t rill_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- switching ---------------------------------------------------------------------------- */

/* Right after a switch lands, on the new context: tell the sanitizers, and recycle the stack
 * of a G that exited (never on that G's own stack). p: the P now running this context, as
 * rilli_ctx_switch returned it. */
static inline void after_switch(struct rilli_g *self, struct rilli_p *p)
{
    rill_tsan_acquire(&self->sp); /* pairs with the release in g_switch() */
#ifdef RILL_ASAN
    __sanitizer_finish_switch_fiber(self->asan_fake, NULL, NULL);
#else
    (void)self;
#endif
    if (p->dead) {
        struct rilli_g *d = p->dead;
        p->dead = NULL;
        rilli_stack_put(p, d);
    }
}

void rilli_sched_after_switch(struct rilli_g *self, struct rilli_p *p)
{
    after_switch(self, p);
}

/* Switch from 'from' (the running context) to 'to', which may still be leaving another
 * thread: rilli_ctx_switch waits for it on this worker's spin stack. Tells the sanitizers. */
static inline void g_switch(struct rilli_p *p, struct rilli_g *from, struct rilli_g *to)
{
    if (from->canary)
        rilli_stack_check(from);
#ifdef RILL_ASAN
    __sanitizer_start_switch_fiber(from->status == G_DEAD ? NULL : &from->asan_fake, to->stack_lo,
                                   (size_t)(to->stack_hi - to->stack_lo));
#endif
#ifdef RILL_TSAN
    /* TSan may not enter 'to's fiber while another thread is still leaving it, and only the
     * wait in switch.S tells when it has left. So under TSan a G-to-G switch goes through this
     * worker's g0 (which no other thread ever enters): g0 waits for 'to' in C, on its own
     * stack, then enters it (rilli_sched_loop). Two switches instead of one, TSan builds only. */
    if (from != &p->g0 && to != &p->g0) {
        p->tsan_next = to;
        to = &p->g0;
    } else {
        while (!rill_load_acq(&to->sp)) /* acq: as in switch.S */
            rill_cpu_relax();
    }
    /* TSan cannot see the publishing store (it is in switch.S): release here, acquire in
     * after_switch() on whichever thread enters this G next. */
    rill_tsan_release(&from->sp);
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
    p = rilli_ctx_switch(&from->sp, &to->sp, p->spin_stack + SPIN_STACK, p);
    /* Back in 'from', possibly on another thread: p is now the P that resumed it. */
    after_switch(from, p);
}

static inline __attribute__((always_inline)) void switch_to(struct rilli_p *p, struct rilli_g *from,
                                                            struct rilli_g *to)
{
    if (to == &p->g0) {
        p->cur = NULL;
    } else {
        p->cur = to;
        rill_store_relaxed(&to->status, G_RUNNING); /* relaxed: informational (report) */
    }
    g_switch(p, from, to);
}

/* Fire p's due timers: one clock read, and only while p has any. Returns how many fired. */
static int timers_run_due(struct rilli_p *p)
{
    int64_t when = rilli_timer_when0(&p->timers), now;
    if (when == INT64_MAX || (now = rill_now()) < when)
        return 0;
    return rilli_timer_run(p, now);
}

/* A G became runnable on this running P: wake an idle P to take work, unless one spins.
 * relaxed: a missed wake is harmless, because the G sits on this P, which runs it when it
 * next schedules; the wake only adds parallelism. */
static void wake_idle_p(void)
{
    if (rill_load_relaxed(&S.npidle) && !rill_load_relaxed(&S.nspinning))
        rilli_wakep();
}

/* The rare part of a pick (steps 1-2 of the file comment): due timers every TIMER_TICK picks,
 * the global queue and I/O every GLOBAL_TICK, and the Gs this P's timers woke. NULL: go on
 * with runnext and the queue. Out of line, so that a plain pick stays a few loads. */
static struct rilli_g *__attribute__((noinline)) pick_rare(struct rilli_p *p, uint32_t tick)
{
    if (tick % GLOBAL_TICK == 0) {
        /* Timers and I/O first: a non-empty global queue must not starve them. */
        timers_run_due(p);
        if (rilli_io_busy(&p->io))
            rilli_io_poll(&p->io); /* I/O queued behind a busy run queue waits this long */
        /* One G, as Go's schedule() takes: a full local queue spills its older half to
         * the global queue (rilli_runq_push), and pulling a batch back every tick would
         * turn a spawn-and-wait tree (skynet) breadth-first again, a fresh stack per G. */
        struct rilli_g *g = rilli_gq_get(p, GQ_TICK_BATCH);
        if (g)
            return g;
    } else if (tick % TIMER_TICK == 0) {
        /* Due timers every TIMER_TICK picks too (a clock read, only while this P has
         * timers): a sleeper should be late by a few switches, not by a global tick. */
        timers_run_due(p);
    }
    if (!p->timerq)
        return NULL;
    /* A burst of sleepers due at once (thousands) takes at most TIMERQ_STREAK picks in a row
     * while the run queue waits; then one pick goes to runnext or the queue, so new work and
     * yielders keep moving without leaving sleepers behind all of it. */
    if (p->timerq_streak >= TIMERQ_STREAK &&
        (rill_load_relaxed(&p->runnext) || !rilli_runq_empty(p))) { /* relaxed: owner */
        p->timerq_streak = 0;
        return NULL;
    }
    struct rilli_g *g = p->timerq;
    p->timerq = g->next;
    p->timerq_streak = p->timerq ? p->timerq_streak + 1 : 0;
    rill_tsan_acquire(g); /* pairs with rilli_ready_timer(), as runq_get() does */
    return g;
}

/* Non-blocking choice of the next G on p (steps 1-3 of the file comment). Inline: every
 * yield and park makes one. */
static inline __attribute__((always_inline)) struct rilli_g *sched_pick(struct rilli_p *p)
{
    /* acq: pairs with the rel store in rilli_sched_stop_all(). */
    if (rill_unlikely(rill_load_acq(&S.stopping)))
        return NULL;
    uint32_t tick = ++p->picks;
    rill_store_relaxed(&p->schedtick, tick); /* relaxed: thieves watch it move (victim_stuck) */
    /* pick_rare() has work on a timer tick only while this P has timers, or on a global tick,
     * or while timer-woken Gs wait: a channel exchange with no timers makes no call here. */
    if (rill_unlikely((tick % TIMER_TICK == 0 &&
                       (tick % GLOBAL_TICK == 0 || rilli_timer_when0(&p->timers) != INT64_MAX)) ||
                      p->timerq)) {
        struct rilli_g *g = pick_rare(p, tick);
        if (g)
            return g;
    }
    struct rilli_g *g = rill_load_relaxed(&p->runnext); /* relaxed: see "Taking runnext" */
    if (g) {
        rill_store_relaxed(&p->runnext, NULL);
        if (rill_likely(g = rilli_runnext_check(p, g))) {
            if (++p->runnext_streak < RUNNEXT_MAX || rilli_runq_empty(p))
                return g;
            rilli_runq_push(p, g);
        }
    }
    /* The newest spawn next, as Go's newproc puts it in runnext: a goroutine that spawns
     * and then waits for its children runs them closer to depth-first. */
    if (rill_load_relaxed(&p->spawnnext) && /* relaxed: a hint, the xchg decides */
        (++p->runnext_streak < RUNNEXT_MAX || rilli_runq_empty(p))) {
        if ((g = rilli_spawnnext_take(p)))
            return g;
    }
    p->runnext_streak = 0;
    return rilli_runq_get(p);
}

static int spin_allowed(struct rilli_p *p)
{
    if (p->spinning)
        return 1;
    /* relaxed: a heuristic bound (Go's 2*nmspinning < gomaxprocs - npidle); a stale value
     * only lets one extra P spin or sleep a little early. */
    int spinning = rill_load_relaxed(&S.nspinning);
    int idle = rill_load_relaxed(&S.npidle);
    return 2 * spinning < S.nproc - idle;
}

/* How long a worker looks for work before it sleeps. A sleeping worker costs 25-50 us to
 * wake, which argued for spinning about as long; but a spinning P steals, and a P that steals
 * from goroutines trading over a buffered channel splits them over two cores, where every item
 * then crosses between caches (a CAS on the ring's head or tail each time). At 10 us instead
 * of 40, two workers: worker pool 169 -> 122 us per 1000 jobs, 4-producer capacity-16 channel
 * 14.9 -> 23.3 M items/s, fan-out/fan-in 16% faster; 4x4 capacity-1 about 10% slower. Go's
 * spinning Ms likewise give up after a few rounds of stealing. */
#define SPIN_NS 10000

/*
 * What a spinning P may steal. Goroutines that trade over a channel run best on one P: a
 * handoff there is a switch, across two cores it is a cache-line transfer per item and often
 * a wake. Taking any G from a short queue split such groups over both workers: 4x4 senders
 * and receivers on one unbuffered channel ran 7x slower at 2 workers than at 1, and a worker
 * pool 2x slower. So a thief takes half of a victim's backlog (STEAL_BACKLOG Gs or more:
 * more work than one P gets through soon, as after a burst of spawns), or, from a shorter
 * queue, half only when the victim's goroutines yield (CPU work that says others may run),
 * and one G when it is stuck: it has not picked a G for STUCK_NS, so it runs one goroutine
 * for long and the queue waits on it. A P that keeps switching over channels keeps its queue
 * (RUNNEXT_MAX already bounds how long a queued G waits behind a runnext exchange).
 *
 * The long runner is often a producer filling a big buffer for the very goroutines queued
 * behind it (1024 sends take about 15 us), or the consumer draining it. At 5 us such a P
 * counted as stuck, and taking half its queue moved the group to the other core, where every
 * item then crossed between caches and the Gs woken across went back and forth: at 2
 * workers, 4 producers into a 1024-slot channel ran at 7-12 M items/s against 60 at one
 * worker (Go: 14-17), and 4x4 at 17-50. With 50 us and one G at a time: 45-60 and 53-95.
 * A thief that comes back while the victim is still stuck takes the next. An idle P looks
 * at least every IDLE_POLL_NS (park.c), so a queue behind a goroutine that computes for
 * 1 ms or more is taken within about two of those.
 */
#define STEAL_BACKLOG 8
#define STUCK_NS 50000

/* What p has seen of v: whether v's goroutines yield (since p looked, at most SPIN_NS ago),
 * and how long v has gone without a pick since p first saw its schedtick at this value (0
 * when it moved; the count only grows, so an unchanged value means no pick at all in
 * between, however long p looked away). */
static int64_t victim_stuck(struct rilli_p *p, struct rilli_p *v, int64_t now, int *yielding)
{
    struct steal_seen *s = &p->steal_seen[v->id];
    /* relaxed: hints that only steer stealing; the ring's CAS decides what is taken */
    uint32_t tick = rill_load_relaxed(&v->schedtick), yields = rill_load_relaxed(&v->nyield);
    *yielding = s->seen && now - s->seen <= SPIN_NS && s->yields != yields;
    s->seen = now;
    s->yields = yields;
    if (!s->since || s->tick != tick) {
        s->tick = tick;
        s->since = now;
        return 0;
    }
    return now - s->since;
}

/*
 * Taking runnext. A G readied by a channel operation waits in its P's runnext, and the P
 * wakes no thief for it: the P switches to it within a switch or two. Unless the G that
 * readied it goes on computing: then it would wait for as long as that runs. So a P that
 * has not picked a G for RUNNEXT_STUCK_NS gives its runnext to a thief, as Go's runqsteal
 * takes runnext from a P that keeps running one G; the thief is an idle P, which polls every
 * IDLE_POLL_NS while any P runs (park.c).
 *
 * The owner takes and replaces runnext with a plain load and store (no locked instruction on
 * a handoff), then loads rn_seq; a thief announces its attempt by bumping rn_seq, then
 * calls membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which runs a full fence on every CPU
 * that runs one of our threads, then CASes runnext to NULL. Dekker, with the membarrier as
 * the owner's fence: if the thief's load saw g in runnext, the owner's store over it had not
 * yet been made visible, so the owner's load of rn_seq comes after the fence and sees the
 * attempt. The owner then resolves under rn_steal.lock, once the attempt is over: rn_steal.g
 * is the G a thief took, and the owner drops it if that is the G it had in hand. A thief
 * takes nothing while a taken G waits to be resolved, so the record is not overwritten
 * before the owner sees it; and the owner resolves at every placement as well as every take,
 * so the record never names an earlier placement of the G now in hand (that G had to run,
 * park and be readied again since, all after the thief's bump of rn_seq). Without
 * membarrier (seccomp, old kernels), runnext is never taken.
 */
#define RUNNEXT_STUCK_NS 1000000
static int runnext_stealable; /* membarrier(PRIVATE_EXPEDITED) is registered */

static void runnext_steal_init(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    runnext_stealable = cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
                        syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0,
                                0) == 0;
}

static void rn_lock(struct runnext_steal *r)
{
    for (int zero = 0; !rill_cas_acq(&r->lock, &zero, 1); zero = 0)
        rill_cpu_relax();
}

static void rn_unlock(struct runnext_steal *r)
{
    rill_store_rel(&r->lock, 0); /* rel: pairs with the CAS in rn_lock() */
}

struct rilli_g *rilli_runnext_resolve(struct rilli_p *p, struct rilli_g *g)
{
    struct runnext_steal *r = &p->rn_steal;
    rn_lock(r); /* every attempt announced so far is over */
    p->rn_seen = rill_load_relaxed(&p->rn_seq);
    if (g && r->g == g)
        g = NULL; /* that thief runs it */
    r->g = NULL;
    rn_unlock(r);
    return g;
}

void rilli_runnext_displaced(struct rilli_p *p, struct rilli_g *old)
{
    if ((old = rilli_runnext_check(p, old)))
        rilli_runq_push(p, old);
}

static struct rilli_g *runnext_steal(struct rilli_p *v)
{
    struct runnext_steal *r = &v->rn_steal;
    int zero = 0;
    if (!rill_cas_acq(&r->lock, &zero, 1)) /* acq: pairs with rn_unlock() */
        return NULL;                        /* another thief, or the owner resolving */
    struct rilli_g *g = NULL;
    if (!r->g) { /* else the owner has yet to resolve the last one taken */
        rill_store_relaxed(&v->rn_seq, v->rn_seq + 1); /* relaxed: the membarrier orders it */
        /* Without the fence nothing orders the owner's plain take: take nothing then. */
        if (syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
            g = rill_load_acq(&v->runnext); /* acq: pairs with the rel store in
                                              rilli_ready_next_on() */
        /* acq_rel: the CAS decides between thieves and against the owner's next store; it
         * acquires g's frame as the load above does */
        if (g && rill_cas_acqrel(&v->runnext, &g, NULL)) {
            r->g = g;
            rill_tsan_acquire(g);
        } else {
            g = NULL;
        }
    }
    rn_unlock(r);
    return g;
}

static struct rilli_g *steal_round(struct rilli_p *p, int64_t now)
{
    int n = S.nproc;
    int start = (int)(rilli_rand() % (uint32_t)n);
    for (int i = 0; i < n; i++) {
        struct rilli_p *v = S.allp[(start + i) % n];
        if (v == p)
            continue;
        if (rilli_timer_when0(&v->timers) <= now)
            rilli_timer_run(v, now);
        int yielding;
        int64_t stuck = victim_stuck(p, v, now, &yielding);
        struct rilli_g *g;
        if (rilli_runq_empty(v)) {
            /* relaxed: a hint; runnext_steal() decides */
            if (runnext_stealable && stuck >= RUNNEXT_STUCK_NS &&
                rill_load_relaxed(&v->runnext) && (g = runnext_steal(v)))
                return g;
            continue;
        }
        if ((g = rilli_runq_steal(p, v, yielding ? 1 : STEAL_BACKLOG, RUNQ_SIZE)) ||
            (stuck >= STUCK_NS && (g = rilli_runq_steal(p, v, 1, 1))))
            return g;
    }
    return NULL;
}

static void stop_spinning(struct rilli_p *p)
{
    if (p->spinning) {
        p->spinning = 0;
        rill_faa_acqrel(&S.nspinning, -1); /* acq_rel: pairs with the CAS in rilli_wakep() */
    }
}

/* Blocking search for work (steps 3-8), scheduler context. NULL only when stopping. */
static struct rilli_g *find_runnable(struct rilli_p *p)
{
    struct rilli_g *g;
    for (;;) {
        g = sched_pick(p);
        if (g || rill_load_acq(&S.stopping)) /* acq: as in sched_pick() */
            goto found;
        if ((g = rilli_gq_get(p, RUNQ_SIZE / 2)))
            goto found;
        /* The end of a round: submit what it queued, reap what completed. */
        if (rilli_io_busy(&p->io) && rilli_io_poll(&p->io))
            continue;
        int64_t now = rill_now();
        if (rilli_timer_when0(&p->timers) <= now && rilli_timer_run(p, now))
            continue;
        if (S.nproc > 1 && spin_allowed(p)) {
            if (!p->spinning) {
                p->spinning = 1;
                rill_faa_acqrel(&S.nspinning, 1); /* acq_rel: counted before we look */
            }
            int64_t until = now + SPIN_NS;
            do {
                if ((g = steal_round(p, now)) || (g = rilli_gq_get(p, RUNQ_SIZE / 2)) ||
                    (g = sched_pick(p)))
                    goto found;
                if (rilli_io_busy(&p->io) && rilli_io_poll(&p->io) && (g = sched_pick(p)))
                    goto found;
                for (int i = 0; i < 32; i++)
                    rill_cpu_relax();
                now = rill_now();
            } while (now < until && !rill_load_acq(&S.stopping)); /* acq: as in sched_pick() */
        }
        stop_spinning(p);
        rilli_p_idle(p);
    }
found:
    stop_spinning(p);
    return g;
}

void rilli_sched_loop(struct rilli_p *p)
{
    for (;;) {
        struct rilli_g *g = p->tsan_next; /* only ever set in TSan builds (g.c) */
        p->tsan_next = NULL;
        if (!g && !(g = find_runnable(p)))
            return;
        switch_to(p, &p->g0, g);
    }
}

/* ---- ready / park / yield / exit ---------------------------------------------------------- */

void rilli_ready(struct rilli_g *g, int next)
{
    rill_store_relaxed(&g->status, G_RUNNABLE); /* relaxed: informational */
    struct rilli_p *p = rilli_cur_p();
    if (!p) {
        /* counted before g can run, so the runtime cannot tear down the Ps that wakep()
         * is about to touch (g may be main, returning at once). Once it is stopping, the Ps
         * are going away and g would never run anyway. */
        if (!rilli_waker_enter())
            return;
        rilli_gq_put(g);
        /* seq: Dekker with rilli_p_idle(): our gq store, then this fence, then the load of
         * npidle in rilli_wakep(); the idler stores idle, fences, then re-checks gq_n. */
        rill_fence_seq();
        rilli_wakep();
        rilli_waker_leave();
        return;
    }
    if (next) {
        rilli_ready_next_on(p, g);
        return;
    }
    rilli_runq_push(p, g);
    wake_idle_p();
}

void rilli_ready_timer(struct rilli_g *g)
{
    struct rilli_p *p = rilli_cur_p();
    if (!p) {
        rilli_ready(g, 0);
        return;
    }
    rill_store_relaxed(&g->status, G_RUNNABLE); /* relaxed: informational */
    rill_tsan_release(g); /* as rilli_runq_put() does: whoever runs g next acquires it */
    g->next = NULL;
    if (p->timerq)
        p->timerq_tail->next = g;
    else
        p->timerq = g;
    p->timerq_tail = g;
}

void rilli_park_on(struct rilli_p *p, const char *reason, const void *obj)
{
    struct rilli_g *g = p->cur;
    g->wait_reason = reason;
    g->wait_obj = obj;
    rill_store_relaxed(&g->status, G_WAITING); /* relaxed: informational (deadlock report) */
    struct rilli_g *next = sched_pick(p);
    if (next == g) { /* readied already and picked from our own queue */
        rill_store_relaxed(&g->status, G_RUNNING);
        return;
    }
    switch_to(p, g, next ? next : &p->g0);
}

void rilli_park(const char *reason, const void *obj)
{
    rilli_park_on(rilli_cur_p(), reason, obj);
}

void rill_yield(void)
{
    struct rilli_p *p = rilli_cur_p();
    if (!p || !p->cur) {
        sched_yield();
        return;
    }
    struct rilli_g *g = p->cur;
    struct rilli_g *next = sched_pick(p);
    if (!next) {
        if (rill_load_acq(&S.stopping)) /* acq: as in sched_pick() */
            rilli_park("runtime stopping", NULL);
        return;
    }
    rill_store_relaxed(&g->status, G_RUNNABLE);    /* relaxed: informational */
    rill_store_relaxed(&p->nyield, ++p->yields); /* relaxed: thieves watch it (victim_stuck) */
    rilli_runq_push(p, g);
    switch_to(p, g, next);
}

void rilli_goexit(void)
{
    struct rilli_p *p = rilli_cur_p();
    struct rilli_g *g = p->cur;
    if (g->main)
        rilli_sched_stop_all();
    rill_store_relaxed(&g->status, G_DEAD); /* relaxed: informational */
    p->dead = g;
    struct rilli_g *next = sched_pick(p);
    switch_to(p, g, next ? next : &p->g0);
    rill_throw("goroutine %llu resumed after exit", (unsigned long long)g->id);
}

/* ---- public goroutine calls --------------------------------------------------------------- */

int rill_go(void (*fn)(void *), const void *arg, size_t arg_size)
{
    if (!fn || (!arg && arg_size)) /* nothing to copy the arg_size bytes from */
        return -EINVAL;
    /* acq: pairs with the rel store of running in rill_run(): the runtime is set up. */
    if (!rill_load_acq(&S.running))
        return -ESRCH;
    struct rilli_p *p = rilli_cur_p();
    int err = 0;
    struct rilli_g *g = rilli_g_new(p, fn, arg, arg_size, &err);
    if (!g)
        return err;
    if (!p || !p->cur) { /* a thread without a P, or the scheduler loop */
        rilli_ready(g, 0);
        return 0;
    }
    /* The newest spawn waits in spawnnext, not runnext: the spawner often keeps running (a
     * loop of rill_go, or computation), so an idle P must be able to take it; the one it
     * displaces goes to the (stealable) queue. */
    rill_tsan_release(g);
    /* acq_rel: publishes g's frame to whoever takes it (owner or thief), and takes over the
     * displaced G from the last publisher */
    struct rilli_g *old = rill_xchg_acqrel(&p->spawnnext, g);
    if (old) {
        rill_tsan_acquire(old);
        rilli_runq_push(p, old);
    }
    wake_idle_p();
    /* Spawn budget: once a quarter of this P's queue is waiting work, the spawner goes
     * behind it (there is room for it in the queue, so it runs again after those, not after
     * everything that overflowed to the global queue). Go's time-slice preemption does the
     * same for a spawning loop; without it a loop of a hundred thousand rill_go calls keeps
     * every goroutine alive (and its stack resident) until the loop ends, and the first ones
     * run only after the last is made. A spawn costs microseconds when its stack is new
     * (page faults), so the queue alone would let sleepers wait for a whole batch: the
     * spawner yields to due timers too, after every spawn (a load, and a clock read only
     * while this P has timers). Every 4th spawn let a due timer wait behind up to four
     * fresh stacks' page faults: 100,000 sleepers of 1 ms, 1 worker, median lateness
     * 150 -> 24 us, p99 320-610 -> 130-250 us. */
    if (rill_unlikely(ck_ring_size(&p->runq) >= SPAWN_BUDGET))
        rill_yield();
    else if (rill_unlikely(timers_run_due(p)))
        rill_yield();
    return 0;
}

uint64_t rill_id(void)
{
    struct rilli_g *g = rilli_cur_g();
    return g ? g->id : 0;
}

static struct rilli_g *sleep_fire(struct rilli_timer *t)
{
    return t->arg;
}

void rill_sleep(int64_t ns)
{
    struct rilli_g *g = rilli_cur_g();
    if (!g) {
        if (ns <= 0)
            return;
        struct timespec ts = {ns / 1000000000LL, ns % 1000000000LL};
        while (nanosleep(&ts, &ts) != 0)
            ;
        return;
    }
    if (ns <= 0) {
        rill_yield();
        return;
    }
    struct rilli_timer t = {.fn = sleep_fire, .arg = g};
    g->wait_reason = "sleep";
    rill_store_relaxed(&g->status, G_WAITING); /* relaxed: informational */
    /* never deleted: it fires */
    if (rilli_timer_add_fixed(&t, rilli_when_after(rill_now(), ns)) < 0) {
        rill_yield(); /* no memory for the heap: degrade to a yield loop rather than hang */
        rill_sleep(ns - 1000);
        return;
    }
    rilli_park("sleep", NULL);
}

/* ---- rill_run ----------------------------------------------------------------------------- */

static int config_workers(const struct rill_config *cfg)
{
    if (cfg && cfg->workers)
        return cfg->workers;
    const char *env = getenv("RILL_WORKERS");
    if (env && *env) {
        int n = atoi(env);
        if (n > 0)
            return n < RILL_WORKERS_MAX ? n : RILL_WORKERS_MAX;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    return n < RILL_WORKERS_MAX ? (int)n : RILL_WORKERS_MAX;
}

static pthread_barrier_t start_barrier;

static void worker_setup(struct rilli_p *p)
{
    rilli_set_cur_p(p);
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *addr;
        size_t size;
        pthread_attr_getstack(&attr, &addr, &size);
        p->g0.stack_lo = addr;
        p->g0.stack_hi = (char *)addr + size;
        pthread_attr_destroy(&attr);
    }
#ifdef RILL_TSAN
    p->g0.tsan_fiber = __tsan_get_current_fiber();
#endif
    int rc = rilli_io_init(&p->io);
    if (rc < 0)
        rill_throw("worker %d: cannot create its event ring: %s", p->id, strerror(-rc));
    rilli_altstack_init();
}

static void *worker_main(void *arg)
{
    struct rilli_p *p = arg;
    worker_setup(p);
    if (pthread_barrier_wait(&start_barrier) == PTHREAD_BARRIER_SERIAL_THREAD)
        rilli_deadlock_init(); /* before any worker has run a goroutine: it idles first */
    pthread_barrier_wait(&start_barrier);
    rilli_sched_loop(p);
    /* seq: pairs with rilli_ready() on threads without a P (offload pool, foreign threads):
     * stopping is set, so none starts anew; wait out one still inside wakep(). */
    while (rill_load_seq(&S.nwakers))
        sched_yield();
    pthread_barrier_wait(&start_barrier); /* no worker tears its ring down while others may
                                              still notify it */
    rilli_io_fini(&p->io);
    rilli_altstack_fini();
    rilli_set_cur_p(NULL);
    return NULL;
}

static void p_free(struct rilli_p *p)
{
    rilli_stack_cache_flush(&p->stacks);
    rilli_timer_heap_fini(&p->timers);
    free(p);
}

static int sched_create(int nproc)
{
    S.allp = calloc((size_t)nproc, sizeof(*S.allp));
    if (!S.allp)
        return -ENOMEM;
    for (int i = 0; i < nproc; i++) {
        struct rilli_p *p = aligned_alloc(RILL_CACHELINE, (sizeof(*p) + 63) & ~(size_t)63);
        if (!p)
            return -ENOMEM;
        memset(p, 0, sizeof(*p));
        p->id = i;
        p->rand = ((uint64_t)rill_now() ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1))) | 1;
        p->timers.when0 = INT64_MAX;
        ck_ring_init(&p->runq, RUNQ_SIZE);
        S.allp[i] = p;
        S.nproc = i + 1;
    }
    return 0;
}

static void sched_destroy(void)
{
    for (int i = 0; i < S.nproc; i++)
        if (S.allp[i])
            p_free(S.allp[i]);
    free(S.allp);
    S.allp = NULL;
    S.nproc = 0;
}

static void sched_reset(void)
{
    S.stopping = S.deadlock = 0;
    S.next_id = 1;
    S.gq_head = S.gq_tail = NULL;
    S.gq_n = 0;
    S.npidle = S.nspinning = S.nforeign = S.npending = 0;
}

int rill_run(void (*main_fn)(void *), void *arg, const struct rill_config *cfg)
{
    if (!main_fn)
        return -EINVAL;
    if (cfg && (cfg->workers < 0 || cfg->workers > RILL_WORKERS_MAX ||
                cfg->stack_size > ((size_t)1 << 30) || (cfg->flags & ~RILL_CONFIG_NO_GUARD)))
        return -EINVAL;
    if (rilli_cur_p() || pthread_mutex_trylock(&S.run_lock) != 0)
        return -EBUSY;
    size_t stack = cfg && cfg->stack_size ? cfg->stack_size : DEFAULT_STACK;
    if (stack < RILL_STACK_MIN)
        stack = RILL_STACK_MIN;
    sched_reset();
    rilli_stack_global_init(stack, cfg ? cfg->flags : 0);
    rilli_io_global_init();
    rilli_panic_install();
    runnext_steal_init();
    int rc = sched_create(config_workers(cfg));
    if (rc < 0)
        goto out;
    struct rilli_p *p0 = S.allp[0];
    struct rilli_g *g = rilli_g_new(p0, main_fn, arg, 0, &rc);
    if (!g)
        goto out;
    g->main = 1;
    rilli_runq_put(p0, g);
    rilli_ctx_run_start();
    pthread_barrier_init(&start_barrier, NULL, (unsigned)S.nproc);
    rill_store_rel(&S.running, 1); /* rel: pairs with the acq load in rill_go() */
    int started = 1;
    for (; started < S.nproc; started++)
        if (pthread_create(&S.allp[started]->thread, NULL, worker_main, S.allp[started]) != 0)
            rill_throw("rill_run: cannot start worker thread %d", started);
    worker_main(p0);
    for (int i = 1; i < S.nproc; i++)
        pthread_join(S.allp[i]->thread, NULL);
    rilli_ctx_run_end();
    pthread_barrier_destroy(&start_barrier);
    rill_store_rel(&S.running, 0); /* rel: as above */
    rilli_blocking_drain();        /* before the stacks that offloaded calls write into are freed */
    rc = S.deadlock ? -EDEADLK : 0;
out:
    sched_destroy();
    rilli_io_global_fini();
    rilli_stack_global_fini();
    pthread_mutex_unlock(&S.run_lock);
    return rc;
}
