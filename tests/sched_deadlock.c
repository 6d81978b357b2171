/*
 * sched_deadlock.c - Go's "all goroutines are asleep": rill_run returns -EDEADLK when every
 * goroutine is blocked for ever on channels/sync, after naming the blocked goroutines on stderr;
 * and it must NOT do so while a timer, or a thread the runtime did not create, can still wake
 * one of them.
 *
 * Every scenario runs in a child process (t_spawn_self) so that the report on stderr can be
 * captured and a wrong verdict cannot leave this process's runtime in a bad state. A child prints
 * "rc=<rill_run's return>" and the facts the parent needs (goroutine ids) on stdout.
 */
#include "helpers.h"

static _Atomic uint64_t other_id;

static void block_on(void *arg)
{
    atomic_store(&other_id, rill_id());
    rill_chan_recv(arg, NULL);
    printf("blocked goroutine woke up\n");
}

/* ---- true deadlocks ------------------------------------------------------------------------ */

static void chan_deadlock_main(void *unused)
{
    (void)unused;
    struct rill_chan *a = rill_chan_make(0, 0), *b = rill_chan_make(sizeof(int), 0);
    T_OK(rill_go(block_on, a, 0));
    T_WAIT_UNTIL(atomic_load(&other_id) != 0, RILL_SEC(10));
    printf("other=%" PRIu64 "\n", atomic_load(&other_id));
    fflush(stdout);
    int v;
    rill_chan_recv(b, &v); /* nobody will ever send */
    printf("main woke up\n");
}

static void trivial(void *arg)
{
    *(int *)arg = 1;
}

static int child_chan_deadlock(void)
{
    int rc = rill_run(chan_deadlock_main, NULL, NULL);
    printf("rc=%d\n", rc);
    /* The runtime is usable again after reporting a deadlock. */
    int ran = 0;
    rc = rill_run(trivial, &ran, NULL);
    printf("rerun=%d ran=%d\n", rc, ran);
    return T_EXIT_PASS;
}

static const struct t_child *expect_deadlock(const char *child, bool names_other)
{
    static struct t_child c;
    t_spawn_self(child, 10000, &c);
    char want_rc[32];
    snprintf(want_rc, sizeof want_rc, "rc=%d\n", -EDEADLK);
    if (strstr(c.out, want_rc) == NULL) {
        t_child_dump(&c);
        T_FAIL("%s: want rill_run to return -EDEADLK (%d)", child, -EDEADLK);
    }
    if (c.timed_out || !WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0) {
        t_child_dump(&c);
        T_FAIL("%s: rill_run returned -EDEADLK, but the process then crashed or hung", child);
    }
    if (!t_names_goroutine(c.err, 1)) {
        t_child_dump(&c);
        T_FAIL("%s: the report on stderr does not name goroutine 1", child);
    }
    if (names_other) {
        const char *p = strstr(c.out, "other=");
        uint64_t id = p ? strtoull(p + 6, NULL, 10) : 0;
        if (id == 0 || !t_names_goroutine(c.err, id)) {
            t_child_dump(&c);
            T_FAIL("%s: the report does not name the other blocked goroutine %" PRIu64, child,
                   id);
        }
    }
    if (strstr(c.out, "woke up")) {
        t_child_dump(&c);
        T_FAIL("%s: a deadlocked goroutine was woken", child);
    }
    return &c;
}

static int channel_deadlock_returns_edeadlk_and_names_goroutines(void)
{
    const struct t_child *c = expect_deadlock("child_chan_deadlock", true);
    if (!strstr(c->out, "rerun=0 ran=1")) {
        t_child_dump(c);
        T_FAIL("rill_run did not work again after reporting a deadlock");
    }
    return T_EXIT_PASS;
}

/* WaitGroup and Mutex waits count as blocked for ever too. */
static void lock_forever(void *arg)
{
    atomic_store(&other_id, rill_id());
    rill_mutex_lock(arg);
    printf("blocked goroutine woke up\n");
}

