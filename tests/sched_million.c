/*
 * sched_million.c - 1,000,000 goroutines parked at once with the default configuration
 * (64 KiB stacks), each blocked on a recv from one shared channel that main then closes, joined
 * by a WaitGroup. Resident memory per parked goroutine must stay under ~8 KiB: a stack costs
 * only the pages it touched.
 *
 * Once they have all exited, the runtime must have given most of that memory back to the
 * kernel (it keeps a bounded pool of hot stacks), canary-checked stacks included.
 *
 * Labelled `slow`. T_MILLION_N overrides the count. To protect the machine, the spawn loop
 * samples RSS and stops early when the per-goroutine cost is clearly over budget instead of
 * running into the OOM killer.
 */
#include "helpers.h"

#define BUDGET_PER_G 8192L

struct million {
    long n;
    struct rill_chan *gate;
    struct rill_waitgroup started, finished;
    _Atomic long epipe;
    long rss_before, rss_parked, rss_released;
};

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * sysconf(_SC_PAGESIZE);
}

static void parked(void *arg)
{
    struct million *m = arg;
    rill_wg_done(&m->started);
    if (rill_chan_recv(m->gate, NULL) == -EPIPE)
        atomic_fetch_add_explicit(&m->epipe, 1, memory_order_relaxed); /* read after wg */
    rill_wg_done(&m->finished);
}

static void million_body(void *arg)
{
    struct million *m = arg;
    m->gate = rill_chan_make(0, 0);
    T_NOTNULL(m->gate);
    T_OK(rill_wg_add(&m->started, (int)m->n));
    T_OK(rill_wg_add(&m->finished, (int)m->n));
    m->rss_before = rss_bytes();
    int64_t t0 = t_now();
    for (long i = 0; i < m->n; i++) {
        int rc = rill_go(parked, m, 0);
        if (rc != 0)
            T_FAIL("rill_go #%ld failed: %d (%s)", i, rc, strerror(-rc));
        if (i % 50000 == 49999) {
            long per = (rss_bytes() - m->rss_before) / (i + 1);
            /* Twice the budget already: stop before exhausting the machine. */
            T_CHECKF(per < 2 * BUDGET_PER_G, "%ld bytes resident per goroutine after %ld spawns",
                     per, i + 1);
        }
    }
    T_OK(rill_wg_wait(&m->started));
    rill_sleep(RILL_MS(200)); /* the last ones started may still be on their way into recv */
    m->rss_parked = rss_bytes();
    printf("   %ld goroutines spawned and started in %.0f ms\n", m->n,
           (double)(t_now() - t0) / 1e6);
    T_OK(rill_chan_close(m->gate));
    T_OK(rill_wg_wait(&m->finished));
    printf("   all woken and joined after %.0f ms\n", (double)(t_now() - t0) / 1e6);
    rill_chan_free(m->gate);
    /* Free stacks are kept a while (a burst may come back) and then given back: wait up to
     * 5 s for the resident set to fall to a quarter of what the parked goroutines took. */
    for (int i = 0; i < 250; i++) {
        rill_sleep(RILL_MS(20));
        m->rss_released = rss_bytes();
        if (m->rss_released - m->rss_before < (m->rss_parked - m->rss_before) / 4)
            break;
    }
}

static int million_parked_goroutines_under_8k_each(void)
{
    struct million *m = calloc(1, sizeof *m);
    T_NOTNULL(m);
    m->n = t_env_long("T_MILLION_N", 1000000);
    T_OK(rill_run(million_body, m, NULL)); /* default configuration (workers from env) */
    T_EQ(atomic_load(&m->epipe), m->n);
    long per = (m->rss_parked - m->rss_before) / m->n;
    printf("   RSS %ld MiB -> %ld MiB: %ld bytes per parked goroutine\n", m->rss_before >> 20,
           m->rss_parked >> 20, per);
    T_CHECKF(per < BUDGET_PER_G, "%ld bytes resident per parked goroutine (budget %ld)", per,
             BUDGET_PER_G);
    long parked = m->rss_parked - m->rss_before, kept = m->rss_released - m->rss_before;
    printf("   RSS once every goroutine exited: %ld MiB (%ld MiB above the start)\n",
           m->rss_released >> 20, kept >> 20);
    T_CHECKF(kept < parked / 4, "%ld of %ld MiB still resident once every goroutine exited",
             kept >> 20, parked >> 20);
    free(m);
    return T_EXIT_PASS;
}

T_MAIN(T_CASE(million_parked_goroutines_under_8k_each))
