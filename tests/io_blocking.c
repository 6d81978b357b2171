/*
 * io_blocking.c - rill_blocking: fn runs on a pool thread ("rill-blocking", every signal
 * blocked) and its result comes back through arg; the worker stays free meanwhile (on one
 * worker a counter goroutine keeps counting); 200 concurrent calls finish in parallel and the
 * ones past RILL_BLOCKING_MAX queue rather than fail; the pool never runs more than
 * RILL_BLOCKING_MAX threads, its idle threads exit, and it survives across rill_run calls;
 * -EINVAL for a NULL fn; outside goroutines fn runs on the calling thread; a goroutine waiting
 * in rill_blocking is not a deadlock, while idle pool threads do not hide a real one; and
 * getaddrinfo("localhost") through it works; and an fn that calls rill_close while main
 * returns does not hang rill_run.
 */
#include <dirent.h>
#include <netdb.h>
#include <semaphore.h>

#include "helpers.h"

/* Threads of this process named "rill-blocking" (the pool), from /proc/self/task/<tid>/comm. */
static int pool_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    T_NOTNULL(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], comm[64] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue; /* the thread exited meanwhile */
        if (fgets(comm, sizeof comm, f) && strcmp(comm, "rill-blocking\n") == 0)
            n++;
        fclose(f);
    }
    closedir(d);
    return n;
}

static void sleep_ms_fn(void *arg)
{
    t_thread_sleep(RILL_MS(*(int *)arg));
}

/* ---- result through arg, on a pool thread ------------------------------------------------- */

struct square {
    long in, out;
    char name[32];   /* the thread fn ran on */
    int sig_blocked; /* SIGINT, SIGTERM and SIGUSR1 were all blocked there */
    uint64_t id;     /* rill_id() inside fn: 0, a pool thread is no goroutine */
};

static void square_fn(void *arg)
{
    struct square *s = arg;
    s->out = s->in * s->in;
    pthread_getname_np(pthread_self(), s->name, sizeof s->name);
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    s->sig_blocked =
        sigismember(&cur, SIGINT) && sigismember(&cur, SIGTERM) && sigismember(&cur, SIGUSR1);
    s->id = rill_id();
}

static void result_body(void *unused)
{
    (void)unused;
    for (long i = 1; i <= 50; i++) {
        struct square s = {.in = i, .out = -1, .id = 99};
        T_OK(rill_blocking(square_fn, &s));
        T_EQ(s.out, i * i);
        T_CHECKF(strcmp(s.name, "rill-blocking") == 0, "fn ran on thread \"%s\"", s.name);
        T_CHECK(s.sig_blocked);
        T_EQ(s.id, 0);
    }
    T_GE(pool_threads(), 1);
}

static int result_comes_back_through_arg(void)
{
    t_run(result_body, NULL);
    return T_EXIT_PASS;
}

/* ---- the worker stays free while fn blocks ---------------------------------------------- */

struct progress {
    _Atomic long count;
    _Atomic int stop;
    long during; /* counter increments seen from inside fn, across its 200 ms sleep */
    struct rill_waitgroup wg;
};

static void counter(void *arg)
{
    struct progress *p = *(struct progress **)arg;
    while (!atomic_load(&p->stop)) {
        atomic_fetch_add(&p->count, 1);
        rill_yield();
    }
    T_OK(rill_wg_done(&p->wg));
}

static void watch_counter_fn(void *arg)
{
    struct progress *p = arg;
    long c0 = atomic_load(&p->count);
    t_thread_sleep(RILL_MS(200));
    p->during = atomic_load(&p->count) - c0;
}

static void progress_body(void *unused)
{
    (void)unused;
    struct progress prog = {.wg = RILL_WAITGROUP_INIT};
    struct progress *pp = &prog;
    T_OK(rill_wg_add(&prog.wg, 1));
    T_OK(rill_go(counter, &pp, sizeof pp));
    T_WAIT_UNTIL(atomic_load(&prog.count) > 0, RILL_SEC(10));
    int64_t t0 = t_now();
    T_OK(rill_blocking(watch_counter_fn, &prog));
    int64_t el = t_now() - t0;
    T_GE(el, RILL_MS(200));
    /* With RILL_WORKERS=1 the counter can only have run if the worker was not blocked. */
    T_CHECKF(prog.during > 10, "counter advanced %ld times during the 200 ms call", prog.during);
    atomic_store(&prog.stop, 1);
    T_OK(rill_wg_wait(&prog.wg));
}

