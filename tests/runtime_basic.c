/*
 * runtime_basic.c - rill_run / rill_go / rill_id contract: return codes, re-entry, argument
 * copying, goroutine ids, stack size, abandoning live goroutines when main returns.
 */
#include "helpers.h"

/* ---- rill_run returns 0 and runs main with its argument ---------------------------------- */

struct ran {
    _Atomic int count; /* atomic: some cases poll it from another goroutine */
    uint64_t id;
    void *arg_seen;
};

static void note_ran(void *arg)
{
    struct ran *r = arg;
    r->count++;
    r->id = rill_id();
    r->arg_seen = arg;
}

static int run_returns_zero_and_runs_main(void)
{
    struct ran r = {0};
    T_OK(rill_run(note_ran, &r, NULL)); /* NULL cfg = defaults */
    T_EQ(r.count, 1);
    T_CHECK(r.arg_seen == &r);
    T_EQ(r.id, 1);
    return T_EXIT_PASS;
}

/* ---- callable again after it returns ----------------------------------------------------- */

static void wg_done_fn(void *wg)
{
    T_OK(rill_wg_done(wg));
}

static void spawn_some_and_wait(void *arg)
{
    struct ran *r = arg;
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    T_OK(rill_wg_add(&wg, 10));
    for (int i = 0; i < 10; i++)
        T_OK(rill_go(wg_done_fn, &wg, 0));
    T_OK(rill_wg_wait(&wg));
    r->count++;
}

static int run_twice_in_a_row(void)
{
    struct ran r = {0};
    t_run(spawn_some_and_wait, &r);
    t_run(spawn_some_and_wait, &r);
    T_OK(rill_run(spawn_some_and_wait, &r, NULL));
    T_EQ(r.count, 3);
    return T_EXIT_PASS;
}

/* ---- rill_id: 1 for main, distinct for others, 0 outside ---------------------------------- */

#define ID_N 200
static uint64_t ids[ID_N];

static void record_id(void *arg)
{
    struct rill_waitgroup *wg = *(struct rill_waitgroup **)arg;
    int i = *(int *)((char *)arg + sizeof(void *));
    ids[i] = rill_id();
    rill_wg_done(wg);
}

static void *foreign_id(void *arg)
{
    *(uint64_t *)arg = rill_id() + 1000; /* +1000 so "not run" (0) differs from "returned 0" */
    return NULL;
}

static void ids_body(void *unused)
{
    (void)unused;
    T_EQ(rill_id(), 1);
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    struct rill_waitgroup *wgp = &wg;
    T_OK(rill_wg_add(&wg, ID_N));
    for (int i = 0; i < ID_N; i++) {
        char a[sizeof(void *) + sizeof(int)];
        memcpy(a, &wgp, sizeof wgp);
        memcpy(a + sizeof(void *), &i, sizeof i);
        T_OK(rill_go(record_id, a, sizeof a));
    }
    T_OK(rill_wg_wait(&wg));
    T_EQ(rill_id(), 1); /* still main after the others ran (ids are per goroutine, not per thread) */

    /* A thread the runtime did not create is outside goroutines. */
    uint64_t fid = 0;
    pthread_t th;
    T_OK(pthread_create(&th, NULL, foreign_id, &fid));
    T_OK(pthread_join(th, NULL));
    T_EQ(fid, 1000);
}

static int id_main_is_1_others_distinct_outside_0(void)
{
    T_EQ(rill_id(), 0);
    memset(ids, 0, sizeof ids);
    t_run(ids_body, NULL);
    T_EQ(rill_id(), 0);
    for (int i = 0; i < ID_N; i++) {
        T_CHECKF(ids[i] > 1, "goroutine %d got id %" PRIu64, i, ids[i]);
        for (int j = 0; j < i; j++)
            T_CHECKF(ids[i] != ids[j], "goroutines %d and %d share id %" PRIu64, i, j, ids[i]);
    }
    return T_EXIT_PASS;
}

/* ---- argument errors ---------------------------------------------------------------------- */

static int run_null_main_einval(void)
{
    T_ERR(rill_run(NULL, NULL, NULL), -EINVAL);
    struct rill_config cfg = {.workers = 1};
    T_ERR(rill_run(NULL, NULL, &cfg), -EINVAL);
    return T_EXIT_PASS;
}

