/*
 * timer_basic.c - rill_sleep, rill_after, rill_tick: never early, not absurdly late, sleeping
 * parks the goroutine (not the worker), after fires once, tick drops missed ticks, and freeing an
 * unfired timer stops it.
 */
#include "helpers.h"

/* ---- rill_sleep ----------------------------------------------------------------------------- */

static void sleep_bounds_body(void *unused)
{
    (void)unused;
    static const int64_t d[] = {RILL_US(100), RILL_MS(1), RILL_MS(10), RILL_MS(50)};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        for (int rep = 0; rep < 3; rep++) {
            int64_t t0 = t_now();
            rill_sleep(d[i]);
            int64_t el = t_now() - t0;
            T_CHECKF(el >= d[i], "rill_sleep(%lld ns) returned after %lld ns", (long long)d[i],
                     (long long)el);
            T_CHECKF(el < d[i] + T_SLACK, "rill_sleep(%lld ns) took %lld ms", (long long)d[i],
                     (long long)(el / 1000000));
        }
    }
    /* ns <= 0 only yields. */
    int64_t t0 = t_now();
    for (int i = 0; i < 1000; i++) {
        rill_sleep(0);
        rill_sleep(-RILL_SEC(1));
    }
    T_LT(t_now() - t0, RILL_MS(500));
}

static int sleep_never_early_not_much_late(void)
{
    t_run(sleep_bounds_body, NULL);
    return T_EXIT_PASS;
}

/* 200 goroutines sleeping 50 ms each finish in about 50 ms, not 200 x 50 ms: sleep parks the
 * goroutine, not the worker thread (on 1 worker a thread-blocking sleep would take 10 s). */
struct sleeper {
    struct rill_waitgroup *wg;
    _Atomic int *early;
};

static void sleeper(void *arg)
{
    struct sleeper *s = arg;
    int64_t t0 = t_now();
    rill_sleep(RILL_MS(50));
    if (t_now() - t0 < RILL_MS(50))
        atomic_fetch_add(s->early, 1);
    rill_wg_done(s->wg);
}

static void concurrent_sleep_body(void *unused)
{
    (void)unused;
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    _Atomic int early = 0;
    struct sleeper s = {&wg, &early};
    int64_t t0 = t_now();
    T_OK(rill_wg_add(&wg, 200));
    for (int i = 0; i < 200; i++)
        T_OK(rill_go(sleeper, &s, sizeof s));
    T_OK(rill_wg_wait(&wg));
    int64_t el = t_now() - t0;
    T_EQ(atomic_load(&early), 0);
    T_CHECKF(el < RILL_MS(50) + RILL_MS(500) + (T_SANITIZER ? RILL_MS(4000) : 0), "200 concurrent 50 ms sleeps took %lld ms",
             (long long)(el / 1000000));
}

static int sleep_parks_goroutine_not_worker(void)
{
    t_run(concurrent_sleep_body, NULL);
    return T_EXIT_PASS;
}

/* Many sleeps with random durations: each is never early. */
struct rnd_sleeper {
    struct rill_waitgroup *wg;
    _Atomic int *early;
    uint64_t seed;
};

/* Sleep a random time below max; count it in *early if the sleep returned before it. */
static void random_nap(uint64_t *rng, int64_t max, _Atomic int *early)
{
    int64_t d = (int64_t)t_rng_below(rng, (uint64_t)max);
    int64_t t0 = t_now();
    rill_sleep(d);
    if (t_now() - t0 < d)
        atomic_fetch_add(early, 1);
}

static void random_sleeper(void *arg)
{
    struct rnd_sleeper *s = arg;
    uint64_t rng = s->seed;
    for (int i = 0; i < 5; i++)
        random_nap(&rng, RILL_MS(20), s->early);
    rill_wg_done(s->wg);
}

static void random_sleep_body(void *unused)
{
    (void)unused;
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    _Atomic int early = 0;
    T_OK(rill_wg_add(&wg, 500));
    for (int i = 0; i < 500; i++) {
        struct rnd_sleeper s = {&wg, &early, t_rng_split((uint64_t)i)};
        T_OK(rill_go(random_sleeper, &s, sizeof s));
    }
    T_OK(rill_wg_wait(&wg));
    T_EQ(atomic_load(&early), 0);
}