static int other_goroutines_run_during_the_call(void)
{
    t_run(progress_body, NULL);
    return T_EXIT_PASS;
}

/* ---- 200 concurrent calls: parallel, and the excess queues --------------------------------- */

#define MANY 200
#define MANY_MS 20

struct many {
    struct rill_waitgroup wg;
    struct rill_chan *go; /* closed to release every caller at once */
    _Atomic int inflight, max_inflight, failed;
};

static void many_fn(void *arg)
{
    struct many *m = arg;
    int now = atomic_fetch_add(&m->inflight, 1) + 1;
    int max = atomic_load(&m->max_inflight);
    while (now > max && !atomic_compare_exchange_weak(&m->max_inflight, &max, now))
        ;
    t_thread_sleep(RILL_MS(MANY_MS));
    atomic_fetch_sub(&m->inflight, 1);
}

static void many_caller(void *arg)
{
    struct many *m = *(struct many **)arg;
    if (m->go)
        T_ERR(rill_chan_recv(m->go, NULL), -EPIPE);
    if (rill_blocking(many_fn, m) != 0)
        atomic_fetch_add(&m->failed, 1);
    T_OK(rill_wg_done(&m->wg));
}

static void many_body(void *unused)
{
    (void)unused;
    struct many m = {.wg = RILL_WAITGROUP_INIT, .go = rill_chan_make(0, 0)};
    struct many *mp = &m;
    T_NOTNULL(m.go);
    T_OK(rill_wg_add(&m.wg, MANY));
    for (int i = 0; i < MANY; i++) /* spawning is not what is timed (slow under TSan) */
        T_OK(rill_go(many_caller, &mp, sizeof mp));
    int64_t t0 = t_now();
    T_OK(rill_chan_close(m.go));
    T_OK(rill_wg_wait(&m.wg));
    int64_t el = t_now() - t0;
    rill_chan_free(m.go);
    T_EQ(atomic_load(&m.failed), 0); /* past RILL_BLOCKING_MAX callers queue, never fail */
    T_LE(atomic_load(&m.max_inflight), RILL_BLOCKING_MAX);
    T_LE(pool_threads(), RILL_BLOCKING_MAX);
    /* Serially this is MANY * MANY_MS = 4 s; a quarter of that proves the calls overlapped. */
    T_CHECKF(el < RILL_MS(MANY * MANY_MS / 4), "%d calls of %d ms took %.0f ms", MANY, MANY_MS,
             (double)el / 1e6);
    printf("%d calls of %d ms: %.0f ms, at most %d at once\n", MANY, MANY_MS, (double)el / 1e6,
           atomic_load(&m.max_inflight));
}

static int many_calls_run_in_parallel_and_queue_past_the_bound(void)
{
    t_run(many_body, NULL);
    return T_EXIT_PASS;
}

/* ---- the bound is exact: RILL_BLOCKING_MAX calls run, the rest wait their turn ------------ */

#define OVER (RILL_BLOCKING_MAX + 16)

struct gate {
    sem_t open;
    struct rill_waitgroup wg;
    _Atomic int started, failed;
};

static void gated_fn(void *arg)
{
    struct gate *g = arg;
    atomic_fetch_add(&g->started, 1);
    while (sem_wait(&g->open) != 0 && errno == EINTR)
        ;
}

static void gated_caller(void *arg)
{
    struct gate *g = *(struct gate **)arg;
    if (rill_blocking(gated_fn, g) != 0)
        atomic_fetch_add(&g->failed, 1);
    T_OK(rill_wg_done(&g->wg));
}