static int run_bad_worker_count_einval(void)
{
    struct ran r = {0};
    struct rill_config neg = {.workers = -1};
    T_ERR(rill_run(note_ran, &r, &neg), -EINVAL);
    struct rill_config big = {.workers = RILL_WORKERS_MAX + 1};
    T_ERR(rill_run(note_ran, &r, &big), -EINVAL);
    struct rill_config huge = {.workers = 1 << 30};
    T_ERR(rill_run(note_ran, &r, &huge), -EINVAL);
    T_EQ(r.count, 0); /* a rejected config must not run main */
    /* and the runtime is still usable afterwards */
    T_OK(rill_run(note_ran, &r, NULL));
    T_EQ(r.count, 1);
    return T_EXIT_PASS;
}

/* More workers than CPUs is a valid configuration. */
static int run_more_workers_than_cpus(void)
{
    struct ran r = {0};
    struct rill_config cfg = {.workers = 5};
    T_OK(rill_run(spawn_some_and_wait, &r, &cfg));
    T_EQ(r.count, 1);
    return T_EXIT_PASS;
}

/* ---- nested rill_run -> -EBUSY ------------------------------------------------------------ */

static void nested_body(void *arg)
{
    struct ran *inner = arg;
    T_ERR(rill_run(note_ran, inner, NULL), -EBUSY);
    struct rill_config cfg = {.workers = 1};
    T_ERR(rill_run(note_ran, inner, &cfg), -EBUSY);
}

static int nested_run_from_goroutine_ebusy(void)
{
    struct ran inner = {0};
    t_run(nested_body, &inner);
    T_EQ(inner.count, 0);
    return T_EXIT_PASS;
}

/* From a foreign thread while a runtime runs (rill.h: "-EBUSY when a runtime is already
 * running"). The thread reports through a channel so main can block without blocking a worker. */
struct foreign_run {
    struct rill_chan *done;
    struct ran inner;
    int rc;
};

static void *foreign_run_thread(void *arg)
{
    struct foreign_run *f = arg;
    f->rc = rill_run(note_ran, &f->inner, NULL);
    rill_chan_send(f->done, NULL);
    return NULL;
}

static void foreign_run_body(void *arg)
{
    struct foreign_run *f = arg;
    f->done = rill_chan_make(0, 1);
    T_NOTNULL(f->done);
    pthread_t th;
    T_OK(pthread_create(&th, NULL, foreign_run_thread, f));
    T_OK(rill_chan_recv(f->done, NULL));
    T_OK(pthread_join(th, NULL));
    rill_chan_free(f->done);
}

static int run_from_foreign_thread_while_running_ebusy(void)
{
    struct foreign_run f = {0};
    t_run(foreign_run_body, &f);
    T_ERR(f.rc, -EBUSY);
    T_EQ(f.inner.count, 0);
    return T_EXIT_PASS;
}

/* ---- rill_go outside a runtime -> -ESRCH --------------------------------------------------- */

static int go_outside_runtime_esrch(void)
{
    struct ran r = {0};
    T_ERR(rill_go(note_ran, &r, 0), -ESRCH);
    t_run(spawn_some_and_wait, &r); /* after a run has come and gone, too */
    T_ERR(rill_go(note_ran, &r, 0), -ESRCH);
    T_ERR(rill_go(note_ran, &r, sizeof r), -ESRCH);
    T_EQ(r.count, 1);
    return T_EXIT_PASS;
}

static char big_arg[1 << 20];

static void go_einval_body(void *unused)
{
    (void)unused;
    T_ERR(rill_go(NULL, NULL, 0), -EINVAL);
    /* rill.h: arg_size over a quarter of the stack is -EINVAL (default stack 64 KiB). */
    T_ERR(rill_go(note_ran, big_arg, sizeof big_arg), -EINVAL);
    /* Bytes to copy from nowhere: -EINVAL, not a memcpy from NULL. NULL with 0 is a plain arg. */
    T_ERR(rill_go(note_ran, NULL, 8), -EINVAL);
    T_ERR(rill_go(note_ran, NULL, 1), -EINVAL);
}

static int go_null_fn_or_huge_arg_einval(void)
{
    t_run(go_einval_body, NULL);
    return T_EXIT_PASS;
}

/* ---- argument copying: the loop-variable pitfall cannot happen ----------------------------- */

#define COPY_N 100
static _Atomic int seen[COPY_N];
static _Atomic int bad_ptr;
static int *loop_var_addr;

