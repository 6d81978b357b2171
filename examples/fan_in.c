/*
 * fan_in.c - the guide's "Fan-Out/Fan-In Pattern": one generator, three squaring workers
 * reading the same channel (fan-out), and merge() forwarding all their results into one
 * channel (fan-in).
 *
 * Each stage is a function that starts a goroutine and returns the receive end of the channel
 * it writes, as in Go. Differences that C needs:
 *   - No closures: each goroutine gets its channels in a small struct that rill_go() copies.
 *   - No variadic channel lists: merge() takes an array and a count.
 *   - No garbage collector: a channel is freed once no goroutine can use it. A reader sees a
 *     channel closed while its writer may still be returning from the close call, so the
 *     reader cannot free it. Instead every stage joins the `stages` WaitGroup and records its
 *     channel with keep(); main frees them all once every stage has returned.
 */
#include <rill.h>
#include <stdio.h>

RILL_CHAN_DECLARE(intchan, int);

static struct rill_waitgroup stages = RILL_WAITGROUP_INIT;
static struct intchan kept[8];
static int nkept;

static struct intchan keep(struct intchan ch) // main goroutine only
{
    kept[nkept++] = ch;
    return ch;
}

// Fan-out: generate work.
struct gen_args {
    struct intchan_send out;
    int max;
};

static void generate(void *arg)
{
    struct gen_args *a = arg;
    for (int i = 1; i <= a->max; i++)
        intchan_send(a->out, &i);
    intchan_close(a->out);
    rill_wg_done(&stages);
}

static struct intchan_recv generate_numbers(int max)
{
    struct intchan ch = keep(intchan_make(0));
    struct gen_args a = {ch.tx, max};
    rill_wg_add(&stages, 1);
    rill_go(generate, &a, sizeof a);
    return ch.rx;
}

// Worker: square every number it gets.
struct pipe_args {
    struct intchan_recv in;
    struct intchan_send out;
};

static void square_numbers(void *arg)
{
    struct pipe_args *a = arg;
    int num;
    while (intchan_recv(a->in, &num) == 0) { // for num := range numbers
        int sq = num * num;
        intchan_send(a->out, &sq);
    }
    intchan_close(a->out);
    rill_wg_done(&stages);
}

static struct intchan_recv square(struct intchan_recv numbers)
{
    struct intchan result = keep(intchan_make(0));
    struct pipe_args a = {numbers, result.tx};
    rill_wg_add(&stages, 1);
    rill_go(square_numbers, &a, sizeof a);
    return result.rx;
}

// Fan-in: merge several channels into one.
struct merge_args {
    struct intchan_send merged;
    struct rill_waitgroup *wg;
};

struct forward_args {
    struct intchan_recv c;
    struct merge_args m;
};

static void forward(void *arg) // go func(c <-chan int) { ... }(ch)
{
    struct forward_args *a = arg;
    int value;
    while (intchan_recv(a->c, &value) == 0)
        intchan_send(a->m.merged, &value);
    rill_wg_done(a->m.wg);
}

static void close_when_done(void *arg) // go func() { wg.Wait(); close(merged) }()
{
    struct merge_args *a = arg;
    rill_wg_wait(a->wg);
    intchan_close(a->merged);
    rill_wg_done(&stages);
}

static struct intchan_recv merge(const struct intchan_recv *channels, int n)
{
    struct intchan merged = keep(intchan_make(0));
    // static: the WaitGroup outlives merge(), whose goroutines use it
    static struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    struct merge_args m = {merged.tx, &wg};

    for (int i = 0; i < n; i++) { // start a goroutine for each input channel
        struct forward_args a = {channels[i], m};
        rill_wg_add(&wg, 1);
        rill_go(forward, &a, sizeof a);
    }

    rill_wg_add(&stages, 1);
    rill_go(close_when_done, &m, sizeof m); // close merged when all inputs are done
    return merged.rx;
}

static void main_goroutine(void *arg)
{
    (void)arg;
    struct intchan_recv numbers = generate_numbers(10);

    // Fan-out: three workers read the same channel.
    struct intchan_recv workers[3] = {square(numbers), square(numbers), square(numbers)};

    // Fan-in: merge the results.
    struct intchan_recv results = merge(workers, 3);

    int result;
    while (intchan_recv(results, &result) == 0) // collect all results
        printf("Result: %d\n", result);

    rill_wg_wait(&stages); // every stage has returned: no one uses the channels now
    for (int i = 0; i < nkept; i++)
        intchan_free(kept[i]);
}

int main(void)
{
    return rill_run(main_goroutine, NULL, NULL) == 0 ? 0 : 1;
}
