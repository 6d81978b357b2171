/*
 * sched_idle.c - an idle runtime sleeps: workers with nothing to run wait in their io_uring
 * (or epoll) instead of spinning, so a runtime whose goroutines all sleep or block uses about
 * no CPU. Also: a sleeping worker is woken for work made by another worker or by a thread the
 * runtime did not create.
 */
#include <pthread.h>
#include <sys/resource.h>

#include "helpers.h"

static int64_t cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
           (int64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

static void blocked_forever(void *arg)
{
    rill_chan_recv(arg, NULL); /* until main closes it */
}

static void idle_body(void *unused)
{
    (void)unused;
    struct rill_chan *c = rill_chan_make(0, 0);
    T_NOTNULL(c);
    for (int i = 0; i < 8; i++)
        T_OK(rill_go(blocked_forever, c, 0));
    rill_sleep(RILL_MS(50)); /* let spinning workers settle */
    int64_t c0 = cpu_ns(), t0 = t_now();
    rill_sleep(RILL_MS(600));
    int64_t used = cpu_ns() - c0, wall = t_now() - t0;
    printf("idle: %lld us of CPU in %lld ms\n", (long long)(used / 1000), (long long)(wall / 1000000));
    /* Every worker spinning would use about 600 ms per worker; allow 5% of one core. */
    T_CHECKF(used < wall / 20, "idle runtime used %lld us of CPU in %lld ms", (long long)(used / 1000),
             (long long)(wall / 1000000));
    T_OK(rill_chan_close(c));
    rill_sleep(RILL_MS(10));
    rill_chan_free(c);
}

static int idle_runtime_uses_no_cpu(void)
{
    if (T_SANITIZER)
        T_SKIP("sanitizer runtimes keep their own background threads busy");
    t_run(idle_body, NULL);
    return T_EXIT_PASS;
}

/* A worker asleep in its ring is woken when a foreign thread makes work for it. */
static void *foreign_sender(void *arg)
{
    t_thread_sleep(RILL_MS(100));
    int v = 5;
    if (rill_chan_send(arg, &v) != 0)
        abort();
    return NULL;
}

static void wake_body(void *unused)
{
    (void)unused;
    struct rill_chan *c = rill_chan_make(sizeof(int), 0);
    pthread_t th;
    T_OK(pthread_create(&th, NULL, foreign_sender, c));
    int v = 0;
    int64_t t0 = t_now();
    T_OK(rill_chan_recv(c, &v));
    T_EQ(v, 5);
    T_CHECK(t_now() - t0 < RILL_MS(100) + T_SLACK);
    T_OK(pthread_join(th, NULL));
    rill_chan_free(c);
}

static int sleeping_worker_woken_by_foreign_thread(void)
{
    t_run(wake_body, NULL);
    return T_EXIT_PASS;
}

T_MAIN(T_CASE(idle_runtime_uses_no_cpu), T_CASE(sleeping_worker_woken_by_foreign_thread))
