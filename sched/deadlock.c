/*
 * deadlock.c - Go's "all goroutines are asleep": detect that no goroutine can ever run again,
 * report who waits on what, and stop the runtime so that rill_run() returns -EDEADLK.
 * Design: docs/DESIGN.md "Deadlock detection".
 *
 * The check runs on the last P to go idle (npidle == nproc, after its own re-check of every
 * queue, park.c). Then nothing runs, and a G can only become runnable again through a timer,
 * an I/O completion, or a thread the runtime did not create that is inside a rill call; if
 * there is none of those, nothing ever will. Gs parked forever with nothing left to wake
 * them are exactly the ones the report lists.
 *
 * Threads the runtime did not create are the one source it cannot see: a thread that has
 * not called into rill yet may still send on a channel. So while the process has more
 * threads than it had when rill_run() started plus the workers, the check answers "maybe"
 * and the last idle worker re-checks every DEADLOCK_POLL_NS instead of reporting: a false
 * report would kill a correct program, a late one costs a tenth of a second.
 *
 * The check reads other Ps' timer heads and counters without their locks: every P is idle,
 * and an idle P changes none of them until it is woken, which requires one of the events the
 * check looks for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sched.h"

#define S rilli_sched

static int process_threads(void)
{
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return -1;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    int field = 2, threads = -1;
    for (; p && *p; p++)
        if (*p == ' ' && ++field == 20) {
            threads = atoi(p + 1);
            break;
        }
    return threads;
}

/* Called on worker 0 once every worker runs: sanitizer helper threads started by the
 * workers' creation are part of the baseline too. */
void rilli_deadlock_init(void)
{
    /* acq: offload-pool threads left from an earlier run are rill's own, not a baseline */
    S.base_threads = process_threads() - rill_load_acq(&S.nhelpers);
}

int rilli_deadlock_check(void)
{
    /* The counters of pending wakers first, the queues after: a waker puts its G on a queue
     * before it drops its count, so reading in this order cannot miss both. */
    /* acq: pairs with the acq_rel decrement in sel_wait_thread() (waitq.c) */
    if (rill_load_acq(&S.nforeign))
        return DEADLOCK_NO;
    /* acq: pairs with the acq_rel updates around every I/O operation and offload call */
    if (rill_load_acq(&S.npending))
        return DEADLOCK_NO;
    /* acq: pairs with the rel stores in rilli_sched_stop_all() and rilli_gq_put() */
    if (rill_load_acq(&S.stopping) || rill_load_acq(&S.gq_n))
        return DEADLOCK_NO;
    for (int i = 0; i < S.nproc; i++) {
        struct rilli_p *p = S.allp[i];
        if (rilli_timer_when0(&p->timers) != INT64_MAX || !rilli_runq_empty(p))
            return DEADLOCK_NO;
    }
    int threads = process_threads();
    /* acq: the offload pool's threads are rill's own, not foreign callers */
    threads -= rill_load_acq(&S.nhelpers);
    if (threads < 0 || S.base_threads < 0 || threads > S.base_threads)
        return DEADLOCK_MAYBE;
    /* Again, after the thread count: a thread without a P may have readied a G (onto the
     * global queue, waking a P) and exited between our first look at the queues and the
     * count. It exits only after its put and its wake, so either the count saw it alive
     * or these loads see the G or the woken P. seq: pairs with the seq_cst RMW on npidle
     * in rilli_wakep()'s claim and the fence after rilli_gq_put(). */
    if (rill_load_seq(&S.gq_n) || rill_load_seq(&S.npidle) != S.nproc ||
        rill_load_seq(&S.nforeign) || rill_load_seq(&S.npending))
        return DEADLOCK_NO;
    int zero = 0;
    /* acq_rel: exactly one P reports. */
    return rill_cas_acqrel(&S.deadlock, &zero, 1) ? DEADLOCK_YES : DEADLOCK_NO;
}

void rilli_deadlock_report(void)
{
    fprintf(stderr, "rill: fatal: all goroutines are asleep - deadlock!\n\n");
    int n = rilli_g_report_blocked();
    fprintf(stderr, "\nrill: %d goroutine%s blocked forever; rill_run returns -EDEADLK\n", n,
            n == 1 ? "" : "s");
    fflush(stderr);
    rilli_sched_stop_all();
}
