/*
 * floor_bench.cc - floors to read the other numbers against (no Go peer).
 *
 *   CondvarPingPong  two pthreads hand a turn back and forth under a mutex and two condition
 *                    variables: the cost of a thread-per-task design's round trip.
 *   FutexPingPong    the same with one futex word and FUTEX_WAIT/FUTEX_WAKE, no mutex: the
 *                    least a kernel-mediated round trip between threads can cost.
 *   SelfYield        one goroutine calling rill_yield with nothing else runnable: the price of
 *                    the scheduler's "anything else to run?" check, the least any yield
 *                    costs. It is not a context switch. BM_Sched_Yield at one worker measures
 *                    real goroutine switches.
 *   RawSwitch        two contexts switching to each other with the runtime's own assembly
 *                    switch (rilli_ctx_switch, internal, linked from the static library), no
 *                    scheduler, nothing between the switches. The switch resumes with ret,
 *                    which this loop makes pay more than real code does: on this machine
 *                    (AMD EPYC) 15 ns per switch here against 6 ns when it resumed with
 *                    pop + jmp, while a goroutine yield (BM_Sched_Yield), a switch plus the
 *                    scheduler, went from 21 ns to 9.4 ns with ret. switch.S says why ret.
 *
 * The "workers" argument of the thread floors is the number of CPUs the two threads are
 * pinned to: 1 puts both on the first CPU of the process's affinity mask (every hand-off is a
 * kernel context switch), 2 puts them on the first two (a cross-core wake-up). Pinning keeps
 * latency apart from scheduler placement noise.
 */
#include "bench_common.h"

#include <cstring>

extern "C" {
#include "core/arch/ctx.h"
}

#include <atomic>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <thread>

namespace {

/* The idx-th CPU of this process's affinity mask (wrapping), or -1. */
int nth_allowed_cpu(int idx)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return -1;
    int count = CPU_COUNT(&set);
    if (count == 0)
        return -1;
    idx %= count;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, &set) && idx-- == 0)
            return cpu;
    }
    return -1;
}

