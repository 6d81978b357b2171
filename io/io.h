/*
 * io.h - internal interface of the io module: one io_uring per P (epoll fallback) in which an
 * idle worker sleeps, cross-P wakeups, and the per-P timer heaps.
 * Design: docs/DESIGN.md "Idle workers and wakeups", "Timers".
 */
#ifndef RILL_IO_IO_H
#define RILL_IO_IO_H

#include <liburing.h>
#include <stdint.h>

#include "core/core.h"

struct rilli_p;

/* ---- ring.c: the per-P event backend ------------------------------------------------------ */

enum { IO_BACKEND_URING = 1, IO_BACKEND_EPOLL = 2 };

struct io_p {
    int backend;          /* IO_BACKEND_*; fixed at init */
    int ring_ok;          /* ring initialised (uring backend) */
    struct io_uring ring; /* owner worker thread only (SINGLE_ISSUER) */
    int efd;              /* eventfd: wakes from threads without a ring (and epoll backend) */
    int epfd;             /* epoll backend only */
    uint64_t efd_buf;     /* target of the armed eventfd read */
    int efd_armed;        /* a read on efd is in flight in the ring */
};

/* Process-wide probe of what the kernel offers; once per rill_run. */
void rilli_io_global_init(void);
/* Create/destroy the P's backend. Called on the P's own worker thread. 0 or -errno. */
int rilli_io_init(struct io_p *io);
void rilli_io_fini(struct io_p *io);
/* Sleep until woken, a completion arrives, or timeout_ns passes (-1: no timeout). Owner. */
void rilli_io_wait(struct io_p *io, int64_t timeout_ns);
/* Wake the worker of 'target' if it sleeps in rilli_io_wait (or make its next wait return).
 * 'from' is the caller's own io_p, or NULL on a thread without a ring. Any thread. */
void rilli_io_notify(struct io_p *target, struct io_p *from);

/* ---- timer.c: per-P timer heaps --------------------------------------------------------- */

/*
 * A timer fires fn(t) once 'when' passes (and again every 'period' if > 0). fn runs on some
 * worker in scheduler or goroutine context and must not block; it may return a G to make
 * runnable, which the timer code does only after its last access to t. After fn returns for
 * a one-shot timer, t is never touched again, so t may live on the stack of the G that fn
 * wakes.
 */
enum { TIMER_IDLE = 0, TIMER_QUEUED = 1, TIMER_RUNNING = 2 };

struct rilli_timer {
    int64_t when;                          /* absolute ns; heap key */
    int64_t period;                        /* > 0: periodic */
    struct rilli_g *(*fn)(struct rilli_timer *t);
    void *arg;                             /* for fn */
    struct rilli_p *p;                     /* heap it is on; owner: that heap's lock */
    int idx;                               /* index in p's heap; owner: heap lock */
    int state;                             /* TIMER_*; written under the heap lock, except
                                              RUNNING -> IDLE (release) by the firer */
    int stopped;                           /* periodic: rilli_timer_del() called; heap lock */
};

struct timer_heap {
    rilli_lock lock;
    struct rilli_timer **h; /* binary min-heap on when; lock */
    int n, cap;             /* lock */
    int64_t when0;          /* h[0]->when or INT64_MAX; written under lock, read relaxed */
};

void rilli_timer_heap_fini(struct timer_heap *th);
/* Queue t to fire at when, on P p (NULL: the current P, or P 0 from a foreign thread).
 * 0 or -ENOMEM. */
int rilli_timer_add(struct rilli_timer *t, int64_t when);
/* Stop t. 1 if it was removed before firing, 0 if it already fired or was never queued.
 * Waits for a concurrent fn(t) to return, so t may be freed afterwards. Any context. */
int rilli_timer_del(struct rilli_timer *t);
/* Fire p's due timers. Returns how many fired. Any worker (an idle one may run another P's). */
int rilli_timer_run(struct rilli_p *p, int64_t now);
static inline int64_t rilli_timer_when0(struct timer_heap *th)
{
    /* relaxed: a hint for how long to sleep; a stale value only makes a sleeper wake early
     * or a new earlier timer is handled by its own P, which is running when it adds it. */
    return rill_load_relaxed(&th->when0);
}

/* ---- sys.c: raw syscalls ------------------------------------------------------------------ */
int rilli_sys_futex_wait(uint32_t *addr, uint32_t val, int64_t timeout_ns);
int rilli_sys_futex_wake(uint32_t *addr, int n);

#endif
