/*
 * consumer.cc - a C++ program built against an *installed* rill, never against the build tree.
 *
 * The C++ twin of consumer.c (see there for why it exists): it proves rill.h is usable from
 * C++17 (extern "C", aggregate initialisers such as RILL_WAITGROUP_INIT, captureless lambdas as
 * goroutine bodies) and that a C++ link line built from the package is complete. It also runs
 * the runtime with an explicit rill_config, and runs it twice, which rill_run() allows.
 *
 * Exit status: 0 when every check holds, 1 otherwise; one line on stdout or stderr says which.
 */
#include <rill.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace {

int failures = 0;

void check(bool ok, int line, const char *what)
{
    if (!ok) {
        std::fprintf(stderr, "consumer_cxx: check failed at line %d: %s\n", line, what);
        failures++;
    }
}
#define CHECK(cond) check((cond), __LINE__, #cond)

constexpr int kWorkers = 8;
constexpr int kRounds = 100;

struct PingPong {
    rill_chan *ping = nullptr;
    rill_chan *pong = nullptr;
    rill_waitgroup wg = RILL_WAITGROUP_INIT;
    std::atomic<int> served{0};
};

/* kWorkers goroutines each answer pings with value + 1 until `ping` is closed. */
void ping_pong(void *arg)
{
    auto *pp = static_cast<PingPong *>(arg);
    PingPong &s = *pp;

    s.ping = rill_chan_make(sizeof(int), 0);
    s.pong = rill_chan_make(sizeof(int), 0);
    CHECK(s.ping != nullptr && s.pong != nullptr);
    if (s.ping == nullptr || s.pong == nullptr)
        return;
    for (int i = 0; i < kWorkers; i++) {
        CHECK(rill_wg_add(&s.wg, 1) == 0);
        int rc = rill_go(
            [](void *a) {
                auto *st = static_cast<PingPong *>(a);
                int v = 0;
                while (rill_chan_recv(st->ping, &v) == 0) {
                    v += 1;
                    rill_chan_send(st->pong, &v);
                    st->served.fetch_add(1, std::memory_order_relaxed);
                }
                rill_wg_done(&st->wg);
            },
            &s, 0);
        CHECK(rc == 0);
    }

    std::vector<int> answers;
    for (int i = 0; i < kRounds; i++) {
        int v = i;
        CHECK(rill_chan_send(s.ping, &v) == 0);
        CHECK(rill_chan_recv(s.pong, &v) == 0);
        answers.push_back(v);
    }
    CHECK(rill_chan_close(s.ping) == 0);
    CHECK(rill_wg_wait(&s.wg) == 0);
    for (int i = 0; i < kRounds; i++)
        CHECK(answers[static_cast<size_t>(i)] == i + 1);
    CHECK(s.served.load() == kRounds);
    rill_chan_free(s.pong);
    rill_chan_free(s.ping);
}

/* A mutex-protected counter bumped by many goroutines, with rill_sleep() and rill_yield(). */
struct Counter {
    rill_mutex mu = RILL_MUTEX_INIT;
    rill_waitgroup wg = RILL_WAITGROUP_INIT;
    long value = 0;
};

void mutex_counter(void *arg)
{
    auto *c = static_cast<Counter *>(arg);

    for (int i = 0; i < kWorkers; i++) {
        rill_wg_add(&c->wg, 1);
        CHECK(rill_go(
                  [](void *a) {
                      auto *ctr = static_cast<Counter *>(a);
                      rill_sleep(RILL_US(100));
                      for (int k = 0; k < 1000; k++) {
                          rill_mutex_lock(&ctr->mu);
                          ctr->value++;
                          rill_mutex_unlock(&ctr->mu);
                          if (k % 100 == 0)
                              rill_yield();
                      }
                      rill_wg_done(&ctr->wg);
                  },
                  c, 0) == 0);
    }
    rill_wg_wait(&c->wg);
}

} // namespace

int main()
{
    rill_config cfg{};
    cfg.workers = 2;

    PingPong pp;
    int rc = rill_run(ping_pong, &pp, &cfg);
    CHECK(rc == 0);

    Counter counter;
    rc = rill_run(mutex_counter, &counter, nullptr);
    CHECK(rc == 0);
    CHECK(counter.value == static_cast<long>(kWorkers) * 1000);

    if (failures != 0) {
        std::fprintf(stderr, "consumer_cxx: %d check(s) failed\n", failures);
        return 1;
    }
    std::printf("consumer_cxx: ok\n");
    return 0;
}
