/*
 * blocking.c - rill_blocking: run a call that io_uring cannot make (getaddrinfo, a blocking
 * library) on a pool of offload threads, with the calling goroutine parked until it returns.
 * Design: docs/DESIGN.md "Offload pool (rill_blocking)".
 *
 * Workers never block in the kernel on a goroutine's behalf (sched.h), so a call that has to
 * block a thread gets a thread of its own. The pool is process-wide: it is created on first
 * use and survives across rill_run() calls. Its threads hold no P and know nothing about any
 * runtime; they wake the caller with rilli_ready(g, 0), which from a thread without a P puts
 * g on the global queue and wakes an idle worker.
 *
 * Structures: one struct job per call, on the caller's stack; one FIFO of jobs and the
 * counters below, all under pool.lock. The job outlives every access to it: the caller stays
 * parked until fn has returned, and once resumed it waits for job->done, the finisher's last
 * store, before it returns (finish_wait). That also keeps the finisher's npending decrement,
 * which comes after the caller is runnable, inside the caller's rill_run().
 *
 * Sizing: the pool grows by one thread whenever a job is queued with more jobs waiting than
 * idle threads, up to RILL_BLOCKING_MAX. It is bounded because every thread costs a stack
 * and a kernel task, and a storm of slow calls (a DNS server that stopped answering) would
 * otherwise turn into thousands of threads; past the bound callers queue in FIFO order and a
 * thread takes the next job as it finishes one. A thread that has found no work for
 * IDLE_EXIT_NS exits, so a burst does not leave 64 threads behind for the process's life.
 *
 * Deadlock accounting (sched/deadlock.c): a goroutine waiting here is parked with nothing the
 * check can see (no timer, no channel), so each call counts in rilli_sched.npending from
 * before the job is visible to a pool thread until after its goroutine is on the global
 * queue: the check never sees the goroutine as lost in between. The pool threads count in
 * rilli_sched.nhelpers from before pthread_create until they exit, so the check does not take
 * them for foreign threads that might call into rill (which would make it answer "maybe"
 * until the idle ones exit).
 *
 * Invariants (pool.lock):
 *  1. While the queue is not empty, nthreads > 0: a thread exits only with an empty queue,
 *     and the spawn failure that drops nthreads to 0 fails every queued job (spawn_failed).
 *  2. A job is dequeued exactly once: by a pool thread (which runs it), by spawn_failed
 *     (which fails it), or by rilli_blocking_drain (which abandons it).
 *  3. nbusy counts threads between dequeuing a job and finishing it. rilli_blocking_drain()
 *     waits for it to reach 0, so that the job of a goroutine abandoned when rill_run() ended
 *     (main returned while it waited here) is not finished into Ps and stacks already freed.
 *
 * Signals: pool threads start with every signal blocked (the creator blocks them around
 * pthread_create, so there is no window before the thread could block them itself), so
 * process signals go to the workers or the main thread, never to a thread stuck in a library.
 *
 * Rejected: a thread per call (unbounded, and thread creation on every call); a fixed pool
 * started with the runtime (threads nobody uses, and still a bound to pick); running fn on the
 * worker and handing the P to another thread as Go does (rill binds a P to its thread for
 * life, sched.h); a lock-free queue (the call already costs a thread switch and a syscall or
 * more, so a mutex is not what it waits on).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>

#include "io/io.h"
#include "sched/sched.h"

#define IDLE_EXIT_NS RILL_SEC(5) /* an idle pool thread exits after this long without work */

struct job {
    void (*fn)(void *);
    void *arg;
    struct rilli_g *g; /* the parked caller */
    struct job *next;  /* queue link; pool.lock */
    int taken;         /* dequeued by a pool thread; pool.lock */
    int err;           /* 0, or -errno when no thread could run it; set before done */
    int done;          /* 1: the finisher's last access to j and to the runtime is over */
};

static struct {
    pthread_once_t once;
    pthread_mutex_t lock;    /* covers everything below */
    pthread_cond_t work;     /* CLOCK_MONOTONIC (pool_init): a job was queued */
    pthread_cond_t drained;  /* nbusy dropped to 0 */
    struct job *head, *tail; /* FIFO of jobs no thread has taken yet */
    int nqueued;             /* jobs on the queue */
    int nthreads;            /* threads started or being started and not yet exiting */
    int nidle;               /* threads waiting on 'work' */
    int nbusy;               /* threads between dequeuing a job and waking its caller */
} pool = {
    .once = PTHREAD_ONCE_INIT,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .drained = PTHREAD_COND_INITIALIZER,
};

