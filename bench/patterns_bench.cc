/*
 * patterns_bench.cc - the concurrency guide's patterns, timed per item.
 *
 *   Pipeline       generator -> square -> sink (main), unbuffered channels, as the guide's
 *                  numbers/squares stages.
 *   WorkerPool     a feeder fills a jobs channel, 4 workers square each job into a results
 *                  channel, main collects n results. Both channels have capacity 100. The
 *                  guide sizes them to the job count and sends every job before collecting;
 *                  with a fixed capacity the jobs must come from their own goroutine.
 *   FanOutFanIn    generator -> 3 square workers (fan-out on one channel) -> 3 forwarders
 *                  merging into one channel, closed by a goroutine waiting on the forwarders,
 *                  read by main (fan-in): the guide's generateNumbers/square/merge.
 *
 * The "work" per item is squaring, as in the guide; the guide's prints and sleeps are left out
 * because they would measure the terminal and the clock, not the runtime. Each batch builds
 * the whole pattern afresh (as a Go program calling these functions would) and checks the sum
 * of squares. Mirrors bench/go/patterns.go.
 */
#include "bench_common.h"

namespace {

int64_t sum_of_squares(int64_t n) /* of 1..n */
{
    return n * (n + 1) * (2 * n + 1) / 6;
}

/* Send 1..n on out, then close it. */
void generate(rill_chan *out, int64_t n, struct rill_waitgroup *wg)
{
    rb::go([out, n, wg] {
        for (int64_t i = 1; i <= n; i++)
            rb::send(out, i);
        rb::check(rill_chan_close(out), "rill_chan_close");
        rill_wg_done(wg);
    });
}

/* Square every value of in onto out; close out at the end when close_out is set. */
void square(rill_chan *in, rill_chan *out, bool close_out, struct rill_waitgroup *wg)
{
    rb::go([in, out, close_out, wg] {
        int64_t v;
        while (rb::recv(in, &v))
            rb::send(out, v * v);
        if (close_out)
            rb::check(rill_chan_close(out), "rill_chan_close");
        rill_wg_done(wg);
    });
}

/* Receive every value of c until it is closed and return their sum. */
int64_t drain(rill_chan *c)
{
    int64_t v, sum = 0;
    while (rb::recv(c, &v))
        sum += v;
    return sum;
}

void BM_Patterns_Pipeline(benchmark::State &st)
{
    const int64_t n = rb::pick(100000, 20000, 1000);
    rb::run(st, [&] {
        rb::timed(st, n, [n] {
            rill_chan *nums = rb::make_chan(sizeof(int64_t), 0);
            rill_chan *squares = rb::make_chan(sizeof(int64_t), 0);
            struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
            rb::check(rill_wg_add(&wg, 2), "rill_wg_add");
            generate(nums, n, &wg);
            square(nums, squares, true, &wg);
            rb::expect_eq(drain(squares), sum_of_squares(n), "pipeline sum");
            rill_wg_wait(&wg); /* both stages gone: the channels can be freed */
            rill_chan_free(nums);
            rill_chan_free(squares);
        });
        return std::string();
    });
}
BENCHMARK(BM_Patterns_Pipeline)->Apply(rb::workers_1_2);

void BM_Patterns_WorkerPool(benchmark::State &st)
{
    const int64_t n = rb::pick(100000, 20000, 1000);
    const int workers = 4;
    const size_t cap = 100;
    rb::run(st, [&] {
        rb::timed(st, n, [=] {
            rill_chan *jobs = rb::make_chan(sizeof(int64_t), cap);
            rill_chan *results = rb::make_chan(sizeof(int64_t), cap);
            struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
            rb::check(rill_wg_add(&wg, 1 + workers), "rill_wg_add");
            generate(jobs, n, &wg);
            for (int w = 0; w < workers; w++)
                square(jobs, results, false, &wg);
            int64_t sum = 0, v = 0;
            for (int64_t i = 0; i < n; i++) {
                rb::check(rill_chan_recv(results, &v), "rill_chan_recv");
                sum += v;
            }
            rb::expect_eq(sum, sum_of_squares(n), "worker pool sum");
            rill_wg_wait(&wg);
            rill_chan_free(jobs);
            rill_chan_free(results);
        });
        return std::string();
    });
}
BENCHMARK(BM_Patterns_WorkerPool)->Apply(rb::workers_1_2);

void BM_Patterns_FanOutFanIn(benchmark::State &st)
{
    const int64_t n = rb::pick(100000, 20000, 1000);
    const int fan = 3;
    rb::run(st, [&] {
        rb::timed(st, n, [n] {
            rill_chan *nums = rb::make_chan(sizeof(int64_t), 0);
            rill_chan *merged = rb::make_chan(sizeof(int64_t), 0);
            rill_chan *outs[fan];
            struct rill_waitgroup stages = RILL_WAITGROUP_INIT, fwd = RILL_WAITGROUP_INIT;
            rb::check(rill_wg_add(&stages, 1 + fan + 1), "rill_wg_add");
            generate(nums, n, &stages);
            for (int i = 0; i < fan; i++) {
                outs[i] = rb::make_chan(sizeof(int64_t), 0);
                square(nums, outs[i], true, &stages);
            }
            /* merge: one forwarder per worker output, and a closer once all forwarders end */
            rb::check(rill_wg_add(&fwd, fan), "rill_wg_add");
            for (int i = 0; i < fan; i++) {
                rb::go([in = outs[i], merged, w = &fwd] {
                    int64_t v;
                    while (rb::recv(in, &v))
                        rb::send(merged, v);
                    rill_wg_done(w);
                });
            }
            rb::go([merged, f = &fwd, s = &stages] {
                rill_wg_wait(f);
                rb::check(rill_chan_close(merged), "rill_chan_close");
                rill_wg_done(s);
            });
            rb::expect_eq(drain(merged), sum_of_squares(n), "fan-in sum");
            rill_wg_wait(&stages); /* the closer waited for the forwarders, so all are gone */
            rill_chan_free(nums);
            rill_chan_free(merged);
            for (rill_chan *c : outs)
                rill_chan_free(c);
        });
        return std::string();
    });
}
BENCHMARK(BM_Patterns_FanOutFanIn)->Apply(rb::workers_1_2);

} // namespace
