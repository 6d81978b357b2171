/*
 * sync_basic.c - WaitGroup and Mutex: counting, -EINVAL on a negative counter, reuse, many
 * waiters, a done racing the wait; mutual exclusion across yields and sleeps inside the
 * critical section, trylock, unlock by another goroutine, and the fatal unlock of an unlocked
 * mutex.
 */
#include "helpers.h"

/* ---- WaitGroup ----------------------------------------------------------------------------- */

struct wg_job {
    struct rill_waitgroup *wg;
    _Atomic int *count;
    int64_t delay;
};

static void delayed_done(void *arg)
{
    struct wg_job *j = arg;
    rill_sleep(j->delay);
    atomic_fetch_add(j->count, 1);
    T_OK(rill_wg_done(j->wg));
}

static void wg_body(void *unused)
{
    (void)unused;
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    _Atomic int count = 0;
    T_OK(rill_wg_wait(&wg)); /* zero counter: returns at once */

    for (int round = 0; round < 3; round++) { /* reusable once back at zero */
        atomic_store(&count, 0);
        T_OK(rill_wg_add(&wg, 3));
        T_OK(rill_wg_add(&wg, 2)); /* adds accumulate */
        for (int i = 0; i < 5; i++) {
            struct wg_job j = {&wg, &count, RILL_MS(5) * (i + 1)};
            T_OK(rill_go(delayed_done, &j, sizeof j));
        }
        T_OK(rill_wg_wait(&wg));
        T_EQ(atomic_load(&count), 5); /* wait returned only after the last done */
    }

    /* Negative counter: -EINVAL, and the counter is unchanged. */
    T_ERR(rill_wg_done(&wg), -EINVAL);
    T_ERR(rill_wg_add(&wg, -1), -EINVAL);
    T_OK(rill_wg_add(&wg, 2));
    T_ERR(rill_wg_add(&wg, -3), -EINVAL);
    T_OK(rill_wg_add(&wg, -2)); /* back to 0 by a negative add */
    T_OK(rill_wg_wait(&wg));
    T_OK(rill_wg_add(&wg, 0));

    /* Zero-filled storage works like RILL_WAITGROUP_INIT. */
    struct rill_waitgroup z;
    memset(&z, 0, sizeof z);
    T_OK(rill_wg_add(&z, 1));
    T_OK(rill_wg_done(&z));
    T_OK(rill_wg_wait(&z));
}

static int waitgroup_counts_and_rejects_negative(void)
{
    t_run(wg_body, NULL);
    return T_EXIT_PASS;
}

/* Several goroutines waiting on the same group are all released by the last done. */
struct multi {
    struct rill_waitgroup *gate, *finished;
    _Atomic int *released;
};

static void gate_waiter(void *arg)
{
    struct multi *m = arg;
    T_OK(rill_wg_wait(m->gate));
    atomic_fetch_add(m->released, 1);
    T_OK(rill_wg_done(m->finished));
}

static void multi_wait_body(void *unused)
{
    (void)unused;
    struct rill_waitgroup gate = RILL_WAITGROUP_INIT, finished = RILL_WAITGROUP_INIT;
    _Atomic int released = 0;
    struct multi m = {&gate, &finished, &released};
    T_OK(rill_wg_add(&gate, 1));
    T_OK(rill_wg_add(&finished, 20));
    for (int i = 0; i < 20; i++)
        T_OK(rill_go(gate_waiter, &m, sizeof m));
    rill_sleep(RILL_MS(20));
    T_EQ(atomic_load(&released), 0); /* still held by the gate */
    T_OK(rill_wg_done(&gate));
    T_OK(rill_wg_wait(&finished));
    T_EQ(atomic_load(&released), 20);
}

static int waitgroup_releases_every_waiter(void)
{
    t_run(multi_wait_body, NULL);
    return T_EXIT_PASS;
}

/* A done that lands while the waiter is between its first look at the counter and queueing
 * itself must still hand the finished work to the waiter (under TSan: no race report on the
 * plain int). A thread calls done after a random short delay, against a wait started at once. */
struct wg_race {
    struct rill_waitgroup wg;
    _Atomic int go;
    int rounds;
    int work; /* plain on purpose: wait() must order it */
};

static void *wg_race_thread(void *arg)
{
    struct wg_race *r = arg;
    uint64_t rng = t_rng_split(7);
    for (int i = 1; i <= r->rounds; i++) {
        while (atomic_load_explicit(&r->go, memory_order_acquire) != i)
            sched_yield();
        for (volatile uint64_t n = t_rng_below(&rng, 400); n > 0; n--)
            ;
        r->work = i;
        T_OK(rill_wg_done(&r->wg));
    }
    return NULL;
}

static void wg_race_body(void *arg)
{
    struct wg_race *r = arg;
    pthread_t t;
    T_CHECK(pthread_create(&t, NULL, wg_race_thread, r) == 0);
    for (int i = 1; i <= r->rounds; i++) {
        T_OK(rill_wg_add(&r->wg, 1));
        atomic_store_explicit(&r->go, i, memory_order_release);
        T_OK(rill_wg_wait(&r->wg));
        T_EQ(r->work, i);
    }
    T_CHECK(pthread_join(t, NULL) == 0);
}

static int waitgroup_wait_orders_a_racing_done(void)
{
    struct wg_race r = {.wg = RILL_WAITGROUP_INIT, .rounds = T_SANITIZER ? 20000 : 100000};
    t_run(wg_race_body, &r);
    return T_EXIT_PASS;
}

/* ---- Mutex --------------------------------------------------------------------------------- */