static void sync_deadlock_main(void *unused)
{
    (void)unused;
    static struct rill_mutex mu = RILL_MUTEX_INIT;
    static struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    rill_mutex_lock(&mu);
    T_OK(rill_go(lock_forever, &mu, 0));
    T_WAIT_UNTIL(atomic_load(&other_id) != 0, RILL_SEC(10));
    printf("other=%" PRIu64 "\n", atomic_load(&other_id));
    fflush(stdout);
    T_OK(rill_wg_add(&wg, 1));
    rill_wg_wait(&wg);
    printf("main woke up\n");
}

static int child_sync_deadlock(void)
{
    printf("rc=%d\n", rill_run(sync_deadlock_main, NULL, NULL));
    return T_EXIT_PASS;
}

static int waitgroup_and_mutex_deadlock_returns_edeadlk(void)
{
    expect_deadlock("child_sync_deadlock", true);
    return T_EXIT_PASS;
}

/* A lone main in an empty select without deadline (Go's select {}) is a deadlock. */
static void empty_select_main(void *unused)
{
    (void)unused;
    struct rill_chan *c = rill_chan_make(sizeof(int), 0);
    int v;
    struct rill_case cs[2] = {{c, RILL_RECV, &v, 0}, {NULL, RILL_SEND, &v, 0}};
    rill_select(cs, 2, RILL_FOREVER);
    printf("main woke up\n");
}

static int child_select_deadlock(void)
{
    printf("rc=%d\n", rill_run(empty_select_main, NULL, NULL));
    return T_EXIT_PASS;
}

static int select_forever_deadlock_returns_edeadlk(void)
{
    expect_deadlock("child_select_deadlock", false);
    return T_EXIT_PASS;
}

/* ---- not deadlocks --------------------------------------------------------------------------- */

static void expect_no_deadlock(const char *child)
{
    static struct t_child c;
    t_spawn_self(child, 10000, &c);
    bool ok = !c.timed_out && WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0 &&
              strstr(c.out, "rc=0\n") && strstr(c.out, "got=42\n");
    if (!ok) {
        t_child_dump(&c);
        T_FAIL("%s: main should have received 42 and rill_run returned 0", child);
    }
}

static void sleep_then_send(void *arg)
{
    rill_sleep(RILL_MS(100));
    int v = 42;
    T_OK(rill_chan_send(arg, &v));
}

static void timer_main(void *unused)
{
    (void)unused;
    struct rill_chan *c = rill_chan_make(sizeof(int), 0);
    T_OK(rill_go(sleep_then_send, c, 0));
    int v = 0;
    T_OK(rill_chan_recv(c, &v));
    printf("got=%d\n", v);
}

static int child_sleeper_will_send(void)
{
    printf("rc=%d\n", rill_run(timer_main, NULL, NULL));
    return T_EXIT_PASS;
}

static int blocked_main_with_sleeping_sender_is_not_deadlock(void)
{
    expect_no_deadlock("child_sleeper_will_send");
    return T_EXIT_PASS;
}

static void after_main(void *unused)
{
    (void)unused;
    struct rill_chan *never = rill_chan_make(sizeof(int), 0);
    struct rill_chan *t = rill_after(RILL_MS(80));
    int64_t fired;
    int v;
    struct rill_case cs[2] = {{never, RILL_RECV, &v, 0}, {t, RILL_RECV, &fired, 0}};
    T_EQ(rill_select(cs, 2, RILL_FOREVER), 1);
    printf("got=42\n");
}

static int child_after_will_fire(void)
{
    printf("rc=%d\n", rill_run(after_main, NULL, NULL));
    return T_EXIT_PASS;
}

static int select_on_pending_after_is_not_deadlock(void)
{
    expect_no_deadlock("child_after_will_fire");
    return T_EXIT_PASS;
}

/* A foreign thread sleeping with plain nanosleep (it has not called into rill yet when main
 * blocks) will send later: the runtime cannot rule that out, so it must keep waiting. */
