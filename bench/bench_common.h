/*
 * bench_common.h - helpers shared by the rill google-benchmark suites.
 *
 * Every suite follows one shape, so that rill and its Go peer (bench/go/) time the same thing:
 *
 *   1. The benchmark thread calls rb::run(), which enters a fresh runtime with rill_run() and
 *      st.range(0) workers. The goroutine main (id 1) runs the body, so the timing loop itself
 *      runs on a worker, exactly as Go's main goroutine does.
 *   2. The body calls rb::timed() with a batch of n operations: one untimed warm-up batch (the
 *      Go side does the same), then one batch per google-benchmark iteration, each timed by wall
 *      clock (rill_now) and reported with SetIterationTime. Hence every benchmark is registered
 *      with UseManualTime(): CPU time means nothing when the timing goroutine can migrate.
 *   3. SetItemsProcessed(iterations * n) makes items_per_second the throughput; the harness
 *      turns it into ns/op where that is the unit. The counter "n" records the batch size so
 *      the harness can check that both sides ran the same amount of work.
 *
 * Sizes come from RILL_BENCH_SIZE (full | quick | smoke, default full), picked with rb::pick();
 * each call site must match the same workload in bench/go/sizes.go.
 *
 * Errors: a failing rill call in a helper goroutine is a runtime bug, so it aborts with a
 * message (the harness records the row as failed). Failures the main goroutine can report
 * cleanly (rill_go running out of memory in the million-goroutine runs, rill_run itself
 * failing) go through SkipWithError instead.
 *
 * Freeing rule used by the suites: a channel or waitgroup is freed or reused only after every
 * goroutine that used it has passed a later synchronisation point (usually a waitgroup done
 * after its last channel operation). The one exception is skynet, which frees a node's
 * channel after its ten receives, as any C user of channels would write it: that relies on a
 * sender whose value has been received no longer touching the channel.
 */
#ifndef RILL_BENCH_COMMON_H
#define RILL_BENCH_COMMON_H

#include <benchmark/benchmark.h>
#include <rill.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <unistd.h>

namespace rb {

enum class Size { full, quick, smoke };

/* The size set chosen by RILL_BENCH_SIZE; anything unknown means full. */
inline Size size_set()
{
    const char *s = std::getenv("RILL_BENCH_SIZE");
    if (s && std::strcmp(s, "quick") == 0)
        return Size::quick;
    if (s && std::strcmp(s, "smoke") == 0)
        return Size::smoke;
    return Size::full;
}

/* One of three sizes by the current size set. */
inline int64_t pick(int64_t full, int64_t quick, int64_t smoke)
{
    switch (size_set()) {
    case Size::quick:
        return quick;
    case Size::smoke:
        return smoke;
    default:
        return full;
    }
}

[[noreturn]] inline void die(const char *what, int rc)
{
    std::fprintf(stderr, "rill bench: %s failed: %s (%d)\n", what, std::strerror(-rc), rc);
    std::abort();
}

[[noreturn]] inline void fail(const char *msg)
{
    std::fprintf(stderr, "rill bench: %s\n", msg);
    std::abort();
}

/* Abort on a negative errno: in a helper goroutine there is no clean way to report it. */
inline void check(int rc, const char *what)
{
    if (rc < 0)
        die(what, rc);
}

/* Abort when a workload computed the wrong answer: a fast wrong benchmark is worse than none. */
inline void expect_eq(int64_t got, int64_t want, const char *what)
{
    if (got != want) {
        std::fprintf(stderr, "rill bench: %s: got %lld, want %lld\n", what, (long long)got,
                     (long long)want);
        std::abort();
    }
}

/*
 * Start a goroutine running a copy of the callable f. rill_go copies sizeof f bytes onto the
 * new goroutine's stack, so f must be trivially copyable: lambdas capturing pointers and
 * integers by value. This costs no allocation beyond the goroutine itself, which keeps the
 * spawn benchmarks comparable with Go's `go func(){...}()`. Returns rill_go's result.
 */
template <class F> int try_go(const F &f)
{
    static_assert(std::is_trivially_copyable<F>::value, "goroutine closures must be copyable");
    return rill_go([](void *p) { (*static_cast<F *>(p))(); }, &f, sizeof f);
}

template <class F> void go(const F &f)
{
    check(try_go(f), "rill_go");
}

/* Channel helpers for the int64_t items every workload passes. */
inline void send(rill_chan *c, int64_t v)
{
    check(rill_chan_send(c, &v), "rill_chan_send");
}

/* false once the channel is closed and drained. */
inline bool recv(rill_chan *c, int64_t *v)
{
    int rc = rill_chan_recv(c, v);
    if (rc == -EPIPE)
        return false;
    check(rc, "rill_chan_recv");
    return true;
}

inline rill_chan *make_chan(size_t elem_size, size_t cap)
{
    rill_chan *c = rill_chan_make(elem_size, cap);
    if (!c)
        die("rill_chan_make", -ENOMEM);
    return c;
}

/*
 * Enter a fresh runtime with st.range(0) workers and run body() as its main goroutine. body
 * returns an empty string on success or a message, which becomes SkipWithError on the
 * benchmark thread once rill_run has returned (so the State is only touched by one thread at a
 * time).
 */
template <class F> void run(benchmark::State &st, F body, size_t stack_size = 0)
{
    struct Ctx {
        F *body;
        std::string err;
    } ctx{&body, {}};
    struct rill_config cfg;
    std::memset(&cfg, 0, sizeof cfg);
    cfg.workers = static_cast<int>(st.range(0));
    cfg.stack_size = stack_size;
    int rc = rill_run(
        [](void *p) {
            Ctx *c = static_cast<Ctx *>(p);
            c->err = (*c->body)();
        },
        &ctx, &cfg);
    if (rc != 0)
        ctx.err = std::string("rill_run: ") + std::strerror(-rc);
    if (!ctx.err.empty())
        st.SkipWithError(ctx.err.c_str());
}

/*
 * Time batch() (n operations) once per iteration by wall clock, after one untimed warm-up batch
 * when warm is set. Call from the main goroutine.
 */
template <class F> void timed(benchmark::State &st, int64_t n, F batch, bool warm = true)
{
    if (warm)
        batch();
    for (auto _ : st) {
        int64_t t0 = rill_now();
        batch();
        st.SetIterationTime(static_cast<double>(rill_now() - t0) * 1e-9);
    }
    st.SetItemsProcessed(st.iterations() * n);
    st.counters["n"] = static_cast<double>(n);
}

/* Resident set size in bytes, from /proc/self/statm (its second field, in pages). */
inline int64_t rss_bytes()
{
    FILE *f = std::fopen("/proc/self/statm", "r");
    long long size = 0, resident = 0;
    if (!f)
        return -1;
    int got = std::fscanf(f, "%lld %lld", &size, &resident);
    std::fclose(f);
    if (got != 2)
        return -1;
    return resident * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

/* Register the two worker counts every workload runs at. */
inline void workers_1_2(benchmark::internal::Benchmark *b)
{
    b->ArgNames({"workers"})->Arg(1)->Arg(2)->UseManualTime()->Unit(benchmark::kMicrosecond);
}

} // namespace rb

#endif /* RILL_BENCH_COMMON_H */