static void pool_init(void)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0 ||
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&pool.work, &attr) != 0)
        rill_throw("rill_blocking: cannot create the pool's condition variable");
    pthread_condattr_destroy(&attr);
}

/* ---- the queue (pool.lock held) -------------------------------------------------------------- */

static void enqueue_locked(struct job *j)
{
    j->next = NULL;
    if (pool.tail)
        pool.tail->next = j;
    else
        pool.head = j;
    pool.tail = j;
    pool.nqueued++;
}

static struct job *dequeue_locked(void)
{
    struct job *j = pool.head;
    pool.head = j->next;
    if (!pool.head)
        pool.tail = NULL;
    pool.nqueued--;
    return j;
}

/* Detach the whole queue and return its head. */
static struct job *take_all_locked(void)
{
    struct job *list = pool.head;
    pool.head = pool.tail = NULL;
    pool.nqueued = 0;
    return list;
}

/* ---- pool threads ---------------------------------------------------------------------------- */

/* Finish j (fn returned, or no thread could run it: err) and wake its caller. Any thread.
 * j->done is the last access to j and to the runtime; see finish_wait(). */
static void finish(struct job *j, int err)
{
    j->err = err;
    rilli_ready(j->g, 0);
    /* acq_rel: pairs with the acq load in rilli_deadlock_check(). After g is on a queue, so
     * that a check which sees this decrement also sees g runnable (rilli_gq_put's rel store),
     * provided it loads npending before it looks at the queues. */
    rill_faa_acqrel(&rilli_sched.npending, -1);
    rill_store_rel(&j->done, 1); /* rel: pairs with the acq load in finish_wait() */
}

/*
 * Caller side of finish(), once resumed: wait until the finisher is done with j. Without
 * the wait the caller could return and reuse the frame under the finisher's last stores, or
 * be main and end rill_run() before the npending decrement, which would then land in the
 * next run's counter (zeroed at its start) and blind its deadlock check. The wait is one
 * rilli_wakep() long at worst and usually nothing: a P takes longer to wake than the
 * finisher needs. Goroutine context.
 */
static void finish_wait(struct job *j)
{
    /* acq: pairs with the rel store in finish(); err and fn's writes to arg are visible */
    for (unsigned spins = 0; !rill_load_acq(&j->done); spins++) {
        if (spins < 64)
            rill_cpu_relax();
        else
            sched_yield(); /* the finisher may have been preempted */
    }
}

/* Next job for a pool thread, waiting up to IDLE_EXIT_NS for one; NULL: time to exit.
 * pool.lock held on entry and exit (released while waiting). */
static struct job *wait_job_locked(void)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += IDLE_EXIT_NS / RILL_SEC(1);
    while (!pool.head) {
        pool.nidle++;
        int rc = pthread_cond_timedwait(&pool.work, &pool.lock, &dl);
        pool.nidle--;
        if (rc == ETIMEDOUT && !pool.head)
            return NULL;
    }
    struct job *j = dequeue_locked();
    j->taken = 1;
    return j;
}

static void *pool_main(void *unused)
{
    (void)unused;
    pthread_setname_np(pthread_self(), "rill-blocking");
    pthread_mutex_lock(&pool.lock);
    struct job *j;
    while ((j = wait_job_locked()) != NULL) {
        pool.nbusy++;
        pthread_mutex_unlock(&pool.lock);
        j->fn(j->arg);
        finish(j, 0); /* j is not touched from here on: it lives on its caller's stack */
        pthread_mutex_lock(&pool.lock);
        if (--pool.nbusy == 0)
            pthread_cond_broadcast(&pool.drained);
    }
    pool.nthreads--; /* invariant 1: the queue is empty */
    pthread_mutex_unlock(&pool.lock);
    /* acq_rel: pairs with the acq load in rilli_deadlock_check(); the thread still exists for
     * a moment, which can only make the check answer "maybe" and poll again. */
    rill_faa_acqrel(&rilli_sched.nhelpers, -1);
    return NULL;
}

