/*
 * timer_bench.cc - many concurrent sleeps: n goroutines each rill_sleep(1 ms).
 *
 * Each goroutine reads the clock, sleeps 1 ms, reads it again and stores its lateness (elapsed
 * minus 1 ms) in its own slot. Counters:
 *   wall_ms      from the first rill_go until the last goroutine is done
 *   late_p50_us  median lateness
 *   late_p99_us  99th percentile lateness
 * Lateness includes the time a woken goroutine waits for a worker, which is what a user sees.
 * One iteration per process, as for the Go peer (timers in bench/go/timer.go).
 */
#include "bench_common.h"

#include <algorithm>
#include <vector>

namespace {

constexpr int64_t kNap = RILL_MS(1);

double percentile_us(std::vector<int64_t> &sorted, double q)
{
    size_t i = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1));
    return static_cast<double>(sorted[i]) * 1e-3;
}

void BM_Timer_Sleep1ms(benchmark::State &st)
{
    const int64_t n = rb::pick(100000, 20000, 1000);
    rb::run(st, [&] {
        std::vector<int64_t> late(static_cast<size_t>(n));
        for (auto _ : st) {
            struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
            rb::check(rill_wg_add(&wg, static_cast<int>(n)), "rill_wg_add");
            const int64_t t0 = rill_now();
            for (int64_t i = 0; i < n; i++) {
                rb::go([slot = &late[static_cast<size_t>(i)], w = &wg] {
                    const int64_t start = rill_now();
                    rill_sleep(kNap);
                    *slot = rill_now() - start - kNap;
                    rill_wg_done(w);
                });
            }
            rill_wg_wait(&wg);
            const int64_t wall = rill_now() - t0;
            st.SetIterationTime(static_cast<double>(wall) * 1e-9);
            std::sort(late.begin(), late.end());
            if (late.front() < 0)
                rb::fail("rill_sleep returned before its duration");
            st.counters["wall_ms"] = static_cast<double>(wall) * 1e-6;
            st.counters["late_p50_us"] = percentile_us(late, 0.50);
            st.counters["late_p99_us"] = percentile_us(late, 0.99);
            st.counters["n"] = static_cast<double>(n);
        }
        return std::string();
    });
}
BENCHMARK(BM_Timer_Sleep1ms)->Apply(rb::workers_1_2)->Iterations(1)->Unit(benchmark::kMillisecond);

} // namespace