struct mx {
    struct rill_mutex mu;
    struct rill_waitgroup wg;
    long counter;       /* guarded by mu; updated read-yield-write on purpose */
    _Atomic int inside; /* goroutines in the critical section: must never exceed 1 */
    _Atomic int overlap;
    int iters;
    int64_t hold_sleep; /* >0: sleep (park) while holding the lock */
};

static void incrementer(void *arg)
{
    struct mx *m = *(struct mx **)arg;
    for (int i = 0; i < m->iters; i++) {
        rill_mutex_lock(&m->mu);
        if (atomic_fetch_add(&m->inside, 1) != 0)
            atomic_fetch_add(&m->overlap, 1);
        long v = m->counter;
        if (m->hold_sleep)
            rill_sleep(m->hold_sleep);
        else
            rill_yield(); /* another goroutine runs here: without exclusion it would interleave */
        m->counter = v + 1;
        atomic_fetch_sub(&m->inside, 1);
        rill_mutex_unlock(&m->mu);
    }
    T_OK(rill_wg_done(&m->wg));
}

static void mutex_body(void *arg)
{
    struct mx *m = arg;
    struct mx *mp = m;
    const int g = 16;
    T_OK(rill_wg_add(&m->wg, g));
    for (int i = 0; i < g; i++)
        T_OK(rill_go(incrementer, &mp, sizeof mp));
    T_OK(rill_wg_wait(&m->wg));
    T_EQ(atomic_load(&m->overlap), 0);
    T_EQ(m->counter, (long)g * m->iters);
}

static int mutex_excludes_across_yield(void)
{
    struct mx m = {.mu = RILL_MUTEX_INIT, .wg = RILL_WAITGROUP_INIT, .iters = 2000};
    t_run(mutex_body, &m);
    T_EQ(m.counter, 16L * 2000);
    return T_EXIT_PASS;
}

/* Holding the lock across a sleep: waiters must park (a worker spinning on the lock would keep
 * the holder's timer from ever running on 1 worker). */
static int mutex_excludes_across_sleep(void)
{
    struct mx m = {.mu = RILL_MUTEX_INIT, .wg = RILL_WAITGROUP_INIT, .iters = 3,
                   .hold_sleep = RILL_MS(2)};
    int64_t t0 = t_now();
    t_run(mutex_body, &m);
    T_EQ(m.counter, 16L * 3);
    T_GE(t_now() - t0, 48 * RILL_MS(2)); /* the 48 holds were serial */
    return T_EXIT_PASS;
}

static _Atomic int other_trylock_rc = 1;

static void try_from_other(void *arg)
{
    struct rill_mutex *mu = *(struct rill_mutex **)arg;
    atomic_store(&other_trylock_rc, rill_mutex_trylock(mu));
}

static void unlock_from_other(void *arg)
{
    struct rill_mutex *mu = *(struct rill_mutex **)arg;
    rill_mutex_unlock(mu);
}

static void trylock_body(void *unused)
{
    (void)unused;
    struct rill_mutex mu = RILL_MUTEX_INIT;
    struct rill_mutex *mp = &mu;
    T_OK(rill_mutex_trylock(&mu));
    T_ERR(rill_mutex_trylock(&mu), -EBUSY); /* not reentrant */
    T_OK(rill_go(try_from_other, &mp, sizeof mp));
    T_WAIT_UNTIL(atomic_load(&other_trylock_rc) != 1, RILL_SEC(10));
    T_ERR(atomic_load(&other_trylock_rc), -EBUSY);
    rill_mutex_unlock(&mu);
    T_OK(rill_mutex_trylock(&mu));
    rill_mutex_unlock(&mu);

    /* Go allows unlocking from another goroutine. */
    rill_mutex_lock(&mu);
    T_OK(rill_go(unlock_from_other, &mp, sizeof mp));
    rill_mutex_lock(&mu); /* blocks until the other goroutine unlocks */
    T_ERR(rill_mutex_trylock(&mu), -EBUSY);
    rill_mutex_unlock(&mu);

    /* zero-filled storage is an unlocked mutex */
    struct rill_mutex z;
    memset(&z, 0, sizeof z);
    T_OK(rill_mutex_trylock(&z));
    rill_mutex_unlock(&z);
}

static int mutex_trylock_busy_and_cross_goroutine_unlock(void)
{
    t_run(trylock_body, NULL);
    return T_EXIT_PASS;
}

/* Unlocking an unlocked mutex is fatal (rill.h): the process must die, not carry on. */
static void bad_unlock_body(void *unused)
{
    (void)unused;
    struct rill_mutex mu = RILL_MUTEX_INIT;
    rill_mutex_unlock(&mu);
    printf("survived unlock of an unlocked mutex\n");
}

static int child_unlock_unlocked(void)
{
    rill_run(bad_unlock_body, NULL, NULL);
    printf("rill_run returned\n");
    return T_EXIT_PASS;
}

static int unlock_of_unlocked_mutex_is_fatal(void)
{
    static struct t_child c;
    t_spawn_self("child_unlock_unlocked", 20000, &c);
    if (c.timed_out || !WIFSIGNALED(c.status) || strstr(c.out, "survived")) {
        t_child_dump(&c);
        T_FAIL("expected the process to die on a signal");
    }
    return T_EXIT_PASS;
}

T_MAIN(T_CASE(waitgroup_counts_and_rejects_negative),
       T_CASE(waitgroup_releases_every_waiter),
       T_CASE(waitgroup_wait_orders_a_racing_done),
       T_CASE(mutex_excludes_across_yield),
       T_CASE(mutex_excludes_across_sleep),
       T_CASE(mutex_trylock_busy_and_cross_goroutine_unlock),
       T_CASE(unlock_of_unlocked_mutex_is_fatal),
       T_CHILD(child_unlock_unlocked))