static int many_random_sleeps_never_early(void)
{
    t_run(random_sleep_body, NULL);
    return T_EXIT_PASS;
}

/* Sleeps (timers the heap never needs to find again) and select deadlines that are removed
 * before they fire, all on one heap at once: every removal must take out its own entry while
 * sleepers' entries move around it. A wrong index would drop a sleeper's timer (a hang) or
 * fire something early. */
struct mixed {
    struct rill_waitgroup *wg;
    _Atomic int *bad;
    uint64_t seed;
};

static void mixed_sender(void *arg)
{
    struct rill_chan *c = *(struct rill_chan **)arg;
    rill_sleep(RILL_MS(2));
    int64_t v = 7;
    T_OK(rill_chan_send(c, &v));
}

static void mixed_worker(void *arg)
{
    struct mixed *m = arg;
    uint64_t rng = m->seed;
    for (int i = 0; i < 4; i++) {
        random_nap(&rng, RILL_MS(5), m->bad);
        /* a deadline far away, removed when the sender comes 2 ms later */
        struct rill_chan *c = rill_chan_make(sizeof(int64_t), 0);
        T_NOTNULL(c);
        T_OK(rill_go(mixed_sender, &c, sizeof c));
        int64_t v = 0;
        struct rill_case cs = {c, RILL_RECV, &v, 0};
        if (rill_select(&cs, 1, t_now() + RILL_SEC(5)) != 0 || v != 7)
            atomic_fetch_add(m->bad, 1);
        rill_chan_free(c);
    }
    rill_wg_done(m->wg);
}

static void mixed_body(void *unused)
{
    (void)unused;
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    _Atomic int bad = 0;
    T_OK(rill_wg_add(&wg, 300));
    for (int i = 0; i < 300; i++) {
        struct mixed m = {&wg, &bad, t_rng_split((uint64_t)i + 1000)};
        T_OK(rill_go(mixed_worker, &m, sizeof m));
    }
    T_OK(rill_wg_wait(&wg));
    T_EQ(atomic_load(&bad), 0);
}

static int sleeps_and_removed_deadlines_share_a_heap(void)
{
    t_run(mixed_body, NULL);
    return T_EXIT_PASS;
}

/* ---- rill_after ---------------------------------------------------------------------------- */

static void after_body(void *unused)
{
    (void)unused;
    static const int64_t d[] = {RILL_MS(1), RILL_MS(30)};
    for (size_t i = 0; i < 2; i++) {
        int64_t start = rill_now();
        struct rill_chan *c = rill_after(d[i]);
        T_NOTNULL(c);
        T_EQ(rill_chan_cap(c), 1);
        int64_t fired = 0;
        T_OK(rill_chan_recv(c, &fired));
        int64_t got_at = rill_now();
        T_CHECKF(fired >= start + d[i], "fire time %lld ns before start+ns",
                 (long long)(start + d[i] - fired));
        T_LE(fired, got_at); /* the time it carries is not in the future */
        T_CHECKF(got_at - start < d[i] + T_SLACK, "after(%lld ms) arrived after %lld ms",
                 (long long)(d[i] / 1000000), (long long)((got_at - start) / 1000000));
        /* fires once: nothing more arrives */
        int64_t again = 0;
        struct rill_case cs[1] = {{c, RILL_RECV, &again, 0}};
        T_ERR(rill_select(cs, 1, rill_now() + RILL_MS(3) * 10), -ETIMEDOUT);
        T_EQ(rill_chan_len(c), 0);
        rill_chan_free(c);
    }
    /* Not received for a while: the value waits in the channel. */
    struct rill_chan *c = rill_after(RILL_MS(1));
    T_NOTNULL(c);
    rill_sleep(RILL_MS(20));
    T_EQ(rill_chan_len(c), 1);
    int64_t fired = 0;
    T_OK(rill_chan_try_recv(c, &fired));
    T_GT(fired, 0);
    rill_chan_free(c);
    /* ns <= 0 fires at once */
    c = rill_after(0);
    T_NOTNULL(c);
    struct rill_case cs[1] = {{c, RILL_RECV, &fired, 0}};
    T_EQ(rill_select(cs, 1, rill_now() + T_SLACK), 0);
    rill_chan_free(c);
}

