/*
 * foreign_thread.c - threads the runtime did not create, while a runtime runs: channel send and
 * recv both ways, select with a deadline, rill_go, rill_wg_wait, rill_sleep and close. Such a
 * call blocks that thread, never a worker: with RILL_WORKERS=1 a foreign thread blocked in recv
 * must not stop goroutines from running.
 *
 * The main goroutine never pthread_joins a thread that is still working: that would block the
 * worker. The threads report completion over a channel first; the join after it is immediate.
 */
#include "helpers.h"

struct shared {
    struct rill_chan *data;
    struct rill_chan *done; /* elem 0, cap 8: each foreign thread signals here when finished */
    struct rill_waitgroup wg;
    _Atomic int count;
    _Atomic int errors;
    int n;
};

#define FCHECK(s, cond)                                                                       \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "foreign thread: %s:%d: %s failed\n", __FILE__, __LINE__, #cond);  \
            atomic_fetch_add(&(s)->errors, 1);                                                \
        }                                                                                     \
    } while (0)

/* ---- thread sends, goroutine receives (and vice versa) ------------------------------------ */

static void *thread_sender(void *arg)
{
    struct shared *s = arg;
    FCHECK(s, rill_id() == 0);
    for (int i = 0; i < s->n; i++)
        FCHECK(s, rill_chan_send(s->data, &i) == 0);
    FCHECK(s, rill_chan_close(s->data) == 0);
    FCHECK(s, rill_chan_send(s->done, NULL) == 0);
    return NULL;
}

static void *thread_receiver(void *arg)
{
    struct shared *s = arg;
    int v, want = 0, rc;
    while ((rc = rill_chan_recv(s->data, &v)) == 0) {
        FCHECK(s, v == want);
        want++;
    }
    FCHECK(s, rc == -EPIPE);
    FCHECK(s, want == s->n);
    FCHECK(s, rill_chan_send(s->done, NULL) == 0);
    return NULL;
}

static void ping_body(void *arg)
{
    struct shared *s = arg;
    s->done = rill_chan_make(0, 8);
    T_NOTNULL(s->done);
    for (size_t cap = 0; cap <= 4; cap += 4) {
        /* foreign -> goroutine */
        s->data = rill_chan_make(sizeof(int), cap);
        T_NOTNULL(s->data);
        pthread_t th;
        T_OK(pthread_create(&th, NULL, thread_sender, s));
        int v, want = 0, rc;
        while ((rc = rill_chan_recv(s->data, &v)) == 0) {
            T_EQ(v, want);
            want++;
        }
        T_ERR(rc, -EPIPE);
        T_EQ(want, s->n);
        T_OK(rill_chan_recv(s->done, NULL));
        T_OK(pthread_join(th, NULL));
        rill_chan_free(s->data);

        /* goroutine -> foreign */
        s->data = rill_chan_make(sizeof(int), cap);
        T_NOTNULL(s->data);
        T_OK(pthread_create(&th, NULL, thread_receiver, s));
        for (int i = 0; i < s->n; i++)
            T_OK(rill_chan_send(s->data, &i));
        T_OK(rill_chan_close(s->data));
        T_OK(rill_chan_recv(s->done, NULL));
        T_OK(pthread_join(th, NULL));
        rill_chan_free(s->data);
    }
    rill_chan_free(s->done);
}

static int foreign_thread_sends_and_receives(void)
{
    struct shared s = {.n = 5000, .wg = RILL_WAITGROUP_INIT};
    t_run(ping_body, &s);
    T_EQ(atomic_load(&s.errors), 0);
    return T_EXIT_PASS;
}

/* ---- a foreign thread blocked in recv does not block a worker ----------------------------- */

static void *thread_blocked_recv(void *arg)
{
    struct shared *s = arg;
    int v = 0;
    FCHECK(s, rill_chan_recv(s->data, &v) == 0);
    FCHECK(s, v == 123);
    FCHECK(s, rill_chan_send(s->done, NULL) == 0);
    return NULL;
}

static void count_up(void *arg)
{
    struct shared *s = arg;
    atomic_fetch_add(&s->count, 1);
    T_OK(rill_wg_done(&s->wg));
}

