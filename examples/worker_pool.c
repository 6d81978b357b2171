/*
 * worker_pool.c - the guide's "Worker Pool Pattern": three workers take ten jobs from one
 * buffered channel and send their results to another.
 *
 * Jobs and results travel by value: the channel copies the whole struct, strings included,
 * so nothing is shared and nothing needs freeing. Each job takes 10 ms (the guide: 100 ms).
 * main waits for the workers to return before it frees the channels; Go's main just returns.
 */
#include <rill.h>
#include <stdio.h>

struct job {
    int id;
    char data[32];
};

struct result {
    int job_id;
    char value[48];
};

RILL_CHAN_DECLARE(jobchan, struct job);
RILL_CHAN_DECLARE(resultchan, struct result);

struct worker_args {
    int id;
    struct jobchan_recv jobs;       // jobs <-chan Job
    struct resultchan_send results; // results chan<- Result
    struct rill_waitgroup *done;
};

static void worker(void *arg)
{
    struct worker_args *w = arg;
    struct job job;

    while (jobchan_recv(w->jobs, &job) == 0) { // for job := range jobs
        printf("Worker %d processing job %d\n", w->id, job.id);

        rill_sleep(RILL_MS(10)); // simulate work

        struct result r = {.job_id = job.id};
        snprintf(r.value, sizeof r.value, "Processed %s", job.data);
        resultchan_send(w->results, &r);
    }
    rill_wg_done(w->done);
}

static void main_goroutine(void *arg)
{
    (void)arg;
    enum { num_workers = 3, num_jobs = 10 };
    struct jobchan jobs = jobchan_make(num_jobs);
    struct resultchan results = resultchan_make(num_jobs);
    struct rill_waitgroup done = RILL_WAITGROUP_INIT;

    for (int i = 1; i <= num_workers; i++) { // start workers
        struct worker_args w = {i, jobs.rx, results.tx, &done};
        rill_wg_add(&done, 1);
        rill_go(worker, &w, sizeof w);
    }

    for (int i = 1; i <= num_jobs; i++) { // send jobs
        struct job j = {.id = i};
        snprintf(j.data, sizeof j.data, "task-%d", i);
        jobchan_send(jobs.tx, &j);
    }
    jobchan_close(jobs.tx);

    for (int i = 0; i < num_jobs; i++) { // collect results
        struct result r;
        resultchan_recv(results.rx, &r);
        printf("Result for job %d: %s\n", r.job_id, r.value);
    }

    rill_wg_wait(&done);
    jobchan_free(jobs);
    resultchan_free(results);
}

int main(void)
{
    return rill_run(main_goroutine, NULL, NULL) == 0 ? 0 : 1;
}
