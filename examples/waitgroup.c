/*
 * waitgroup.c - the guide's "Wait Groups": wait for three workers to finish.
 *
 * struct rill_waitgroup is sync.WaitGroup; RILL_WAITGROUP_INIT is its zero value. C has no
 * defer, so rill_wg_done() is the worker's last statement. Worker id sleeps id * 10 ms (the
 * guide: id * 100 ms).
 */
#include <rill.h>
#include <stdio.h>

struct worker_args {
    int id;
    struct rill_waitgroup *wg;
};

static void worker(void *arg)
{
    struct worker_args *a = arg;

    printf("Worker %d starting\n", a->id);
    rill_sleep(RILL_MS(a->id * 10));
    printf("Worker %d done\n", a->id);

    rill_wg_done(a->wg); // signal that this worker is done
}

static void main_goroutine(void *arg)
{
    (void)arg;
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT; // var wg sync.WaitGroup

    for (int i = 1; i <= 3; i++) {
        struct worker_args a = {i, &wg};
        rill_wg_add(&wg, 1); // increment the counter
        rill_go(worker, &a, sizeof a);
    }

    rill_wg_wait(&wg); // wait for all workers to call done
    printf("All workers completed\n");
}

int main(void)
{
    return rill_run(main_goroutine, NULL, NULL) == 0 ? 0 : 1;
}