static void see_i(void *arg)
{
    int *p = arg;
    if (p == loop_var_addr)
        atomic_fetch_add_explicit(&bad_ptr, 1, memory_order_relaxed); /* relaxed: read after wg */
    int i = *p;
    rill_yield(); /* let the loop move on; a shared pointer would now show another i */
    if (*p != i || i < 0 || i >= COPY_N)
        atomic_fetch_add_explicit(&bad_ptr, 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&seen[i], 1, memory_order_relaxed);
}

struct wg_fn {
    struct rill_waitgroup *wg;
    void (*fn)(void *);
};

static void copy_body(void *unused)
{
    (void)unused;
    for (int i = 0; i < COPY_N; i++)
        atomic_store(&seen[i], 0);
    int i;
    loop_var_addr = &i;
    for (i = 0; i < COPY_N; i++)
        T_OK(rill_go(see_i, &i, sizeof i));
    i = -12345; /* clobber: a goroutine reading through &i would see this */
    /* Joining without a waitgroup on purpose: wait until all have counted or failed. */
    int64_t end = t_now() + RILL_SEC(10);
    for (;;) {
        int total = atomic_load(&bad_ptr);
        for (int k = 0; k < COPY_N; k++)
            total += atomic_load(&seen[k]);
        if (total >= COPY_N)
            break;
        T_CHECKF(t_now() < end, "only %d of %d goroutines finished", total, COPY_N);
        rill_sleep(RILL_MS(1));
    }
}

static int go_copies_arg_per_goroutine(void)
{
    t_run(copy_body, NULL);
    T_EQ(atomic_load(&bad_ptr), 0);
    for (int k = 0; k < COPY_N; k++)
        T_CHECKF(atomic_load(&seen[k]) == 1, "value %d seen %d times", k, atomic_load(&seen[k]));
    return T_EXIT_PASS;
}

/* With arg_size 0 the pointer is passed through untouched. */
static void check_same_ptr(void *arg)
{
    struct ran *r = arg;
    r->arg_seen = arg;
    r->count++;
}

static void same_ptr_body(void *arg)
{
    T_OK(rill_go(check_same_ptr, arg, 0));
    struct ran *r = arg;
    T_WAIT_UNTIL(atomic_load(&r->count) == 1, RILL_SEC(10));
}

static int go_arg_size_zero_passes_pointer(void)
{
    struct ran r = {0};
    t_run(same_ptr_body, &r);
    T_CHECK(r.arg_seen == &r);
    return T_EXIT_PASS;
}

/* The copy must be aligned for any object type: callers cast it to their struct. */
static _Atomic uintptr_t misaligned;
static void check_align(void *arg)
{
    if ((uintptr_t)arg % _Alignof(max_align_t) != 0)
        atomic_store(&misaligned, (uintptr_t)arg);
    rill_wg_done(*(struct rill_waitgroup **)arg);
}

static void align_body(void *unused)
{
    (void)unused;
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    struct rill_waitgroup *wgp = &wg;
    char buf[64];
    T_OK(rill_wg_add(&wg, 40));
    for (size_t sz = sizeof wgp; sz < sizeof wgp + 40; sz++) {
        memset(buf, 0, sizeof buf);
        memcpy(buf, &wgp, sizeof wgp);
        T_OK(rill_go(check_align, buf, sz));
    }
    T_OK(rill_wg_wait(&wg));
}

static int go_arg_copy_is_max_aligned(void)
{
    t_run(align_body, NULL);
    T_CHECKF(atomic_load(&misaligned) == 0, "arg copy at %#lx is not %zu-aligned",
             (unsigned long)atomic_load(&misaligned), _Alignof(max_align_t));
    return T_EXIT_PASS;
}

/* ---- 100,000 spawns joined by a WaitGroup -------------------------------------------------- */

static _Atomic long spawned_ran;

static void count_and_done(void *arg)
{
    struct rill_waitgroup *wg = *(struct rill_waitgroup **)arg;
    /* relaxed: the total is read after rill_wg_wait, which orders it */
    atomic_fetch_add_explicit(&spawned_ran, 1, memory_order_relaxed);
    T_OK(rill_wg_done(wg));
}