static void not_blocking_body(void *arg)
{
    struct shared *s = arg;
    s->done = rill_chan_make(0, 8);
    T_NOTNULL(s->done);
    s->data = rill_chan_make(sizeof(int), 0);
    T_NOTNULL(s->data);
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        T_OK(pthread_create(&th[i], NULL, thread_blocked_recv, s));
    t_thread_sleep(RILL_MS(20)); /* let them block (this parks the worker briefly; fine) */
    T_OK(rill_wg_add(&s->wg, 100));
    for (int i = 0; i < 100; i++)
        T_OK(rill_go(count_up, s, 0));
    T_OK(rill_wg_wait(&s->wg)); /* needs a free worker even though 3 threads sit in recv */
    T_EQ(atomic_load(&s->count), 100);
    int v = 123;
    for (int i = 0; i < 3; i++)
        T_OK(rill_chan_send(s->data, &v));
    for (int i = 0; i < 3; i++)
        T_OK(rill_chan_recv(s->done, NULL));
    for (int i = 0; i < 3; i++)
        T_OK(pthread_join(th[i], NULL));
    rill_chan_free(s->data);
    rill_chan_free(s->done);
}

static int foreign_thread_blocking_does_not_hold_a_worker(void)
{
    struct shared s = {.wg = RILL_WAITGROUP_INIT};
    t_run(not_blocking_body, &s);
    T_EQ(atomic_load(&s.errors), 0);
    return T_EXIT_PASS;
}

/* ---- rill_go, rill_wg_wait, rill_sleep, select from a foreign thread ------------------------ */

static void slow_done(void *arg)
{
    struct shared *s = arg;
    FCHECK(s, rill_id() > 1); /* a real goroutine, although a foreign thread started it */
    rill_sleep(RILL_MS(20));
    atomic_fetch_add(&s->count, 1);
    T_OK(rill_wg_done(&s->wg));
}

static void *thread_uses_runtime(void *arg)
{
    struct shared *s = arg;
    /* rill_go + rill_wg_wait */
    FCHECK(s, rill_wg_add(&s->wg, 10) == 0);
    /* t0 before the spawns: a goroutine may start its 20 ms sleep before the loop ends */
    int64_t t0 = t_now();
    for (int i = 0; i < 10; i++)
        FCHECK(s, rill_go(slow_done, s, 0) == 0);
    FCHECK(s, rill_wg_wait(&s->wg) == 0);
    FCHECK(s, atomic_load(&s->count) == 10); /* wait returned only after all were done */
    FCHECK(s, t_now() - t0 >= RILL_MS(20));

    /* rill_sleep: at least that long */
    t0 = t_now();
    rill_sleep(RILL_MS(30));
    int64_t el = t_now() - t0;
    FCHECK(s, el >= RILL_MS(30));
    FCHECK(s, el < RILL_MS(30) + T_SLACK);

    /* select with a deadline and nothing ready: -ETIMEDOUT, not early */
    struct rill_chan *never = rill_chan_make(sizeof(int), 0);
    int v;
    struct rill_case cs[1] = {{never, RILL_RECV, &v, 0}};
    int64_t dl = rill_now() + RILL_MS(20);
    FCHECK(s, rill_select(cs, 1, dl) == -ETIMEDOUT);
    FCHECK(s, rill_now() >= dl);
    rill_chan_free(never);

    /* select that a goroutine completes: the main goroutine sends on data */
    struct rill_case rs[2] = {{NULL, RILL_RECV, NULL, 0}, {s->data, RILL_RECV, &v, 0}};
    FCHECK(s, rill_select(rs, 2, rill_now() + RILL_SEC(10)) == 1);
    FCHECK(s, v == 777);

    FCHECK(s, rill_chan_send(s->done, NULL) == 0);
    return NULL;
}

static void runtime_calls_body(void *arg)
{
    struct shared *s = arg;
    s->done = rill_chan_make(0, 8);
    T_NOTNULL(s->done);
    s->data = rill_chan_make(sizeof(int), 0);
    T_NOTNULL(s->data);
    pthread_t th;
    T_OK(pthread_create(&th, NULL, thread_uses_runtime, s));
    int v = 777;
    T_OK(rill_chan_send(s->data, &v));
    T_OK(rill_chan_recv(s->done, NULL));
    T_OK(pthread_join(th, NULL));
    rill_chan_free(s->data);
    rill_chan_free(s->done);
}

static int foreign_thread_calls_go_wait_sleep_select(void)
{
    struct shared s = {.wg = RILL_WAITGROUP_INIT};
    t_run(runtime_calls_body, &s);
    T_EQ(atomic_load(&s.errors), 0);
    return T_EXIT_PASS;
}

/* ---- close from a foreign thread wakes parked goroutines ----------------------------------- */

static void parked_recv(void *arg)
{
    struct shared *s = arg;
    int v;
    T_ERR(rill_chan_recv(s->data, &v), -EPIPE);
    T_OK(rill_wg_done(&s->wg));
}

static void *thread_closer(void *arg)
{
    struct shared *s = arg;
    t_thread_sleep(RILL_MS(20));
    FCHECK(s, rill_chan_close(s->data) == 0);
    return NULL;
}