static void bound_body(void *unused)
{
    (void)unused;
    struct gate g = {.wg = RILL_WAITGROUP_INIT};
    struct gate *gp = &g;
    T_OK(sem_init(&g.open, 0, 0));
    T_OK(rill_wg_add(&g.wg, OVER));
    for (int i = 0; i < OVER; i++)
        T_OK(rill_go(gated_caller, &gp, sizeof gp));
    T_WAIT_UNTIL(atomic_load(&g.started) == RILL_BLOCKING_MAX, RILL_SEC(20));
    rill_sleep(RILL_MS(100)); /* a 65th thread, if any, would start now */
    T_EQ(atomic_load(&g.started), RILL_BLOCKING_MAX);
    T_EQ(pool_threads(), RILL_BLOCKING_MAX);
    T_EQ(atomic_load(&g.failed), 0);
    for (int i = 0; i < OVER; i++)
        T_OK(sem_post(&g.open));
    T_OK(rill_wg_wait(&g.wg));
    T_EQ(atomic_load(&g.started), OVER); /* the queued ones ran once threads came free */
    T_EQ(atomic_load(&g.failed), 0);
    sem_destroy(&g.open);
}

static int pool_stops_growing_at_the_bound(void)
{
    t_run(bound_body, NULL);
    return T_EXIT_PASS;
}

/* ---- NULL fn ------------------------------------------------------------------------------- */

static void null_body(void *unused)
{
    (void)unused;
    T_ERR(rill_blocking(NULL, NULL), -EINVAL);
}

static int null_fn_is_einval(void)
{
    T_ERR(rill_blocking(NULL, NULL), -EINVAL); /* outside any runtime too */
    t_run(null_body, NULL);
    return T_EXIT_PASS;
}

/* ---- outside goroutines fn runs on the calling thread -------------------------------------- */

struct inline_call {
    pthread_t caller, ran_on;
    struct rill_chan *done;
    _Atomic int errors;
};

static void record_thread_fn(void *arg)
{
    struct inline_call *c = arg;
    c->ran_on = pthread_self();
}

static void *foreign_caller(void *arg)
{
    struct inline_call *c = arg;
    c->caller = pthread_self();
    if (rill_blocking(record_thread_fn, c) != 0 || !pthread_equal(c->caller, c->ran_on))
        atomic_fetch_add(&c->errors, 1);
    if (rill_chan_send(c->done, NULL) != 0)
        atomic_fetch_add(&c->errors, 1);
    return NULL;
}

static void foreign_body(void *arg)
{
    struct inline_call *c = arg;
    c->done = rill_chan_make(0, 1);
    T_NOTNULL(c->done);
    pthread_t th;
    T_OK(pthread_create(&th, NULL, foreign_caller, c));
    T_OK(rill_chan_recv(c->done, NULL)); /* never pthread_join a working thread on a worker */
    T_OK(pthread_join(th, NULL));
    rill_chan_free(c->done);
}

static int foreign_thread_runs_fn_itself(void)
{
    struct inline_call c = {0};
    /* No runtime at all: the calling thread runs fn. */
    T_OK(rill_blocking(record_thread_fn, &c));
    T_CHECK(pthread_equal(c.ran_on, pthread_self()));
    /* A foreign thread while a runtime runs. */
    t_run(foreign_body, &c);
    T_EQ(atomic_load(&c.errors), 0);
    return T_EXIT_PASS;
}

/* ---- deadlock accounting ------------------------------------------------------------------- */

static void main_waits_body(void *unused)
{
    (void)unused;
    int ms = 300;
    int64_t t0 = t_now();
    T_OK(rill_blocking(sleep_ms_fn, &ms));
    T_GE(t_now() - t0, RILL_MS(300));
}

/* Every worker idle, main parked in rill_blocking: a wait, not a deadlock (rill_run -> 0). */
static int waiting_main_is_not_a_deadlock(void)
{
    t_run(main_waits_body, NULL);
    return T_EXIT_PASS;
}

static _Atomic int64_t deadlocked_at;

static void helper_call(void *arg)
{
    int ms = 10;
    T_OK(rill_blocking(sleep_ms_fn, &ms));
    T_OK(rill_wg_done(arg));
}

static void real_deadlock_main(void *unused)
{
    (void)unused;
    /* Leave a few pool threads idle (they exit only after seconds)... */
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    T_OK(rill_wg_add(&wg, 4));
    for (int i = 0; i < 4; i++)
        T_OK(rill_go(helper_call, &wg, 0));
    T_OK(rill_wg_wait(&wg));
    printf("pool threads: %d\n", pool_threads());
    /* ...then block for ever. */
    struct rill_chan *never = rill_chan_make(0, 0);
    atomic_store(&deadlocked_at, t_now());
    rill_chan_recv(never, NULL);
    printf("main woke up\n");
}