static void *plain_thread_sender(void *arg)
{
    t_thread_sleep(RILL_MS(150));
    int v = 42;
    if (rill_chan_send(arg, &v) != 0)
        printf("foreign send failed\n");
    return NULL;
}

/* The same, but the thread waits inside rill_sleep (a runtime call) before sending. */
static void *rill_sleep_thread_sender(void *arg)
{
    rill_sleep(RILL_MS(150));
    int v = 42;
    if (rill_chan_send(arg, &v) != 0)
        printf("foreign send failed\n");
    return NULL;
}

static void foreign_main(void *arg)
{
    struct rill_chan *c = rill_chan_make(sizeof(int), 0);
    pthread_t th;
    T_OK(pthread_create(&th, NULL, (void *(*)(void *))arg, c));
    int v = 0;
    T_OK(rill_chan_recv(c, &v));
    printf("got=%d\n", v);
    T_OK(pthread_join(th, NULL));
}

static int child_plain_foreign_will_send(void)
{
    printf("rc=%d\n", rill_run(foreign_main, (void *)plain_thread_sender, NULL));
    return T_EXIT_PASS;
}

static int child_rill_sleeping_foreign_will_send(void)
{
    printf("rc=%d\n", rill_run(foreign_main, (void *)rill_sleep_thread_sender, NULL));
    return T_EXIT_PASS;
}

/* A select whose deadline is the end of time (INT64_MAX, as a saturated duration is) still
 * has a timer pending: like Go's select on time.After(huge), it waits rather than being
 * reported. The child never finishes, so the parent kills it and checks it was not reported. */
static void end_of_time_main(void *unused)
{
    (void)unused;
    struct rill_chan *never = rill_chan_make(sizeof(int), 0);
    int v;
    struct rill_case cs[1] = {{never, RILL_RECV, &v, 0}};
    printf("waiting\n");
    fflush(stdout);
    printf("select=%d\n", rill_select(cs, 1, INT64_MAX));
}

static int child_end_of_time_deadline(void)
{
    printf("rc=%d\n", rill_run(end_of_time_main, NULL, NULL));
    return T_EXIT_PASS;
}

static int select_with_end_of_time_deadline_is_not_deadlock(void)
{
    static struct t_child c;
    t_spawn_self("child_end_of_time_deadline", T_SANITIZER ? 1500 : 500, &c);
    if (!c.timed_out || !strstr(c.out, "waiting\n") || strstr(c.out, "rc=")) {
        t_child_dump(&c);
        T_FAIL("a select with deadline INT64_MAX was reported or returned instead of waiting");
    }
    return T_EXIT_PASS;
}

static int blocked_main_with_foreign_sender_is_not_deadlock(void)
{
    expect_no_deadlock("child_plain_foreign_will_send");
    return T_EXIT_PASS;
}

static int blocked_main_with_foreign_in_rill_sleep_is_not_deadlock(void)
{
    expect_no_deadlock("child_rill_sleeping_foreign_will_send");
    return T_EXIT_PASS;
}

T_MAIN(T_CASE(channel_deadlock_returns_edeadlk_and_names_goroutines),
       T_CASE(waitgroup_and_mutex_deadlock_returns_edeadlk),
       T_CASE(select_forever_deadlock_returns_edeadlk),
       T_CASE(blocked_main_with_sleeping_sender_is_not_deadlock),
       T_CASE(select_on_pending_after_is_not_deadlock),
       T_CASE(blocked_main_with_foreign_sender_is_not_deadlock),
       T_CASE(blocked_main_with_foreign_in_rill_sleep_is_not_deadlock),
       T_CASE(select_with_end_of_time_deadline_is_not_deadlock),
       T_CHILD(child_chan_deadlock),
       T_CHILD(child_sync_deadlock),
       T_CHILD(child_select_deadlock),
       T_CHILD(child_sleeper_will_send),
       T_CHILD(child_after_will_fire),
       T_CHILD(child_plain_foreign_will_send),
       T_CHILD(child_rill_sleeping_foreign_will_send),
       T_CHILD(child_end_of_time_deadline))
