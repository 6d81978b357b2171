/*
 * atomic.h - the only way rill touches shared memory atomically.
 *
 * Every name carries its memory order so that a reader sees the order at the call site, and
 * every call site carries a comment naming what it pairs with (STYLE.md section 5). These are
 * thin wrappers over the GCC/Clang __atomic builtins, which ThreadSanitizer understands.
 *
 * x86-64 notes: acquire loads and release stores are plain MOVs (TSO); a read-modify-write is
 * a LOCK-prefixed instruction and already a full barrier; rill_fence_seq() is the one place a
 * store->load (Dekker) order costs an extra instruction.
 */
#ifndef RILL_CORE_ATOMIC_H
#define RILL_CORE_ATOMIC_H

#define RILL_CACHELINE 64
#define rill_cacheline_aligned __attribute__((aligned(RILL_CACHELINE)))

#define rill_load_relaxed(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define rill_load_acq(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define rill_load_seq(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define rill_store_seq(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define rill_store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define rill_store_rel(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define rill_xchg_acqrel(p, v) __atomic_exchange_n((p), (v), __ATOMIC_ACQ_REL)
#define rill_faa_relaxed(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)
#define rill_faa_acqrel(p, v) __atomic_fetch_add((p), (v), __ATOMIC_ACQ_REL)
#define rill_faa_seq(p, v) __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define rill_for_acqrel(p, v) __atomic_fetch_or((p), (v), __ATOMIC_ACQ_REL)
#define rill_fand_acqrel(p, v) __atomic_fetch_and((p), (v), __ATOMIC_ACQ_REL)
#define rill_for_seq(p, v) __atomic_fetch_or((p), (v), __ATOMIC_SEQ_CST)
/* Strong CAS; on failure *expp receives the current value. */
#define rill_cas_acqrel(p, expp, v)                                                                \
    __atomic_compare_exchange_n((p), (expp), (v), 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)
#define rill_cas_acq(p, expp, v)                                                                   \
    __atomic_compare_exchange_n((p), (expp), (v), 0, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)
#define rill_cas_seq(p, expp, v)                                                                   \
    __atomic_compare_exchange_n((p), (expp), (v), 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)
#if defined(__SANITIZE_THREAD__)
#define RILL_ATOMIC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RILL_ATOMIC_TSAN 1
#endif
#endif
#ifdef RILL_ATOMIC_TSAN
/* TSan does not model fences (gcc refuses them with -Werror=tsan): a seq_cst RMW on a local
 * is the same full barrier on x86 and stays quiet. */
#define rill_fence_seq()                                                                           \
    do {                                                                                           \
        int rill_fence_dummy_ = 0;                                                                 \
        __atomic_fetch_add(&rill_fence_dummy_, 0, __ATOMIC_SEQ_CST);                               \
    } while (0)
#else
#define rill_fence_seq() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif
/* Compiler-only barrier: no instruction, stops the compiler from moving memory accesses. */
#define rill_barrier() __asm__ __volatile__("" ::: "memory")

static inline void rill_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    rill_barrier();
#endif
}

#define rill_likely(x) __builtin_expect(!!(x), 1)
#define rill_unlikely(x) __builtin_expect(!!(x), 0)

#endif
