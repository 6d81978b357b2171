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
 * The check reads other Ps' timer heads and counters without their locks: every P is idle,
 * and an idle P changes none of them until it is woken, which requires one of the events the
 * check looks for.
 */
#include <stdio.h>

#include "sched/sched.h"

#define S rilli_sched

int rilli_deadlock_check(void)
{
    if (rill_load_acq(&S.stopping) || rill_load_acq(&S.gq_n))
        return 0;
    /* acq: pairs with the release decrements of nforeign/nio (waitq.c, io). */
    if (rill_load_acq(&S.nforeign) || rill_load_acq(&S.nio))
        return 0;
    for (int i = 0; i < S.nproc; i++) {
        struct rilli_p *p = S.allp[i];
        if (rilli_timer_when0(&p->timers) != INT64_MAX || !rilli_runq_empty(p) || p->runnext)
            return 0;
    }
    int zero = 0;
    /* acq_rel: exactly one P reports. */
    return rill_cas_acqrel(&S.deadlock, &zero, 1);
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