static int after_fires_once_with_fire_time(void)
{
    t_run(after_body, NULL);
    return T_EXIT_PASS;
}

/* rill_after from many goroutines, received through select with other channels. */
struct after_job {
    struct rill_waitgroup *wg;
    _Atomic int *bad;
    int64_t ns;
};

static void after_waiter(void *arg)
{
    struct after_job *j = arg;
    struct rill_chan *never = rill_chan_make(sizeof(int), 0);
    int64_t start = rill_now();
    struct rill_chan *t = rill_after(j->ns);
    if (!t || !never) {
        atomic_fetch_add(j->bad, 1);
    } else {
        int64_t fired = 0;
        int dummy;
        struct rill_case cs[2] = {{never, RILL_RECV, &dummy, 0}, {t, RILL_RECV, &fired, 0}};
        int k = rill_select(cs, 2, RILL_FOREVER);
        if (k != 1 || fired < start + j->ns)
            atomic_fetch_add(j->bad, 1);
    }
    rill_chan_free(t);
    rill_chan_free(never);
    rill_wg_done(j->wg);
}

static void many_after_body(void *unused)
{
    (void)unused;
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    _Atomic int bad = 0;
    uint64_t rng = t_rng_split(99);
    T_OK(rill_wg_add(&wg, 1000));
    for (int i = 0; i < 1000; i++) {
        struct after_job j = {&wg, &bad, (int64_t)t_rng_below(&rng, RILL_MS(30))};
        T_OK(rill_go(after_waiter, &j, sizeof j));
    }
    T_OK(rill_wg_wait(&wg));
    T_EQ(atomic_load(&bad), 0);
}

static int many_after_timers_in_select(void)
{
    t_run(many_after_body, NULL);
    return T_EXIT_PASS;
}

/* ---- rill_tick ----------------------------------------------------------------------------- */

static void tick_body(void *unused)
{
    (void)unused;
    const int64_t period = RILL_MS(20);
    T_CHECK(rill_tick(0) == NULL);
    T_CHECK(rill_tick(-RILL_MS(1)) == NULL);
    int64_t start = rill_now();
    struct rill_chan *c = rill_tick(period);
    T_NOTNULL(c);
    int64_t prev = start;
    for (int k = 1; k <= 6; k++) {
        int64_t t = 0;
        T_OK(rill_chan_recv(c, &t));
        int64_t now = rill_now();
        T_CHECKF(t > prev, "tick %d time %lld not after previous %lld", k, (long long)t,
                 (long long)prev);
        T_LE(t, now);
        /* The k-th tick is due at start + k*period: never before. */
        T_CHECKF(now >= start + k * period, "tick %d arrived %lld ns early", k,
                 (long long)(start + k * period - now));
        prev = t;
    }
    int64_t el = rill_now() - start;
    T_CHECKF(el < 6 * period + T_SLACK, "6 ticks of 20 ms took %lld ms", (long long)(el / 1000000));
    rill_chan_free(c);
}

static int tick_delivers_every_period(void)
{
    t_run(tick_body, NULL);
    return T_EXIT_PASS;
}

static void tick_slow_reader_body(void *unused)
{
    (void)unused;
    const int64_t period = RILL_MS(5);
    struct rill_chan *c = rill_tick(period);
    T_NOTNULL(c);
    rill_sleep(RILL_MS(150)); /* about 30 periods missed */
    T_LE(rill_chan_len(c), 1);
    /* Read as fast as possible: at most the one buffered tick (plus one more if a period boundary
     * passes during this loop), never the ~30 missed ones. */
    int burst = 0;
    int64_t t0 = rill_now();
    int64_t v;
    while (rill_chan_try_recv(c, &v) == 0)
        burst++;
    int64_t loop = rill_now() - t0;
    T_CHECKF(burst >= 1 && burst <= 2 + (int)(loop / period), "%d ticks queued for a slow reader",
             burst);
    /* and ticking goes on afterwards, on schedule */
    int64_t before = rill_now();
    T_OK(rill_chan_recv(c, &v));
    T_LT(rill_now() - before, period + T_SLACK);
    rill_chan_free(c);
}