static void spawn_many_body(void *arg)
{
    long n = *(long *)arg;
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    struct rill_waitgroup *wgp = &wg;
    T_OK(rill_wg_add(&wg, (int)n));
    for (long i = 0; i < n; i++)
        T_OK(rill_go(count_and_done, &wgp, sizeof wgp));
    T_OK(rill_wg_wait(&wg));
    T_EQ(atomic_load(&spawned_ran), n);
}

static int spawn_100k_joined_by_waitgroup(void)
{
    /* Under TSan every live goroutine is a TSan fiber, as costly as a thread context; the
     * plain and ASan builds do the full 100,000. */
    long n = t_env_long("T_SPAWN_N", T_TSAN ? 2000 : 100000);
    atomic_store(&spawned_ran, 0);
    t_run(spawn_many_body, &n);
    T_EQ(atomic_load(&spawned_ran), n);
    return T_EXIT_PASS;
}

/* Goroutines can themselves spawn (a tree), and all of them run. */
static void tree_node(void *arg)
{
    struct { struct rill_waitgroup *wg; int depth; } a;
    memcpy(&a, arg, sizeof a);
    atomic_fetch_add_explicit(&spawned_ran, 1, memory_order_relaxed);
    if (a.depth > 0) {
        a.depth--;
        T_OK(rill_wg_add(a.wg, 2));
        T_OK(rill_go(tree_node, &a, sizeof a));
        T_OK(rill_go(tree_node, &a, sizeof a));
    }
    T_OK(rill_wg_done(a.wg));
}

static void tree_body(void *unused)
{
    (void)unused;
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    struct { struct rill_waitgroup *wg; int depth; } a = {&wg, T_TSAN ? 8 : 12};
    T_OK(rill_wg_add(&wg, 1));
    T_OK(rill_go(tree_node, &a, sizeof a));
    T_OK(rill_wg_wait(&wg));
}

static int goroutines_spawn_goroutines(void)
{
    atomic_store(&spawned_ran, 0);
    t_run(tree_body, NULL);
    T_EQ(atomic_load(&spawned_ran), (1 << ((T_TSAN ? 8 : 12) + 1)) - 1);
    return T_EXIT_PASS;
}

/* ---- main returning abandons goroutines that are still alive -------------------------------- */

static void block_forever(void *arg)
{
    rill_chan_recv(arg, NULL);
    T_FAIL("an abandoned goroutine's recv returned");
}

static void spin_yield_forever(void *unused)
{
    (void)unused;
    for (;;)
        rill_yield();
}

static void abandon_body(void *arg)
{
    struct rill_chan *c = rill_chan_make(sizeof(int), 0);
    T_NOTNULL(c);
    *(struct rill_chan **)arg = c;
    for (int i = 0; i < 50; i++)
        T_OK(rill_go(block_forever, c, 0));
    T_OK(rill_go(spin_yield_forever, NULL, 0)); /* a runnable one too, not only parked ones */
    rill_sleep(RILL_MS(10));
}

static int main_return_abandons_live_goroutines(void)
{
    struct rill_chan *c = NULL;
    int64_t t0 = t_now();
    t_run(abandon_body, &c); /* must return 0, not hang and not report a deadlock */
    T_LT(t_now() - t0, RILL_SEC(5));
    struct ran r = {0};
    t_run(note_ran, &r); /* the runtime comes back clean */
    T_EQ(r.count, 1);
    return T_EXIT_PASS;
}

/* ---- a run after abandoned goroutines gets clean stacks -------------------------------------- */

/* A goroutine abandoned inside its calls never returns from them, so under ASan the redzones
 * of those frames stay poisoned in the shadow; the next run maps its stacks at the same
 * addresses, and its goroutines' stack buffers must not land on stale redzones (before the
 * fix: a stack-buffer-underflow report in run 2, or an ASan CHECK failure). Without ASan
 * this only checks that the runs work. */
