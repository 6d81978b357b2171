/*
 * sched_yield.c - rill_yield lets the other runnable goroutines run: on a single worker, two
 * goroutines that loop with rill_yield() both make progress and stay close to each other (a yield
 * that returned straight to the caller would let one run to completion first, or spin for ever).
 */
#include "helpers.h"

#define NYIELD 20000

struct race {
    _Atomic long count[8];
    int n; /* goroutines taking part */
    _Atomic long max_gap;
    struct rill_waitgroup wg;
};

struct racer {
    struct race *r;
    int me;
};

static long min_count(struct race *r)
{
    long m = LONG_MAX;
    for (int i = 0; i < r->n; i++) {
        long c = atomic_load_explicit(&r->count[i], memory_order_relaxed);
        if (c < m)
            m = c;
    }
    return m;
}

/* Loop until every participant has done NYIELD steps; record how far ahead this one got. */
static void yielder(void *arg)
{
    struct racer *y = arg;
    struct race *r = y->r;
    int64_t deadline = t_now() + RILL_SEC(20);
    while (min_count(r) < NYIELD) {
        long mine = atomic_load_explicit(&r->count[y->me], memory_order_relaxed);
        if (mine < NYIELD) {
            /* relaxed: only this goroutine writes its counter; others read it approximately */
            atomic_store_explicit(&r->count[y->me], mine + 1, memory_order_relaxed);
            long gap = mine + 1 - min_count(r);
            long prev = atomic_load(&r->max_gap);
            while (gap > prev && !atomic_compare_exchange_weak(&r->max_gap, &prev, gap))
                ;
        }
        T_CHECKF(t_now() < deadline, "goroutine %d at %ld, slowest at %ld: others starved", y->me,
                 mine, min_count(r));
        rill_yield();
    }
    T_OK(rill_wg_done(&r->wg));
}

static void race_body(void *arg)
{
    struct race *r = arg;
    T_OK(rill_wg_add(&r->wg, r->n));
    for (int i = 0; i < r->n; i++) {
        struct racer y = {r, i};
        T_OK(rill_go(yielder, &y, sizeof y));
    }
    T_OK(rill_wg_wait(&r->wg));
}

static void run_race(int n, int workers, long max_gap)
{
    struct race r = {.n = n, .wg = RILL_WAITGROUP_INIT};
    struct rill_config cfg = {.workers = workers};
    T_OK(rill_run(race_body, &r, &cfg));
    for (int i = 0; i < n; i++)
        T_EQ(atomic_load(&r.count[i]), NYIELD);
    printf("   %d goroutines, %d worker(s): max lead %ld steps\n", n, workers,
           atomic_load(&r.max_gap));
    T_CHECKF(atomic_load(&r.max_gap) <= max_gap,
             "one goroutine got %ld steps ahead of the slowest (allowed %ld)",
             atomic_load(&r.max_gap), max_gap);
}

static int two_yielders_on_one_worker_both_progress(void)
{
    /* With round-robin on one worker the lead is 1 step; allow some batching by the scheduler
     * (e.g. a global queue polled every few dozen schedules) but not a run-to-completion. */
    run_race(2, 1, 256);
    return T_EXIT_PASS;
}

static int eight_yielders_on_one_worker_all_progress(void)
{
    run_race(8, 1, 256);
    return T_EXIT_PASS;
}

static int yielders_on_matrix_workers_all_progress(void)
{
    /* With several workers the goroutines also run in parallel, so no tight gap bound: the check
     * is that none is starved (the deadline inside yielder). */
    run_race(4, t_workers(), NYIELD);
    return T_EXIT_PASS;
}

/* Main spinning on rill_yield must let a goroutine it spawned run, on one worker. */
static _Atomic int flag;

static void set_flag(void *unused)
{
    (void)unused;
    atomic_store(&flag, 1);
}

static void spin_main(void *unused)
{
    (void)unused;
    for (int round = 0; round < 100; round++) {
        atomic_store(&flag, 0);
        T_OK(rill_go(set_flag, NULL, 0));
        T_WAIT_UNTIL(atomic_load(&flag) == 1, RILL_SEC(10));
    }
}