/* Start one detached pool thread with every signal blocked. 0 or a positive errno. The
 * caller has already counted it in pool.nthreads. Goroutine context. */
static int spawn(void)
{
    pthread_attr_t attr;
    int err = pthread_attr_init(&attr);
    if (err)
        return err;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* acq_rel: pairs with the acq load in rilli_deadlock_check(); counted before the thread
     * exists, so the check never sees a pool thread it cannot discount. */
    rill_faa_acqrel(&rilli_sched.nhelpers, 1);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* inherited by the new thread */
    pthread_t t;
    err = pthread_create(&t, &attr, pool_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (err)
        rill_faa_acqrel(&rilli_sched.nhelpers, -1); /* acq_rel: as the increment above */
    return err;
}

/*
 * A spawn for 'mine' failed with err. If some thread is still running or being started, it
 * will take the queue (invariant 1) and mine waits as usual: return 0. If none is, fail every
 * queued job: the other callers are woken with err (they may be parked already), and mine's
 * error is returned, or 0 when a thread took mine before it exited. Goroutine context.
 */
static int spawn_failed(struct job *mine, int err)
{
    int rc = err == ENOMEM ? -ENOMEM : -EAGAIN;
    pthread_mutex_lock(&pool.lock);
    pool.nthreads--;
    struct job *list = pool.nthreads == 0 ? take_all_locked() : NULL;
    int mine_failed = !mine->taken && pool.nthreads == 0;
    pthread_mutex_unlock(&pool.lock);
    while (list) {
        struct job *j = list;
        list = j->next;
        if (j != mine)
            finish(j, rc); /* its caller may be parked already */
    }
    return mine_failed ? rc : 0;
}

/* ---- the call -------------------------------------------------------------------------------- */

/* Queue j and make sure some thread will run it. Goroutine context, pool.lock not held.
 * 0, or -EAGAIN/-ENOMEM when no thread could be started and none runs (j is not queued). */
static int submit(struct job *j)
{
    pthread_mutex_lock(&pool.lock);
    enqueue_locked(j);
    /* nidle threads will each take one job; a job beyond those needs a new thread */
    int grow = pool.nqueued > pool.nidle && pool.nthreads < RILL_BLOCKING_MAX;
    if (grow)
        pool.nthreads++;
    pthread_cond_signal(&pool.work);
    pthread_mutex_unlock(&pool.lock);
    if (!grow)
        return 0;
    int err = spawn();
    return err ? spawn_failed(j, err) : 0;
}

int rill_blocking(void (*fn)(void *), void *arg)
{
    if (!fn)
        return -EINVAL;
    struct rilli_g *g = rilli_cur_g();
    if (!g) { /* a thread the runtime did not create may block itself */
        fn(arg);
        return 0;
    }
    pthread_once(&pool.once, pool_init);
    struct job j = {.fn = fn, .arg = arg, .g = g};
    g->wait_reason = "rill_blocking";
    rill_store_relaxed(&g->status, G_WAITING); /* relaxed: informational */
    /* acq_rel: pairs with the acq load in rilli_deadlock_check(); counted before any pool
     * thread can see j, so the parked G is never invisible to the check. */
    rill_faa_acqrel(&rilli_sched.npending, 1);
    int rc = submit(&j);
    if (rc < 0) {
        rill_faa_acqrel(&rilli_sched.npending, -1); /* acq_rel: as the increment above */
        rill_store_relaxed(&g->status, G_RUNNING);  /* relaxed: informational */
        return rc;
    }
    /* A pool thread may already have readied us: the scheduler waits for our switch-out. */
    rilli_park("rill_blocking", NULL);
    finish_wait(&j);
    return j.err;
}

/*
 * For rill_run(), after the workers have been joined and before the Ps and stacks are freed:
 * abandon the jobs no thread has taken (their goroutines will never run again) and wait for
 * the running ones to return and finish waking their callers, so that no pool thread touches
 * a goroutine stack, a G or the Ps of a runtime that is gone, and no stale G lands on the
 * next run's global queue. May wait for as long as the slowest fn in flight runs: fn may
 * write into its caller's stack, which must stay mapped until it returns. Any thread.
 */
void rilli_blocking_drain(void)
{
    pthread_mutex_lock(&pool.lock);
    take_all_locked();
    while (pool.nbusy)
        pthread_cond_wait(&pool.drained, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
}