static int tick_drops_missed_ticks_for_slow_reader(void)
{
    t_run(tick_slow_reader_body, NULL);
    return T_EXIT_PASS;
}

/* ---- freeing a timer stops it --------------------------------------------------------------- */

static void free_unfired_body(void *unused)
{
    (void)unused;
    /* Many timers freed before they fire; then wait past their fire time. A timer that still
     * fired would write into freed memory (ASan reports it; without ASan it corrupts the heap,
     * which the allocations below tend to expose). */
    for (int i = 0; i < 2000; i++) {
        struct rill_chan *c = rill_after(RILL_MS(5) + (i % 10) * RILL_MS(1));
        T_NOTNULL(c);
        rill_chan_free(c);
    }
    struct rill_chan *tk[50];
    for (int i = 0; i < 50; i++) {
        tk[i] = rill_tick(RILL_MS(1));
        T_NOTNULL(tk[i]);
    }
    rill_sleep(RILL_MS(3));
    for (int i = 0; i < 50; i++)
        rill_chan_free(tk[i]); /* running tickers, some with a tick buffered */
    void *junk[2000];
    for (int i = 0; i < 2000; i++) {
        junk[i] = malloc(64 + (size_t)i % 200);
        T_NOTNULL(junk[i]);
        memset(junk[i], 0x3C, 64);
    }
    rill_sleep(RILL_MS(40));
    for (int i = 0; i < 2000; i++) {
        unsigned char *p = junk[i];
        for (int b = 0; b < 64; b++)
            T_CHECKF(p[b] == 0x3C, "heap block %d overwritten after timers were freed", i);
        free(junk[i]);
    }
    /* And timers still work afterwards. */
    struct rill_chan *c = rill_after(RILL_MS(2));
    T_NOTNULL(c);
    int64_t v;
    T_OK(rill_chan_recv(c, &v));
    rill_chan_free(c);
}

static int free_unfired_after_stops_it(void)
{
    t_run(free_unfired_body, NULL);
    return T_EXIT_PASS;
}

/* ---- durations past the end of the clock ----------------------------------------------------- */

/* now + ns overflowing int64 must mean "never", not a deadline in the past: these slept for
 * a microsecond, fired at once, or (the tick) re-armed in a loop that hung a worker. */
struct huge_nap {
    int64_t ns;
    _Atomic int *woke;
};

static void huge_sleeper(void *arg)
{
    struct huge_nap *n = arg;
    rill_sleep(n->ns);
    atomic_fetch_add(n->woke, 1);
}

static void huge_durations_body(void *unused)
{
    (void)unused;
    static _Atomic int woke;
    struct huge_nap naps[] = {{INT64_MAX, &woke}, {INT64_MAX - 1000, &woke}};
    for (int i = 0; i < 2; i++)
        T_OK(rill_go(huge_sleeper, &naps[i], sizeof naps[i]));

    int64_t ft = 0;
    struct rill_chan *after = rill_after(INT64_MAX);
    T_NOTNULL(after);
    struct rill_case k = {after, RILL_RECV, &ft, 0};
    T_ERR(rill_select(&k, 1, rill_now() + RILL_MS(30)), -ETIMEDOUT);
    rill_chan_free(after);

    struct rill_chan *tick = rill_tick(INT64_MAX);
    T_NOTNULL(tick);
    k.chan = tick;
    T_ERR(rill_select(&k, 1, rill_now() + RILL_MS(30)), -ETIMEDOUT);
    rill_chan_free(tick);

    T_EQ(atomic_load(&woke), 0); /* main returns with the two sleepers still parked */
}