static void *nothing(void *unused)
{
    return unused;
}

static int child_deadlock_with_idle_pool(void)
{
    /* TSan starts a background thread at the process's first pthread_create. With one worker
     * that would be the first pool thread, after rill_run took its thread-count baseline, and
     * the check would answer "maybe" for ever; start (and end) a thread before the run. */
    pthread_t th;
    T_OK(pthread_create(&th, NULL, nothing, NULL));
    T_OK(pthread_join(th, NULL));
    int rc = rill_run(real_deadlock_main, NULL, NULL);
    printf("rc=%d after %.0f ms\n", rc, (double)(t_now() - atomic_load(&deadlocked_at)) / 1e6);
    return T_EXIT_PASS;
}

/* Idle pool threads are rill's own: they must not make the check wait for them to exit. */
static int idle_pool_threads_do_not_hide_a_deadlock(void)
{
    struct t_child c;
    t_spawn_self("child_deadlock_with_idle_pool", 20000, &c);
    char want[32];
    snprintf(want, sizeof want, "rc=%d after ", -EDEADLK);
    const char *p = strstr(c.out, want);
    if (!p || c.timed_out || !WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0) {
        t_child_dump(&c);
        T_FAIL("want rill_run to return -EDEADLK (%d)", -EDEADLK);
    }
    double ms = strtod(p + strlen(want), NULL);
    /* Idle pool threads live 5 s; a report well before that did not wait for them to exit. */
    if (ms >= 4000) {
        t_child_dump(&c);
        T_FAIL("deadlock reported only after %.0f ms", ms);
    }
    return T_EXIT_PASS;
}

/* ---- pool lifetime -------------------------------------------------------------------------- */

static void burst_body(void *unused)
{
    (void)unused;
    struct many m = {.wg = RILL_WAITGROUP_INIT};
    struct many *mp = &m;
    T_OK(rill_wg_add(&m.wg, 8));
    for (int i = 0; i < 8; i++)
        T_OK(rill_go(many_caller, &mp, sizeof mp));
    T_OK(rill_wg_wait(&m.wg));
    T_EQ(atomic_load(&m.failed), 0);
}

/* The pool outlives a rill_run, serves the next one, and its idle threads exit. */
static int pool_survives_runs_and_idle_threads_exit(void)
{
    t_run(burst_body, NULL);
    int n = pool_threads();
    T_GE(n, 1);
    T_LE(n, 8);
    t_run(burst_body, NULL); /* the idle threads of the first run serve the second */
    T_LE(pool_threads(), 8);
    int64_t end = t_now() + RILL_SEC(15);
    while (pool_threads() > 0 && t_now() < end)
        t_thread_sleep(RILL_MS(100));
    T_EQ(pool_threads(), 0);
    t_run(result_body, NULL); /* and it grows again from nothing */
    return T_EXIT_PASS;
}

/* ---- getaddrinfo ---------------------------------------------------------------------------- */

struct lookup {
    const char *host;
    int rc;
    int family; /* of the first result */
};

static void lookup_fn(void *arg)
{
    struct lookup *l = arg;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    l->rc = getaddrinfo(l->host, "80", &hints, &res);
    if (l->rc == 0) {
        l->family = res->ai_family;
        freeaddrinfo(res);
    }
}

static void lookup_body(void *arg)
{
    int *rc = arg;
    struct lookup l = {.host = "localhost", .rc = -1};
    T_OK(rill_blocking(lookup_fn, &l));
    *rc = l.rc;
    if (l.rc == 0)
        T_CHECK(l.family == AF_INET || l.family == AF_INET6);
}

static int getaddrinfo_localhost(void)
{
    struct lookup direct = {.host = "localhost", .rc = -1};
    lookup_fn(&direct); /* what this machine's resolver says without rill */
    if (direct.rc != 0)
        T_SKIP("getaddrinfo(\"localhost\") fails here: %s", gai_strerror(direct.rc));
    int rc = -1;
    t_run(lookup_body, &rc);
    T_CHECKF(rc == 0, "through rill_blocking: %s", gai_strerror(rc));
    return T_EXIT_PASS;
}

/* ---- main returns while calls are still running or queued ---------------------------------- */

