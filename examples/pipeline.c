/*
 * pipeline.c - the guide's "Pipeline Pattern": numbers -> squares -> evens.
 *
 * Each stage starts a goroutine and returns the receive end of its output channel, so the
 * stages compose as in Go: evens(squares(numbers(10))). A stage closes its output when its
 * input is drained, and the close travels down the pipeline to main's loop.
 * As in fan_in.c, every stage joins the `stages` WaitGroup and records its channel, and main
 * frees the channels once every stage has returned (C has no garbage collector).
 */
#include <rill.h>
#include <stdio.h>

RILL_CHAN_DECLARE(intchan, int);

static struct rill_waitgroup stages = RILL_WAITGROUP_INIT;
static struct intchan kept[4];
static int nkept;

struct stage_args {
    struct intchan_recv in;
    struct intchan_send out;
    int max; // numbers() only
};

// Start fn as a stage reading in; return the receive end of its new output channel.
static struct intchan_recv start_stage(void (*fn)(void *), struct intchan_recv in, int max)
{
    struct intchan out = intchan_make(0);
    struct stage_args a = {in, out.tx, max};

    kept[nkept++] = out;
    rill_wg_add(&stages, 1);
    rill_go(fn, &a, sizeof a);
    return out.rx;
}

// Stage 1: generate numbers.
static void generate(void *arg)
{
    struct stage_args *a = arg;
    for (int i = 1; i <= a->max; i++)
        intchan_send(a->out, &i);
    intchan_close(a->out);
    rill_wg_done(&stages);
}

// Stage 2: square numbers.
static void square(void *arg)
{
    struct stage_args *a = arg;
    int num;
    while (intchan_recv(a->in, &num) == 0) {
        int sq = num * num;
        intchan_send(a->out, &sq);
    }
    intchan_close(a->out);
    rill_wg_done(&stages);
}

// Stage 3: keep the even numbers.
static void even(void *arg)
{
    struct stage_args *a = arg;
    int num;
    while (intchan_recv(a->in, &num) == 0)
        if (num % 2 == 0)
            intchan_send(a->out, &num);
    intchan_close(a->out);
    rill_wg_done(&stages);
}

static struct intchan_recv numbers(int max)
{
    struct intchan_recv none = {NULL};
    return start_stage(generate, none, max);
}

static struct intchan_recv squares(struct intchan_recv in)
{
    return start_stage(square, in, 0);
}

static struct intchan_recv evens(struct intchan_recv in)
{
    return start_stage(even, in, 0);
}

static void main_goroutine(void *arg)
{
    (void)arg;
    struct intchan_recv pipeline = evens(squares(numbers(10))); // numbers -> squares -> evens

    int result;
    while (intchan_recv(pipeline, &result) == 0) // consume the results
        printf("Even square: %d\n", result);

    rill_wg_wait(&stages);
    for (int i = 0; i < nkept; i++)
        intchan_free(kept[i]);
}

int main(void)
{
    return rill_run(main_goroutine, NULL, NULL) == 0 ? 0 : 1;
}