static int main_yield_lets_spawned_goroutine_run(void)
{
    struct rill_config cfg = {.workers = 1};
    T_OK(rill_run(spin_main, NULL, &cfg));
    return T_EXIT_PASS;
}

/* A goroutine spinning on rill_yield must not keep timers from firing on its worker. */
static void yield_spinner(void *arg)
{
    _Atomic int *stop = arg;
    while (!atomic_load(stop))
        rill_yield();
}

static void timer_vs_yield_main(void *unused)
{
    (void)unused;
    _Atomic int stop = 0;
    T_OK(rill_go(yield_spinner, &stop, 0));
    T_OK(rill_go(yield_spinner, &stop, 0));
    int64_t t0 = t_now();
    rill_sleep(RILL_MS(20));
    int64_t el = t_now() - t0;
    atomic_store(&stop, 1);
    T_GE(el, RILL_MS(20));
    T_CHECKF(el < RILL_MS(20) + T_SLACK, "20 ms sleep took %lld ms next to yield spinners",
             (long long)(el / 1000000));
    rill_sleep(RILL_MS(1)); /* let the spinners see stop before main returns */
}

static int timers_fire_while_others_spin_on_yield(void)
{
    struct rill_config cfg = {.workers = 1};
    T_OK(rill_run(timer_vs_yield_main, NULL, &cfg));
    return T_EXIT_PASS;
}

/* A goroutine spawned by one that then computes without blocking must not wait for it:
 * another worker takes it from the spawner's queue (2 workers and up). */
static _Atomic int spawned_flag;

static void mark_spawned(void *unused)
{
    (void)unused;
    atomic_store(&spawned_flag, 1);
}

static void busy_spawner_body(void *unused)
{
    (void)unused;
    atomic_store(&spawned_flag, 0);
    T_OK(rill_go(mark_spawned, NULL, 0));
    int64_t end = t_now() + RILL_MS(500);
    while (!atomic_load(&spawned_flag) && t_now() < end)
        ; /* computes: no yield, no blocking call */
    T_CHECKF(atomic_load(&spawned_flag), "goroutine spawned by a busy goroutine did not run "
                                         "on the other worker within 500 ms");
}

static int spawned_goroutine_runs_while_spawner_computes(void)
{
    if (t_workers() < 2)
        T_SKIP("needs a second worker");
    t_run(busy_spawner_body, NULL);
    return T_EXIT_PASS;
}

/* Goroutines queued behind one that computes without blocking (fewer than a thief takes as
 * backlog) must not wait for it either: the other worker sees that this one has stopped
 * switching and takes them (2 workers and up). */
static _Atomic int queued_done;

static void mark_queued(void *unused)
{
    (void)unused;
    atomic_fetch_add(&queued_done, 1);
}

static void busy_with_queue_body(void *unused)
{
    (void)unused;
    enum { QUEUED = 3 };
    for (int round = 0; round < 20; round++) {
        atomic_store(&queued_done, 0);
        for (int i = 0; i < QUEUED; i++) /* the newest in spawnnext, the rest in the queue */
            T_OK(rill_go(mark_queued, NULL, 0));
        int64_t end = t_now() + RILL_MS(500);
        while (atomic_load(&queued_done) < QUEUED && t_now() < end)
            ; /* computes: no yield, no blocking call */
        T_CHECKF(atomic_load(&queued_done) == QUEUED,
                 "round %d: %d of %d goroutines queued behind a busy one ran within 500 ms",
                 round, atomic_load(&queued_done), QUEUED);
    }
}

static int queued_goroutines_run_while_their_worker_computes(void)
{
    if (t_workers() < 2)
        T_SKIP("needs a second worker");
    t_run(busy_with_queue_body, NULL);
    return T_EXIT_PASS;
}

/* A goroutine that a channel operation woke waits in its waker's runnext, which wakes no
 * other worker. If the waker then computes without blocking, the woken goroutine must still
 * run: an idle worker takes it (2 workers and up), as Go's would. Each round the receiver
 * parks again and the waker wakes it again on its own worker, so a worker that lost its
 * runnext G to a thief gets the same G back in runnext, round after round; any G run twice
 * or lost shows up as a wrong value, a stall or a crash. Unbuffered and buffered. */
