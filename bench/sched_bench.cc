/*
 * sched_bench.cc - scheduler benchmarks: yield, spawn, skynet, chained spawn, parked goroutines.
 *
 * Each workload mirrors the function of the same name in bench/go/sched.go; see bench_common.h
 * for how runs are timed. Sizes are per batch (full / quick / smoke).
 */
#include "bench_common.h"

#include <algorithm>

namespace {

/*
 * Two goroutines per worker each yield n times; ns per yield, from the wall time of all of
 * them. Two per worker so that every yield has another goroutine to switch to on every
 * worker: with one goroutine per worker a yield would find nothing else to run and measure
 * the empty check, not a switch. The Go peer runs 2 * GOMAXPROCS goroutines the same way.
 */
void BM_Sched_Yield(benchmark::State &st)
{
    const int64_t n = rb::pick(100000, 20000, 1000);
    const int gs = 2 * static_cast<int>(st.range(0));
    rb::run(st, [&] {
        rb::timed(st, gs * n, [n, gs] {
            struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
            rb::check(rill_wg_add(&wg, gs), "rill_wg_add");
            for (int g = 0; g < gs; g++) {
                rb::go([n, pwg = &wg] {
                    for (int64_t i = 0; i < n; i++)
                        rill_yield();
                    rill_wg_done(pwg);
                });
            }
            rill_wg_wait(&wg);
        });
        return std::string();
    });
}
BENCHMARK(BM_Sched_Yield)->Apply(rb::workers_1_2);

/*
 * Spawn n trivial goroutines that each mark a waitgroup done, then wait for all of them;
 * ns per spawn+exit. Go: wg.Add(n); n times go func(){ wg.Done() }(); wg.Wait().
 */
void BM_Sched_SpawnExit(benchmark::State &st)
{
    const int64_t n = rb::pick(10000, 10000, 1000);
    rb::run(st, [&] {
        rb::timed(st, n, [n] {
            struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
            rb::check(rill_wg_add(&wg, static_cast<int>(n)), "rill_wg_add");
            for (int64_t i = 0; i < n; i++)
                rb::go([pwg = &wg] { rill_wg_done(pwg); });
            rill_wg_wait(&wg);
        });
        return std::string();
    });
}
BENCHMARK(BM_Sched_SpawnExit)->Apply(rb::workers_1_2);

/*
 * Skynet: a tree of goroutines, fan-out 10, whose leaves send their number up over unbuffered
 * channels and whose inner nodes send the sum of their children. 1,000,000 leaves make
 * 1,111,111 goroutines. Reported in ms per tree (real_time), items = leaves.
 */
struct SkyNode {
    rill_chan *out;
    int64_t num;
    int64_t size;
};

void skynet(const SkyNode &node)
{
    if (node.size == 1) {
        rb::send(node.out, node.num);
        return;
    }
    rill_chan *c = rb::make_chan(sizeof(int64_t), 0);
    const int64_t step = node.size / 10;
    for (int64_t i = 0; i < 10; i++) {
        SkyNode child{c, node.num + i * step, step};
        rb::go([child] { skynet(child); });
    }
    int64_t sum = 0, v = 0;
    for (int i = 0; i < 10; i++) {
        rb::check(rill_chan_recv(c, &v), "rill_chan_recv");
        sum += v;
    }
    rill_chan_free(c); /* all ten values received: see the freeing rule in bench_common.h */
    rb::send(node.out, sum);
}

void BM_Sched_Skynet(benchmark::State &st)
{
    const int64_t leaves = rb::pick(1000000, 10000, 1000);
    rb::run(st, [&] {
        rill_chan *root = rb::make_chan(sizeof(int64_t), 0);
        rb::timed(st, leaves, [=] {
            SkyNode top{root, 0, leaves};
            rb::go([top] { skynet(top); });
            int64_t sum = 0;
            rb::check(rill_chan_recv(root, &sum), "rill_chan_recv");
            rb::expect_eq(sum, leaves * (leaves - 1) / 2, "skynet sum");
        });
        rill_chan_free(root);
        return std::string();
    });
}
BENCHMARK(BM_Sched_Skynet)->Apply(rb::workers_1_2)->Unit(benchmark::kMillisecond);

/*
 * Chained spawn: goroutine k starts goroutine k+1 and exits; the last one signals main.
 * n = 100,000 per chain; ns per spawn. At most two links are alive at a time.
 */
struct Link {
    rill_chan *done;
    int64_t left;
};

void chain_link(const Link &l)
{
    if (l.left == 0) {
        rb::check(rill_chan_send(l.done, nullptr), "rill_chan_send");
        return;
    }
    Link next{l.done, l.left - 1};
    rb::go([next] { chain_link(next); });
}

void BM_Sched_Chain(benchmark::State &st)
{
    const int64_t n = rb::pick(100000, 100000, 1000);
    rb::run(st, [&] {
        rill_chan *done = rb::make_chan(0, 0);
        rb::timed(st, n, [=] {
            Link first{done, n - 1};
            rb::go([first] { chain_link(first); });
            rb::check(rill_chan_recv(done, nullptr), "rill_chan_recv");
        });
        rill_chan_free(done);
        return std::string();
    });
}
BENCHMARK(BM_Sched_Chain)->Apply(rb::workers_1_2);

/*
 * n goroutines each park on a receive from one shared signal channel, then exit when main
 * closes it. Counters:
 *   rss_per_g   resident bytes per parked goroutine (statm delta over the spawn / n)
 *   spawn_ms    from the first rill_go until every goroutine has reached its receive
 *   release_ms  from rill_chan_close until every goroutine has run and exited
 * One iteration per process: a second run would find pages the first one already faulted in.
 */
void parked(benchmark::State &st, size_t stack_size)
{
    const int64_t n = rb::pick(1000000, 50000, 1000);
    rb::run(
        st,
        [&]() -> std::string {
            rill_chan *gate = rb::make_chan(0, 0);
            struct rill_waitgroup ready = RILL_WAITGROUP_INIT, exited = RILL_WAITGROUP_INIT;
            rb::check(rill_wg_add(&ready, static_cast<int>(n)), "rill_wg_add");
            rb::check(rill_wg_add(&exited, static_cast<int>(n)), "rill_wg_add");
            std::string err;
            for (auto _ : st) {
                const int64_t rss0 = rb::rss_bytes();
                const int64_t t0 = rill_now();
                for (int64_t i = 0; i < n; i++) {
                    int rc = rb::try_go([gate, pr = &ready, pe = &exited] {
                        rill_wg_done(pr); /* just before parking: main counts us as parked */
                        int r = rill_chan_recv(gate, nullptr);
                        if (r != -EPIPE)
                            rb::fail("a parked receive ended other than by the close");
                        rill_wg_done(pe);
                    });
                    if (rc < 0) {
                        /* Typically -ENOMEM: out of memory. Report it as the row's error. */
                        err = "rill_go failed after " + std::to_string(i) +
                              " goroutines: " + std::strerror(-rc);
                        break;
                    }
                }
                if (!err.empty())
                    break;
                rill_wg_wait(&ready);
                const int64_t t1 = rill_now();
                const int64_t rss1 = rb::rss_bytes();
                rb::check(rill_chan_close(gate), "rill_chan_close");
                rill_wg_wait(&exited);
                const int64_t t2 = rill_now();
                st.SetIterationTime(static_cast<double>(t2 - t0) * 1e-9);
                st.counters["rss_per_g"] = static_cast<double>(rss1 - rss0) / n;
                st.counters["spawn_ms"] = static_cast<double>(t1 - t0) * 1e-6;
                st.counters["release_ms"] = static_cast<double>(t2 - t1) * 1e-6;
                st.counters["n"] = static_cast<double>(n);
            }
            /* After a failure goroutines stay parked on the gate; rill_run frees them. */
            if (err.empty())
                rill_chan_free(gate);
            return err;
        },
        stack_size);
}

void BM_Sched_ParkedDefaultStack(benchmark::State &st)
{
    parked(st, 0);
}
BENCHMARK(BM_Sched_ParkedDefaultStack)
    ->Apply(rb::workers_1_2)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

void BM_Sched_ParkedMinStack(benchmark::State &st)
{
    parked(st, RILL_STACK_MIN);
}
BENCHMARK(BM_Sched_ParkedMinStack)
    ->Apply(rb::workers_1_2)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

} // namespace
