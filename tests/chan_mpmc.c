/*
 * chan_mpmc.c - many producers, many consumers, exact accounting.
 *
 * P producers each send p*N + i for i in 0..N-1; C consumers receive until -EPIPE. Checked:
 * the sum is exact, every value is received exactly once, and each consumer sees any one
 * producer's values in increasing order (FIFO: a producer's sends complete in order, so a later
 * receive can never return an earlier value of the same producer). Run for unbuffered and for
 * cap 1, 16 and 1024. N defaults to 100,000; override with env T_MPMC_N (or -DT_MPMC_N=...).
 */
#include "helpers.h"

#ifndef T_MPMC_N
#define T_MPMC_N 100000
#endif
#define PRODUCERS 4
#define CONSUMERS 4

struct mpmc {
    struct rill_chan *c;
    struct rill_waitgroup producers, consumers;
    uint64_t n;
    _Atomic uint64_t sum;
    _Atomic uint64_t received;
    _Atomic uint8_t *seen; /* one counter per value: must end at exactly 1 */
    _Atomic int order_errors;
    bool use_try; /* producers/consumers use try_* plus yield instead of blocking calls */
};

struct role {
    struct mpmc *m;
    int id;
};

static void producer(void *arg)
{
    struct role *r = arg;
    struct mpmc *m = r->m;
    for (uint64_t i = 0; i < m->n; i++) {
        uint64_t v = (uint64_t)r->id * m->n + i;
        if (m->use_try) {
            int rc;
            while ((rc = rill_chan_try_send(m->c, &v)) == -EAGAIN)
                rill_yield();
            T_OK(rc);
        } else {
            T_OK(rill_chan_send(m->c, &v));
        }
    }
    T_OK(rill_wg_done(&m->producers));
}

static void consumer(void *arg)
{
    struct role *r = arg;
    struct mpmc *m = r->m;
    uint64_t last[PRODUCERS];
    uint64_t sum = 0, count = 0;
    memset(last, 0xFF, sizeof last); /* ~0 = nothing yet from that producer */
    for (;;) {
        uint64_t v;
        int rc;
        if (m->use_try) {
            while ((rc = rill_chan_try_recv(m->c, &v)) == -EAGAIN)
                rill_yield();
        } else {
            rc = rill_chan_recv(m->c, &v);
        }
        if (rc == -EPIPE)
            break;
        T_OK(rc);
        T_CHECKF(v < PRODUCERS * m->n, "received value %" PRIu64 " never sent", v);
        uint64_t p = v / m->n, i = v % m->n;
        if (last[p] != ~0ull && i <= last[p])
            atomic_fetch_add_explicit(&m->order_errors, 1, memory_order_relaxed);
        last[p] = i;
        /* relaxed: the checks read these after rill_wg_wait(), which orders them */
        atomic_fetch_add_explicit(&m->seen[v], 1, memory_order_relaxed);
        sum += v;
        count++;
    }
    atomic_fetch_add_explicit(&m->sum, sum, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->received, count, memory_order_relaxed);
    T_OK(rill_wg_done(&m->consumers));
}

static void mpmc_body(void *arg)
{
    struct mpmc *m = arg;
    T_OK(rill_wg_add(&m->producers, PRODUCERS));
    T_OK(rill_wg_add(&m->consumers, CONSUMERS));
    for (int i = 0; i < CONSUMERS; i++) {
        struct role r = {m, i};
        T_OK(rill_go(consumer, &r, sizeof r));
    }
    for (int i = 0; i < PRODUCERS; i++) {
        struct role r = {m, i};
        T_OK(rill_go(producer, &r, sizeof r));
    }
    T_OK(rill_wg_wait(&m->producers));
    T_OK(rill_chan_close(m->c));
    T_OK(rill_wg_wait(&m->consumers));
}

static void run_mpmc(size_t cap, bool use_try, uint64_t n)
{
    struct mpmc *m = calloc(1, sizeof *m);
    T_NOTNULL(m);
    m->n = n;
    m->use_try = use_try;
    m->seen = calloc(PRODUCERS * n, 1);
    T_NOTNULL(m->seen);
    m->c = rill_chan_make(sizeof(uint64_t), cap);
    T_NOTNULL(m->c);
    int64_t t0 = t_now();
    t_run(mpmc_body, m);
    double ms = (double)(t_now() - t0) / 1e6;

    uint64_t total = PRODUCERS * n;
    uint64_t want_sum = total * (total - 1) / 2; /* the values are exactly 0..total-1 */
    printf("   cap %zu%s: %" PRIu64 " values in %.0f ms\n", cap, use_try ? " (try_*)" : "",
           total, ms);
    T_EQ(atomic_load(&m->received), total);
    T_CHECKF(atomic_load(&m->sum) == want_sum, "sum %" PRIu64 " want %" PRIu64,
             atomic_load(&m->sum), want_sum);
    for (uint64_t v = 0; v < total; v++)
        T_CHECKF(atomic_load(&m->seen[v]) == 1, "value %" PRIu64 " received %d times (cap %zu)",
                 v, atomic_load(&m->seen[v]), cap);
    T_EQ(atomic_load(&m->order_errors), 0);
    T_EQ(rill_chan_len(m->c), 0);
    rill_chan_free(m->c);
    free(m->seen);
    free(m);
}

static uint64_t mpmc_n(void)
{
    return (uint64_t)t_env_long("T_MPMC_N", T_MPMC_N);
}

static int mpmc_unbuffered_exact(void)
{
    run_mpmc(0, false, mpmc_n());
    return T_EXIT_PASS;
}

static int mpmc_cap1_exact(void)
{
    run_mpmc(1, false, mpmc_n());
    return T_EXIT_PASS;
}

static int mpmc_cap16_exact(void)
{
    run_mpmc(16, false, mpmc_n());
    return T_EXIT_PASS;
}

static int mpmc_cap1024_exact(void)
{
    run_mpmc(1024, false, mpmc_n());
    return T_EXIT_PASS;
}

/* try_* on both sides (spinning with yield): exercises the non-blocking paths under contention.
 * A quarter of N keeps the spinning cheap. */
static int mpmc_try_ops_cap16_exact(void)
{
    run_mpmc(16, true, mpmc_n() / 4 + 1);
    return T_EXIT_PASS;
}

T_MAIN(T_CASE(mpmc_unbuffered_exact),
       T_CASE(mpmc_cap1_exact),
       T_CASE(mpmc_cap16_exact),
       T_CASE(mpmc_cap1024_exact),
       T_CASE(mpmc_try_ops_cap16_exact))