enum { WOKEN_ROUNDS = 40 };
static _Atomic int woken_seen;

struct woken_args {
    struct rill_chan *c;
    struct rill_waitgroup *wg;
};

static void woken_receiver(void *arg)
{
    struct woken_args *a = arg;
    struct rill_chan *c = a->c;
    for (int i = 0; i < WOKEN_ROUNDS; i++) {
        int v = -1;
        T_OK(rill_chan_recv(c, &v));
        T_CHECKF(v == i, "received %d, want %d", v, i);
        atomic_store(&woken_seen, v + 1);
    }
    rill_wg_done(a->wg);
}

static void busy_waker_body(void *arg)
{
    size_t cap = *(size_t *)arg;
    struct rill_chan *c = rill_chan_make(sizeof(int), cap);
    T_CHECK(c != NULL);
    atomic_store(&woken_seen, 0);
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    T_OK(rill_wg_add(&wg, 1));
    struct woken_args a = {c, &wg};
    T_OK(rill_go(woken_receiver, &a, sizeof a));
    for (int i = 0; i < WOKEN_ROUNDS; i++) {
        rill_sleep(RILL_MS(1)); /* the receiver parks in recv; the other worker goes idle */
        T_OK(rill_chan_send(c, &i));
        int64_t t0 = t_now(), end = t0 + RILL_MS(500);
        while (atomic_load(&woken_seen) != i + 1 && t_now() < end)
            ; /* computes: no yield, no blocking call */
        T_CHECKF(atomic_load(&woken_seen) == i + 1,
                 "capacity %zu, round %d: the goroutine this one woke did not run within "
                 "500 ms while it computed",
                 cap, i);
    }
    rill_wg_wait(&wg);
    rill_chan_free(c);
}

static int goroutine_woken_by_a_computing_one_runs_on_another_worker(void)
{
    if (t_workers() < 2)
        T_SKIP("needs a second worker");
    size_t caps[] = {0, 1};
    for (int k = 0; k < 2; k++)
        t_run(busy_waker_body, &caps[k]);
    return T_EXIT_PASS;
}

/* Goroutines that only yield to each other have CPU work to do: with 2 workers both must get
 * some of it, though every one of them was spawned on the same worker, whose queue stays
 * short. Each yielder notes the thread it last ran on; a worker is a thread. (The thief's
 * yield rule spreads them; on a VM whose vCPU stalls now and then, the stuck rule may get
 * there first. Either way a scheduler that never took from a short queue fails here.) */
#define SPREAD_YIELDERS 4
static _Atomic int spread_stop;
static _Atomic unsigned long spread_tid[SPREAD_YIELDERS];

static void spread_yielder(void *arg)
{
    int i = *(int *)arg;
    while (!atomic_load(&spread_stop)) {
        atomic_store(&spread_tid[i], (unsigned long)pthread_self());
        rill_yield();
    }
}

static void spread_warm(void *arg)
{
    rill_wg_done(arg);
}

static void spread_body(void *unused)
{
    (void)unused;
    /* Warm the stack cache first: a fresh stack's page fault (tens of us on a VM) holds up
     * the spawning worker long enough to count as stuck, which would spread the yielders
     * for another reason than the one under test. */
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    T_OK(rill_wg_add(&wg, 2 * SPREAD_YIELDERS));
    for (int i = 0; i < 2 * SPREAD_YIELDERS; i++)
        T_OK(rill_go(spread_warm, &wg, 0));
    rill_wg_wait(&wg);
    atomic_store(&spread_stop, 0);
    for (int i = 0; i < SPREAD_YIELDERS; i++) {
        atomic_store(&spread_tid[i], 0);
        T_OK(rill_go(spread_yielder, &i, sizeof i));
    }
    int spread = 0;
    for (int64_t end = t_now() + RILL_MS(500); !spread && t_now() < end;) {
        rill_sleep(RILL_MS(1));
        for (int i = 1; i < SPREAD_YIELDERS; i++)
            if (atomic_load(&spread_tid[i]) && atomic_load(&spread_tid[0]) &&
                atomic_load(&spread_tid[i]) != atomic_load(&spread_tid[0]))
                spread = 1;
    }
    atomic_store(&spread_stop, 1);
    T_CHECKF(spread, "%d yielding goroutines stayed on one worker for 500 ms", SPREAD_YIELDERS);
    rill_sleep(RILL_MS(1)); /* let the yielders see stop before main returns */
}

