/*
 * workers.c - the guide's "Multiple Goroutines": three workers, each doing three tasks with a
 * sleep between, while main waits with a plain sleep (the naive approach; see waitgroup.c for
 * the right one).
 *
 * The guide's times are scaled down by ten: worker id sleeps 10 + 5*id ms per task, so the
 * slowest one needs 75 ms, and main waits 600 ms (room for sanitizer builds on a busy machine).
 */
#include <rill.h>
#include <stdio.h>

static void worker(void *arg)
{
    int id = *(int *)arg; // rill_go copied the int: this is the goroutine's own
    for (int i = 0; i < 3; i++) {
        printf("Worker %d: doing task %d\n", id, i);
        rill_sleep(RILL_MS(10 + id * 5));
    }
}

static void main_goroutine(void *arg)
{
    (void)arg;
    printf("Starting workers\n");

    for (int i = 1; i <= 3; i++)
        rill_go(worker, &i, sizeof i); // go worker(i)

    rill_sleep(RILL_MS(600)); // wait for all to complete (naively; generous for slow builds)
    printf("All workers done\n");
}

int main(void)
{
    return rill_run(main_goroutine, NULL, NULL) == 0 ? 0 : 1;
}