void pin_self(int cpu)
{
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* Pins the benchmark thread for the life of the object and restores its old mask after. */
class PinGuard {
public:
    explicit PinGuard(int cpu)
    {
        pthread_getaffinity_np(pthread_self(), sizeof old_, &old_);
        pin_self(cpu);
    }
    ~PinGuard()
    {
        pthread_setaffinity_np(pthread_self(), sizeof old_, &old_);
    }

private:
    cpu_set_t old_;
};

/*
 * Run a two-thread floor: the partner thread serves round trips until told to stop, the
 * benchmark thread times batches of n round trips. Protocol is an object with round_trip(),
 * serve() (returns false once stopped) and stop().
 */
template <class Protocol> void thread_floor(benchmark::State &st, Protocol &proto)
{
    const int64_t n = rb::pick(100000, 20000, 1000);
    const int cpus = static_cast<int>(st.range(0));
    PinGuard pin(nth_allowed_cpu(0));
    std::thread partner([&] {
        pin_self(nth_allowed_cpu(cpus == 1 ? 0 : 1));
        while (proto.serve()) {
        }
    });
    auto batch = [&] {
        for (int64_t i = 0; i < n; i++)
            proto.round_trip();
    };
    rb::timed(st, n, batch);
    proto.stop();
    partner.join();
}

/* turn: 0 = the benchmark thread's move, 1 = the partner's, 2 = stop. */
class CondvarProtocol {
public:
    void round_trip()
    {
        pthread_mutex_lock(&mu_);
        turn_ = 1;
        pthread_cond_signal(&to_partner_);
        while (turn_ != 0)
            pthread_cond_wait(&to_main_, &mu_);
        pthread_mutex_unlock(&mu_);
    }
    bool serve()
    {
        pthread_mutex_lock(&mu_);
        while (turn_ == 0)
            pthread_cond_wait(&to_partner_, &mu_);
        bool go_on = turn_ == 1;
        if (go_on) {
            turn_ = 0;
            pthread_cond_signal(&to_main_);
        }
        pthread_mutex_unlock(&mu_);
        return go_on;
    }
    void stop()
    {
        pthread_mutex_lock(&mu_);
        turn_ = 2;
        pthread_cond_signal(&to_partner_);
        pthread_mutex_unlock(&mu_);
    }

private:
    pthread_mutex_t mu_ = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t to_partner_ = PTHREAD_COND_INITIALIZER;
    pthread_cond_t to_main_ = PTHREAD_COND_INITIALIZER;
    int turn_ = 0; /* guarded by mu_ */
};

void BM_Floor_CondvarPingPong(benchmark::State &st)
{
    CondvarProtocol proto;
    thread_floor(st, proto);
}
BENCHMARK(BM_Floor_CondvarPingPong)->Apply(rb::workers_1_2);

/*
 * One futex word with the same turn values as above. Each side stores the new turn, wakes the
 * other unconditionally (one FUTEX_WAKE per hand-off, no waiter bookkeeping to shave it off:
 * this is the plain floor) and sleeps in FUTEX_WAIT until the turn comes back.
 */
class FutexProtocol {
public:
    void round_trip()
    {
        hand_over(1);
        wait_while(1);
    }
    bool serve()
    {
        wait_while(0);
        if (turn_.load(std::memory_order_acquire) == 2)
            return false;
        hand_over(0);
        return true;
    }
    void stop()
    {
        hand_over(2);
    }

private:
    /* release: the other side's acquire load in wait_while sees everything written before. */
    void hand_over(int to)
    {
        turn_.store(to, std::memory_order_release);
        syscall(SYS_futex, &turn_, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
    }
    void wait_while(int value)
    {
        /* acquire: pairs with the release store in hand_over. FUTEX_WAIT rechecks the word
         * in the kernel, so a hand-over between the load and the wait is not lost. */
        while (turn_.load(std::memory_order_acquire) == value)
            syscall(SYS_futex, &turn_, FUTEX_WAIT_PRIVATE, value, nullptr, nullptr, 0);
    }
    std::atomic<int> turn_{0};
    static_assert(sizeof(std::atomic<int>) == sizeof(int), "futex word must be a plain int");
};

void BM_Floor_FutexPingPong(benchmark::State &st)
{
    FutexProtocol proto;
    thread_floor(st, proto);
}
BENCHMARK(BM_Floor_FutexPingPong)->Apply(rb::workers_1_2);

/* One goroutine, nothing else runnable: ns per rill_yield. */
void BM_Floor_SelfYield(benchmark::State &st)
{
    const int64_t n = rb::pick(1000000, 200000, 1000);
    rb::run(st, [&] {
        rb::timed(st, n, [n] {
            for (int64_t i = 0; i < n; i++)
                rill_yield();
        });
        return std::string();
    });
}
BENCHMARK(BM_Floor_SelfYield)->Apply(rb::workers_1_2);

/* Two contexts on one thread, each switching to the other: ns per switch. */
void *raw_main_sp, *raw_co_sp;
alignas(16) char raw_spin_stack[32768];
alignas(16) char raw_co_stack[65536];

[[noreturn]] void raw_co()
{
    for (;;)
        rilli_ctx_switch(&raw_co_sp, &raw_main_sp, raw_spin_stack + sizeof raw_spin_stack, nullptr);
}

void BM_Floor_RawSwitch(benchmark::State &st)
{
    const int64_t n = rb::pick(1000000, 200000, 1000);
    /* raw_co's first frame, laid out as rilli_ctx_switch leaves one: it "returns" into raw_co
     * with rsp = 8 mod 16, as after a call. */
    char *top = raw_co_stack + sizeof raw_co_stack - 8;
    char *sp = top - RILL_CTX_FRAME;
    uint32_t mxcsr = RILL_CTX_MXCSR_DEFAULT;
    uint16_t fpucw = RILL_CTX_FPUCW_DEFAULT;
    void *entry = reinterpret_cast<void *>(raw_co);
    std::memset(sp, 0, RILL_CTX_FRAME);
    std::memcpy(sp + RILL_CTX_OFF_MXCSR, &mxcsr, sizeof mxcsr);
    std::memcpy(sp + RILL_CTX_OFF_FPUCW, &fpucw, sizeof fpucw);
    std::memcpy(sp + RILL_CTX_OFF_RET, &entry, sizeof entry);
    raw_co_sp = sp;
    rb::timed(st, 2 * n, [n] {
        for (int64_t i = 0; i < n; i++)
            rilli_ctx_switch(&raw_main_sp, &raw_co_sp, raw_spin_stack + sizeof raw_spin_stack, nullptr);
    });
}
BENCHMARK(BM_Floor_RawSwitch)->Apply(rb::workers_1_2);

} // namespace