static void fill_stack_buffer(void)
{
    char buf[8192];
    memset(buf, 0x5a, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory"); /* keep the stores */
}

static void use_stack_then_done(void *wg)
{
    fill_stack_buffer();
    T_OK(rill_wg_done(wg));
}

static void use_stacks_body(void *unused)
{
    (void)unused;
    fill_stack_buffer(); /* main's own stack: run 1's main was abandoned blocked */
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    T_OK(rill_wg_add(&wg, 64));
    for (int i = 0; i < 64; i++)
        T_OK(rill_go(use_stack_then_done, &wg, 0));
    T_OK(rill_wg_wait(&wg));
}

static void deadlock_after_spawning_body(void *unused)
{
    (void)unused;
    struct rill_chan *c = rill_chan_make(sizeof(int), 0);
    T_NOTNULL(c);
    for (int i = 0; i < 50; i++)
        T_OK(rill_go(block_forever, c, 0));
    rill_chan_recv(c, NULL); /* nobody sends: the run ends in a deadlock */
}

static int rerun_after_abandoned_goroutines_gets_clean_stacks(void)
{
    struct rill_chan *c = NULL;
    t_run(abandon_body, &c); /* main returns, 51 goroutines abandoned */
    t_run(use_stacks_body, NULL);
    struct rill_config cfg = {.workers = t_workers()};
    printf("   (a deadlock report is expected below)\n");
    T_ERR(rill_run(deadlock_after_spawning_body, NULL, &cfg), -EDEADLK); /* main abandoned too */
    t_run(use_stacks_body, NULL);
    return T_EXIT_PASS;
}

/* ---- stacks: the default 64 KiB is usable, and stack_size is honoured ---------------------- */

static __attribute__((noinline)) int use_stack(size_t bytes)
{
    volatile char buf[bytes];
    for (size_t i = 0; i < bytes; i += 512)
        buf[i] = (char)i;
    return buf[bytes / 2];
}

static void stack_user(void *arg)
{
    size_t bytes = *(size_t *)arg;
    (void)use_stack(bytes);
    rill_wg_done(*(struct rill_waitgroup **)((char *)arg + sizeof(size_t)));
}

struct stack_job {
    size_t bytes;
};

static void stack_body(void *arg)
{
    size_t bytes = ((struct stack_job *)arg)->bytes;
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    struct rill_waitgroup *wgp = &wg;
    char a[sizeof(size_t) + sizeof(void *)];
    memcpy(a, &bytes, sizeof bytes);
    memcpy(a + sizeof bytes, &wgp, sizeof wgp);
    T_OK(rill_wg_add(&wg, 4));
    for (int i = 0; i < 4; i++)
        T_OK(rill_go(stack_user, a, sizeof a));
    T_OK(rill_wg_wait(&wg));
}

static int default_stack_holds_48k(void)
{
    if (T_SANITIZER)
        T_SKIP("sanitizer frames are larger than the budget this case measures");
    struct stack_job j = {48 * 1024};
    t_run(stack_body, &j);
    return T_EXIT_PASS;
}

static int configured_stack_size_is_honoured(void)
{
    struct stack_job j = {400 * 1024};
    t_run_stack(stack_body, &j, 512 * 1024);
    return T_EXIT_PASS;
}

/* ---- rill_now is CLOCK_MONOTONIC; yield outside a goroutine is a no-op ---------------------- */

static int now_is_clock_monotonic(void)
{
    int64_t a = t_now();
    int64_t r = rill_now();
    int64_t b = t_now();
    T_LE(a, r);
    T_LE(r, b);
    int64_t prev = rill_now();
    for (int i = 0; i < 100000; i++) {
        int64_t n = rill_now();
        T_GE(n, prev);
        prev = n;
    }
    rill_yield(); /* documented as a no-op outside goroutines: must return */
    return T_EXIT_PASS;
}

T_MAIN(T_CASE(run_returns_zero_and_runs_main),
       T_CASE(run_twice_in_a_row),
       T_CASE(id_main_is_1_others_distinct_outside_0),
       T_CASE(run_null_main_einval),
       T_CASE(run_bad_worker_count_einval),
       T_CASE(run_more_workers_than_cpus),
       T_CASE(nested_run_from_goroutine_ebusy),
       T_CASE(run_from_foreign_thread_while_running_ebusy),
       T_CASE(go_outside_runtime_esrch),
       T_CASE(go_null_fn_or_huge_arg_einval),
       T_CASE(go_copies_arg_per_goroutine),
       T_CASE(go_arg_size_zero_passes_pointer),
       T_CASE(go_arg_copy_is_max_aligned),
       T_CASE(spawn_100k_joined_by_waitgroup),
       T_CASE(goroutines_spawn_goroutines),
       T_CASE(main_return_abandons_live_goroutines),
       T_CASE(rerun_after_abandoned_goroutines_gets_clean_stacks),
       T_CASE(default_stack_holds_48k),
       T_CASE(configured_stack_size_is_honoured),
       T_CASE(now_is_clock_monotonic))