struct scribble {
    char buf[256];
    _Atomic int *started;
};

static void slow_scribble(void *arg)
{
    struct scribble *s = arg;
    atomic_fetch_add(s->started, 1);
    t_thread_sleep(RILL_MS(100));
    memset(s->buf, 'x', sizeof s->buf); /* into the stack of a goroutine main abandoned */
}

static _Atomic int abandon_started;

static void scribbler(void *arg)
{
    struct scribble s = {.started = *(_Atomic int **)arg};
    rill_blocking(slow_scribble, &s); /* may return while main is returning, as in Go */
}

static void abandon_main(void *unused)
{
    (void)unused;
    _Atomic int *started = &abandon_started;
    for (int i = 0; i < RILL_BLOCKING_MAX + 8; i++) /* some run, the last ones queue */
        T_OK(rill_go(scribbler, &started, sizeof started));
    T_WAIT_UNTIL(atomic_load(&abandon_started) > 0, RILL_SEC(10));
}

static void second_run(void *unused)
{
    (void)unused;
    struct square sq = {.in = 7};
    T_OK(rill_blocking(square_fn, &sq));
    T_EQ(sq.out, 49L);
}

/* rill_run waits for running fns (they write into stacks it is about to free) and drops the
 * queued ones; ASan would catch a write into a freed stack, and the next run is unharmed. */
static int main_returning_abandons_calls_safely(void)
{
    t_run(abandon_main, NULL);
    /* rill_run waited for the running fns; an fn still running now would write into a
     * freed (unmapped) stack within 100 ms and crash this process */
    int started = atomic_load(&abandon_started);
    t_thread_sleep(RILL_MS(250));
    T_EQ(atomic_load(&abandon_started), started); /* the queued calls were dropped */
    t_run(second_run, NULL);
    return T_EXIT_PASS;
}

/* An fn calls rill_close on the fd a goroutine reads while main returns. On the io_uring
 * backends the close waits for each ring's answer, which a ring that is closing must still
 * give, or the pool thread, and rill_run waiting for it, would hang. The delay varies from
 * run to run, so the close lands before, during and after the stop. */
static int late_pipe[2];
static int late_delay_us;
static _Atomic int late_closed;

static void late_close_fn(void *unused)
{
    (void)unused;
    t_thread_sleep(RILL_US(late_delay_us));
    rill_close(late_pipe[0]);
    atomic_store(&late_closed, 1);
}

static void late_closer(void *unused)
{
    (void)unused;
    rill_blocking(late_close_fn, NULL);
}

static void late_reader(void *unused)
{
    (void)unused;
    char b;
    rill_read(late_pipe[0], &b, 1, RILL_FOREVER);
}

static void late_close_main(void *unused)
{
    (void)unused;
    T_OK(rill_go(late_reader, NULL, 0));
    T_OK(rill_go(late_closer, NULL, 0));
    rill_sleep(RILL_US(500));
}

static int close_in_fn_while_main_returns(void)
{
    uint64_t rng = t_rng_split(0);
    for (int i = 0; i < 40; i++) {
        T_OK(pipe2(late_pipe, O_CLOEXEC));
        late_delay_us = 300 + (int)t_rng_below(&rng, 400);
        atomic_store(&late_closed, 0);
        t_run(late_close_main, NULL);
        if (!atomic_load(&late_closed)) /* the call was still queued: dropped */
            close(late_pipe[0]);
        close(late_pipe[1]);
    }
    return T_EXIT_PASS;
}

T_MAIN(T_CASE(result_comes_back_through_arg),
       T_CASE(other_goroutines_run_during_the_call),
       T_CASE(many_calls_run_in_parallel_and_queue_past_the_bound),
       T_CASE(pool_stops_growing_at_the_bound),
       T_CASE(null_fn_is_einval),
       T_CASE(foreign_thread_runs_fn_itself),
       T_CASE(waiting_main_is_not_a_deadlock),
       T_CASE(idle_pool_threads_do_not_hide_a_deadlock),
       T_CASE(pool_survives_runs_and_idle_threads_exit),
       T_CASE(getaddrinfo_localhost),
       T_CASE(main_returning_abandons_calls_safely),
       T_CASE(close_in_fn_while_main_returns),
       T_CHILD(child_deadlock_with_idle_pool))
