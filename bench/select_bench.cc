/*
 * select_bench.cc - rill_select over 2 and over 8 channels.
 *
 * k unbuffered channels, one sender goroutine per channel sending n/k items; main runs n
 * selects, each receiving from whichever channels are ready (several usually are, so the
 * uniform random choice is exercised too). ns per select. Mirrors selectRecv in
 * bench/go/select.go, which uses a literal select statement with the same number of cases.
 */
#include "bench_common.h"

#include <vector>

namespace {

void BM_Select_Recv(benchmark::State &st)
{
    const int64_t n = rb::pick(100000, 20000, 1000); /* a multiple of 8 */
    const int k = static_cast<int>(st.range(1));
    rb::run(st, [&] {
        rb::timed(st, n, [=] {
            std::vector<rill_chan *> chans(k);
            std::vector<struct rill_case> cases(k);
            int64_t v = 0, sum = 0;
            struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
            rb::check(rill_wg_add(&wg, k), "rill_wg_add");
            for (int i = 0; i < k; i++) {
                chans[i] = rb::make_chan(sizeof(int64_t), 0);
                cases[i] = {chans[i], RILL_RECV, &v, 0};
                const int64_t lo = n * i / k, hi = n * (i + 1) / k;
                rb::go([c = chans[i], lo, hi, w = &wg] {
                    for (int64_t x = lo; x < hi; x++)
                        rb::send(c, x);
                    rill_wg_done(w);
                });
            }
            for (int64_t i = 0; i < n; i++) {
                int idx = rill_select(cases.data(), cases.size(), RILL_FOREVER);
                rb::check(idx, "rill_select");
                rb::check(cases[idx].result, "rill_select case");
                sum += v;
            }
            rb::expect_eq(sum, n * (n - 1) / 2, "sum of selected items");
            rill_wg_wait(&wg);
            for (rill_chan *c : chans)
                rill_chan_free(c);
        });
        return std::string();
    });
}
BENCHMARK(BM_Select_Recv)
    ->ArgNames({"workers", "cases"})
    ->ArgsProduct({{1, 2}, {2, 8}})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

} // namespace
