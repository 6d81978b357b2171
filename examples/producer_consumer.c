/*
 * producer_consumer.c - the guide's "Producer-Consumer with Buffering": one producer, three
 * workers that each select between the task channel and their own quit channel, and main
 * printing results as they come.
 *
 * One fix to the guide's program, which never ends as printed: once the producer closes
 * tasks, "case task := <-tasks" is always ready (a closed channel delivers zero values), so
 * the workers spin on task 0 and results never closes. Here a worker that sees tasks closed
 * (result -EPIPE) drops that case, as Go code does by setting the channel to nil (a NULL
 * chan case is never chosen), and waits for quit. main knows how many tasks there are: it
 * collects that many results, then stops the workers by closing their quit channels, which
 * is what the quit channels are for. The guide's sleeps (100-600 ms of work, 50-250 ms
 * between tasks) are scaled down by fifty.
 */
#include <errno.h>
#include <rill.h>
#include <stdio.h>
#include <stdlib.h>

struct task {
    int id;
    int priority;
    char data[16];
};

struct line {
    char text[96];
};

RILL_CHAN_DECLARE(taskchan, struct task);
RILL_CHAN_DECLARE(linechan, struct line); // Go: chan string

struct worker {
    int id;
    struct rill_chan *quit; // chan bool in the guide; a 0-byte signal channel is enough
};

struct worker_args {
    struct worker *w;
    struct taskchan_recv tasks;
    struct linechan_send results;
    struct rill_waitgroup *wg;
};

static void worker_start(void *arg)
{
    struct worker_args *a = arg;
    struct task task;

    for (;;) {
        struct rill_case cases[] = {
            taskchan_recv_case(a->tasks, &task), // case task := <-tasks
            {a->w->quit, RILL_RECV, NULL, 0},    // case <-w.quit
        };
        int i = rill_select(cases, 2, RILL_FOREVER);
        if (i == 0 && cases[0].result == -EPIPE) {
            a->tasks.c = NULL; // tasks closed: from now on only quit can be chosen
        } else if (i == 0) {
            int64_t processing = RILL_MS(rand() % 10 + 2) / 2; // 1 to 5.5 ms
            printf("Worker %d processing task %d (priority %d)\n", a->w->id, task.id,
                   task.priority);
            rill_sleep(processing);

            struct line result;
            snprintf(result.text, sizeof result.text, "Worker %d completed task %d: %s", a->w->id,
                     task.id, task.data);
            linechan_send(a->results, &result);
        } else {
            printf("Worker %d stopping\n", a->w->id);
            break;
        }
    }
    rill_wg_done(a->wg);
}

static void worker_stop(struct worker *w)
{
    rill_chan_close(w->quit);
}

struct producer_args {
    struct taskchan_send tasks;
    int num_tasks;
    struct rill_waitgroup *wg;
};

static void producer(void *arg)
{
    struct producer_args *a = arg;

    for (int i = 1; i <= a->num_tasks; i++) {
        struct task task = {.id = i, .priority = rand() % 5 + 1};
        snprintf(task.data, sizeof task.data, "data-%d", i);

        printf("Producing task %d\n", task.id);
        taskchan_send(a->tasks, &task);

        rill_sleep(RILL_MS(rand() % 5 + 1)); // simulate a varying production rate
    }
    printf("Producer finished\n");
    taskchan_close(a->tasks); // Go: defer close(tasks)
    rill_wg_done(a->wg);
}

static void main_goroutine(void *arg)
{
    (void)arg;
    enum { num_workers = 3, num_tasks = 15, buffer_size = 5 };
    struct taskchan tasks = taskchan_make(buffer_size);
    struct linechan results = linechan_make(buffer_size);
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    struct worker workers[num_workers];

    for (int i = 0; i < num_workers; i++) { // create and start the workers
        workers[i] = (struct worker){i + 1, rill_chan_make(0, 0)};
        struct worker_args a = {&workers[i], tasks.rx, results.tx, &wg};
        rill_wg_add(&wg, 1);
        rill_go(worker_start, &a, sizeof a);
    }

    struct producer_args p = {tasks.tx, num_tasks, &wg};
    rill_wg_add(&wg, 1); // not in the guide: main frees tasks once the producer is done
    rill_go(producer, &p, sizeof p);

    int result_count = 0;
    struct line result;
    while (result_count < num_tasks && linechan_recv(results.rx, &result) == 0) {
        result_count++;
        printf("📋 Result %d: %s\n", result_count, result.text);
    }

    for (int i = 0; i < num_workers; i++) // stop all workers
        worker_stop(&workers[i]);
    rill_wg_wait(&wg);

    printf("✅ Completed processing %d tasks\n", result_count);

    for (int i = 0; i < num_workers; i++)
        rill_chan_free(workers[i].quit);
    taskchan_free(tasks);
    linechan_free(results);
}

int main(void)
{
    srand((unsigned)rill_now());
    return rill_run(main_goroutine, NULL, NULL) == 0 ? 0 : 1;
}