static int huge_durations_never_fire(void)
{
    t_run(huge_durations_body, NULL);
    return T_EXIT_PASS;
}

/* A timer channel or a context with a deadline may outlive the run that made it: freeing it
 * after rill_run returned touches nothing the run freed (its Ps and their timer heaps). */
static struct rill_chan *outliving[2];
static struct rill_ctx *outliving_ctx;

static void outliving_body(void *unused)
{
    (void)unused;
    outliving[0] = rill_after(RILL_SEC(60));
    outliving[1] = rill_tick(RILL_SEC(60));
    outliving_ctx = rill_ctx_new(NULL, rill_now() + RILL_SEC(60));
    T_NOTNULL(outliving[0]);
    T_NOTNULL(outliving[1]);
    T_NOTNULL(outliving_ctx);
}

static int timers_outlive_their_run(void)
{
    t_run(outliving_body, NULL);
    rill_chan_free(outliving[0]); /* after the run: its timer must be stopped already */
    rill_chan_free(outliving[1]);
    T_OK(rill_ctx_free(outliving_ctx));
    t_run(outliving_body, NULL); /* a second run: the same again, freed in between runs */
    rill_chan_free(outliving[0]);
    rill_chan_free(outliving[1]);
    T_OK(rill_ctx_free(outliving_ctx));
    return T_EXIT_PASS;
}

/* A context made before rill_run (or kept from an earlier run) still ends at its deadline:
 * its done channel closes during the run, and once it reported -ETIMEDOUT it keeps it. A
 * deadline already past, negative ones included, gives a context that is done at once. */
static struct rill_ctx *early_ctx;
static int64_t early_deadline;

static void early_ctx_body(void *unused)
{
    (void)unused;
    struct rill_case cs[1] = {{rill_ctx_done(early_ctx), RILL_RECV, NULL, 0}};
    T_EQ(rill_select(cs, 1, t_now() + RILL_SEC(5)), 0); /* closed by the deadline, not the cap */
    T_GE(t_now(), early_deadline);                       /* and not before it */
    T_ERR(rill_ctx_err(early_ctx), -ETIMEDOUT);
    rill_ctx_cancel(early_ctx);
    T_ERR(rill_ctx_err(early_ctx), -ETIMEDOUT); /* a done context stays done as it was */
}

static int context_made_before_the_run_ends_at_its_deadline(void)
{
    early_deadline = t_now() + RILL_MS(30);
    early_ctx = rill_ctx_new(NULL, early_deadline);
    T_NOTNULL(early_ctx);
    t_run(early_ctx_body, NULL);
    T_OK(rill_ctx_free(early_ctx));
    int64_t past[] = {1, -2, INT64_MIN};
    for (int i = 0; i < 3; i++) {
        struct rill_ctx *c = rill_ctx_new(NULL, past[i]);
        T_NOTNULL(c);
        T_ERR(rill_ctx_err(c), -ETIMEDOUT);
        T_OK(rill_ctx_free(c));
    }
    return T_EXIT_PASS;
}

/* Outside a runtime there is nothing to run a timer: NULL. */
static int timers_outside_runtime_null(void)
{
    T_CHECK(rill_after(RILL_MS(1)) == NULL);
    T_CHECK(rill_tick(RILL_MS(1)) == NULL);
    return T_EXIT_PASS;
}

T_MAIN(T_CASE(sleep_never_early_not_much_late),
       T_CASE(sleep_parks_goroutine_not_worker),
       T_CASE(many_random_sleeps_never_early),
       T_CASE(sleeps_and_removed_deadlines_share_a_heap),
       T_CASE(after_fires_once_with_fire_time),
       T_CASE(many_after_timers_in_select),
       T_CASE(tick_delivers_every_period),
       T_CASE(tick_drops_missed_ticks_for_slow_reader),
       T_CASE(free_unfired_after_stops_it),
       T_CASE(huge_durations_never_fire),
       T_CASE(timers_outside_runtime_null),
       T_CASE(timers_outlive_their_run),
       T_CASE(context_made_before_the_run_ends_at_its_deadline))