static int yielding_goroutines_spread_over_workers(void)
{
    if (t_workers() < 2)
        T_SKIP("needs a second worker");
    t_run(spread_body, NULL);
    return T_EXIT_PASS;
}

/* ---- the x87 and SSE control words belong to the goroutine -------------------------------- */

#if defined(__x86_64__)
static unsigned read_mxcsr(void)
{
    unsigned v;
    __asm__ __volatile__("stmxcsr %0" : "=m"(v));
    return v;
}

static void write_mxcsr(unsigned v)
{
    __asm__ __volatile__("ldmxcsr %0" : : "m"(v));
}

static unsigned short read_fpucw(void)
{
    unsigned short v;
    __asm__ __volatile__("fnstcw %0" : "=m"(v));
    return v;
}

static void write_fpucw(unsigned short v)
{
    __asm__ __volatile__("fldcw %0" : : "m"(v));
}

#define MXCSR_ROUND_DOWN 0x3F80 /* the default 0x1F80 with RC = round toward -inf */
#define FPUCW_SINGLE 0x007F     /* the default 0x037F with PC = single precision */

struct cw_state {
    struct rill_waitgroup wg;
    _Atomic int errors;
};

/* Sets its own control words, then checks after every yield that it still has them. */
static void cw_custom(void *arg)
{
    struct cw_state *s = arg;
    write_mxcsr(MXCSR_ROUND_DOWN);
    write_fpucw(FPUCW_SINGLE);
    for (int i = 0; i < 2000; i++) {
        rill_yield();
        if (read_mxcsr() != MXCSR_ROUND_DOWN || read_fpucw() != FPUCW_SINGLE)
            atomic_fetch_add(&s->errors, 1);
    }
    /* restore the defaults: the G's stack is recycled, but be a good citizen anyway */
    write_mxcsr(0x1F80);
    write_fpucw(0x037F);
    T_OK(rill_wg_done(&s->wg));
}

/* Never touches them: must see the defaults after every yield, not its neighbour's. */
static void cw_default(void *arg)
{
    struct cw_state *s = arg;
    for (int i = 0; i < 2000; i++) {
        rill_yield();
        if (read_mxcsr() != 0x1F80 || read_fpucw() != 0x037F)
            atomic_fetch_add(&s->errors, 1);
    }
    T_OK(rill_wg_done(&s->wg));
}

static void control_words_body(void *arg)
{
    struct cw_state *s = arg;
    T_OK(rill_wg_add(&s->wg, 4));
    T_OK(rill_go(cw_custom, s, 0));
    T_OK(rill_go(cw_default, s, 0));
    T_OK(rill_go(cw_custom, s, 0));
    T_OK(rill_go(cw_default, s, 0));
    T_OK(rill_wg_wait(&s->wg));
}

static int control_words_are_per_goroutine(void)
{
    struct cw_state s = {.wg = RILL_WAITGROUP_INIT};
    t_run(control_words_body, &s);
    T_EQ(atomic_load(&s.errors), 0);
    return T_EXIT_PASS;
}
#else
static int control_words_are_per_goroutine(void)
{
    T_SKIP("x86-64 only");
}
#endif

T_MAIN(T_CASE(two_yielders_on_one_worker_both_progress),
       T_CASE(eight_yielders_on_one_worker_all_progress),
       T_CASE(yielders_on_matrix_workers_all_progress),
       T_CASE(main_yield_lets_spawned_goroutine_run),
       T_CASE(timers_fire_while_others_spin_on_yield),
       T_CASE(spawned_goroutine_runs_while_spawner_computes),
       T_CASE(queued_goroutines_run_while_their_worker_computes),
       T_CASE(goroutine_woken_by_a_computing_one_runs_on_another_worker),
       T_CASE(yielding_goroutines_spread_over_workers),
       T_CASE(control_words_are_per_goroutine))