static void close_body(void *arg)
{
    struct shared *s = arg;
    s->data = rill_chan_make(sizeof(int), 0);
    T_NOTNULL(s->data);
    T_OK(rill_wg_add(&s->wg, 8));
    for (int i = 0; i < 8; i++)
        T_OK(rill_go(parked_recv, s, 0));
    pthread_t th;
    T_OK(pthread_create(&th, NULL, thread_closer, s));
    T_OK(rill_wg_wait(&s->wg));
    T_OK(pthread_join(th, NULL)); /* the closer has returned from close by now, or nearly */
    rill_chan_free(s->data);
}

static int foreign_thread_close_wakes_goroutines(void)
{
    struct shared s = {.wg = RILL_WAITGROUP_INIT};
    t_run(close_body, &s);
    T_EQ(atomic_load(&s.errors), 0);
    return T_EXIT_PASS;
}

/* ---- many foreign threads and goroutines on one channel: exact sum ------------------------- */

#define MIX_THREADS 4
#define MIX_N 20000

static void *mix_thread_sender(void *arg)
{
    struct shared *s = arg;
    for (int i = 0; i < MIX_N; i++)
        FCHECK(s, rill_chan_send(s->data, &i) == 0);
    FCHECK(s, rill_chan_send(s->done, NULL) == 0);
    return NULL;
}

static _Atomic long mix_sum, mix_count;

static void mix_receiver(void *arg)
{
    struct shared *s = arg;
    int v;
    long sum = 0, count = 0;
    while (rill_chan_recv(s->data, &v) == 0) {
        sum += v;
        count++;
    }
    atomic_fetch_add(&mix_sum, sum);
    atomic_fetch_add(&mix_count, count);
    T_OK(rill_wg_done(&s->wg));
}

static void mix_body(void *arg)
{
    struct shared *s = arg;
    s->done = rill_chan_make(0, 8);
    T_NOTNULL(s->done);
    s->data = rill_chan_make(sizeof(int), 3);
    T_NOTNULL(s->data);
    T_OK(rill_wg_add(&s->wg, 4));
    for (int i = 0; i < 4; i++)
        T_OK(rill_go(mix_receiver, s, 0));
    pthread_t th[MIX_THREADS];
    for (int i = 0; i < MIX_THREADS; i++)
        T_OK(pthread_create(&th[i], NULL, mix_thread_sender, s));
    for (int i = 0; i < MIX_THREADS; i++)
        T_OK(rill_chan_recv(s->done, NULL));
    for (int i = 0; i < MIX_THREADS; i++)
        T_OK(pthread_join(th[i], NULL));
    T_OK(rill_chan_close(s->data));
    T_OK(rill_wg_wait(&s->wg));
    rill_chan_free(s->data);
    rill_chan_free(s->done);
}

static int foreign_senders_goroutine_receivers_exact_sum(void)
{
    struct shared s = {.wg = RILL_WAITGROUP_INIT};
    t_run(mix_body, &s);
    T_EQ(atomic_load(&s.errors), 0);
    T_EQ(atomic_load(&mix_count), (long)MIX_THREADS * MIX_N);
    T_EQ(atomic_load(&mix_sum), (long)MIX_THREADS * MIX_N * (MIX_N - 1) / 2);
    return T_EXIT_PASS;
}

/* ---- a channel made before rill_run (rill_chan_make: "any thread") serves two runs --------- */

static void use_premade(void *arg)
{
    struct rill_chan *c = arg;
    int v = 0;
    if (rill_chan_len(c) == 1) { /* second run: the value left by the first is still there */
        T_OK(rill_chan_recv(c, &v));
        T_EQ(v, 31);
        return;
    }
    v = 31;
    T_OK(rill_chan_send(c, &v));
}

static int channel_made_outside_runtime_outlives_runs(void)
{
    struct rill_chan *c = rill_chan_make(sizeof(int), 1);
    T_NOTNULL(c);
    t_run(use_premade, c);
    T_EQ(rill_chan_len(c), 1);
    t_run(use_premade, c);
    T_EQ(rill_chan_len(c), 0);
    rill_chan_free(c);
    return T_EXIT_PASS;
}

T_MAIN(T_CASE(channel_made_outside_runtime_outlives_runs),
       T_CASE(foreign_thread_sends_and_receives),
       T_CASE(foreign_thread_blocking_does_not_hold_a_worker),
       T_CASE(foreign_thread_calls_go_wait_sleep_select),
       T_CASE(foreign_thread_close_wakes_goroutines),
       T_CASE(foreign_senders_goroutine_receivers_exact_sum))
