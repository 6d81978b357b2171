/*
 * chan_bench.cc - channel benchmarks: unbuffered ping-pong, buffered SPSC / MPSC / MPMC at
 * capacities 1, 16 and 1024, and contended unbuffered 4x4.
 *
 * Each workload mirrors the function of the same name in bench/go/chan.go; see bench_common.h
 * for how runs are timed. Items are int64_t; the consumers sum them and the sum is checked, so
 * every item really crosses the channel.
 */
#include "bench_common.h"

#include <atomic>

namespace {

/*
 * Main sends on ping, a partner goroutine receives and answers on pong; ns per round trip.
 * The partner lives for the whole run and leaves when ping is closed.
 */
void BM_Chan_PingPong(benchmark::State &st)
{
    const int64_t n = rb::pick(100000, 20000, 1000);
    rb::run(st, [&] {
        rill_chan *ping = rb::make_chan(sizeof(int64_t), 0);
        rill_chan *pong = rb::make_chan(sizeof(int64_t), 0);
        struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
        rb::check(rill_wg_add(&wg, 1), "rill_wg_add");
        rb::go([ping, pong, pwg = &wg] {
            int64_t v;
            while (rb::recv(ping, &v))
                rb::send(pong, v + 1);
            rill_wg_done(pwg);
        });
        rb::timed(st, n, [=] {
            int64_t v = 0;
            for (int64_t i = 0; i < n; i++) {
                rb::send(ping, i);
                rb::check(rill_chan_recv(pong, &v), "rill_chan_recv");
            }
            rb::expect_eq(v, n, "ping-pong last reply");
        });
        rb::check(rill_chan_close(ping), "rill_chan_close");
        rill_wg_wait(&wg);
        rill_chan_free(ping);
        rill_chan_free(pong);
        return std::string();
    });
}
BENCHMARK(BM_Chan_PingPong)->Apply(rb::workers_1_2);

/*
 * producers goroutines send n items in total (values 0..n-1, split into contiguous ranges)
 * through one channel of capacity cap to consumers goroutines, which receive until it is
 * closed. Main closes the channel once every producer is done and waits for the consumers.
 * One fresh channel per batch.
 */
void transfer(int64_t n, size_t cap, int producers, int consumers)
{
    rill_chan *c = rb::make_chan(sizeof(int64_t), cap);
    std::atomic<int64_t> sum{0}, count{0};
    struct rill_waitgroup pwg = RILL_WAITGROUP_INIT, cwg = RILL_WAITGROUP_INIT;
    rb::check(rill_wg_add(&cwg, consumers), "rill_wg_add");
    for (int i = 0; i < consumers; i++) {
        rb::go([c, psum = &sum, pcount = &count, w = &cwg] {
            int64_t v, s = 0, k = 0;
            while (rb::recv(c, &v)) {
                s += v;
                k++;
            }
            /* relaxed: main reads these only after rill_wg_wait, which orders them */
            psum->fetch_add(s, std::memory_order_relaxed);
            pcount->fetch_add(k, std::memory_order_relaxed);
            rill_wg_done(w);
        });
    }
    rb::check(rill_wg_add(&pwg, producers), "rill_wg_add");
    for (int p = 0; p < producers; p++) {
        const int64_t lo = n * p / producers, hi = n * (p + 1) / producers;
        rb::go([c, lo, hi, w = &pwg] {
            for (int64_t v = lo; v < hi; v++)
                rb::send(c, v);
            rill_wg_done(w);
        });
    }
    rill_wg_wait(&pwg);
    rb::check(rill_chan_close(c), "rill_chan_close");
    rill_wg_wait(&cwg);
    rb::expect_eq(count.load(std::memory_order_relaxed), n, "items received");
    rb::expect_eq(sum.load(std::memory_order_relaxed), n * (n - 1) / 2, "sum of items");
    rill_chan_free(c);
}

void buffered(benchmark::State &st, int producers, int consumers)
{
    const int64_t n = rb::pick(1000000, 200000, 10000);
    const size_t cap = static_cast<size_t>(st.range(1));
    rb::run(st, [&] {
        rb::timed(st, n, [=] { transfer(n, cap, producers, consumers); });
        return std::string();
    });
}

void caps_1_16_1024(benchmark::internal::Benchmark *b)
{
    b->ArgNames({"workers", "cap"})
        ->ArgsProduct({{1, 2}, {1, 16, 1024}})
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
}

void BM_Chan_SPSC(benchmark::State &st)
{
    buffered(st, 1, 1);
}
BENCHMARK(BM_Chan_SPSC)->Apply(caps_1_16_1024);

void BM_Chan_MPSC(benchmark::State &st)
{
    buffered(st, 4, 1);
}
BENCHMARK(BM_Chan_MPSC)->Apply(caps_1_16_1024);

void BM_Chan_MPMC(benchmark::State &st)
{
    buffered(st, 4, 4);
}
BENCHMARK(BM_Chan_MPMC)->Apply(caps_1_16_1024);

/* Four producers and four consumers on one unbuffered channel: every item is a rendezvous. */
void BM_Chan_Contended4x4(benchmark::State &st)
{
    const int64_t n = rb::pick(200000, 50000, 2000);
    rb::run(st, [&] {
        rb::timed(st, n, [=] { transfer(n, 0, 4, 4); });
        return std::string();
    });
}
BENCHMARK(BM_Chan_Contended4x4)->Apply(rb::workers_1_2);

} // namespace
