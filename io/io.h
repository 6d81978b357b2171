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
#include "rill.h"

struct rilli_p;

/* ---- ring.c: the per-P event backend ------------------------------------------------------ */

enum { IO_BACKEND_URING = 1, IO_BACKEND_EPOLL = 2 };

/* user_data values that are not pointers (ring.c) */
enum { TAG_EFD = 1, TAG_WAKE = 2, TAG_MSG = 3, TAG_LTO = 4, TAG_CANCEL = 5, TAG_NETPOLL = 6,
       TAG_MAX = 4096 };

struct rilli_io_op;

struct io_p {
    int backend;          /* IO_BACKEND_*; fixed at init */
    unsigned inflight;    /* ops submitted to this ring whose CQE is not reaped; written by
                             the owner (rilli_io_inflight_add), read relaxed by rill_close */
    unsigned queued;      /* SQEs prepared since the last io_uring_enter; owner */
    /* Cancel requests from other threads, drained by the owner (it alone may submit). */
    rilli_lock mbox_lock;
    struct rilli_io_op *mbox;   /* ops to cancel; mbox_lock */
    struct io_fd_cmd *fd_cmds;  /* "cancel everything on fd" requests; mbox_lock */
    int mbox_n;                 /* mbox or fd_cmds non-empty; written under mbox_lock,
                                   read relaxed as a hint by the owner */
    int ring_ok;          /* ring initialised (uring backend) */
    struct io_uring ring; /* owner worker thread only (SINGLE_ISSUER) */
    int efd;              /* eventfd: wakes from threads without a ring (and epoll backend) */
    int epfd;             /* epoll backend only */
    uint64_t efd_buf;     /* target of the armed eventfd read */
    int efd_armed;        /* a read on efd is in flight in the ring */
    int closing;          /* rill_run is returning: CQEs only count down inflight */
    uint16_t gen;         /* generation tag of the next op's user_data; owner */
};

static inline void rilli_io_inflight_add(struct io_p *io, int d)
{
    /* relaxed: only the owner writes; other threads read it as a hint (rilli_io_cancel_fd) */
    rill_store_relaxed(&io->inflight, io->inflight + (unsigned)d);
}

/* user_data of an op: its address (user space is below 2^47) with a 16-bit generation tag
 * that is never 0, so the same stack address used again soon after is a different key. */
#define UD_TAG_SHIFT 48
#define UD_PTR_MASK ((UINT64_C(1) << UD_TAG_SHIFT) - 1)
static inline uint64_t rilli_io_op_ud(struct io_p *io, const void *op)
{
    if (++io->gen == 0)
        io->gen = 1;
    return (uint64_t)(uintptr_t)op | ((uint64_t)io->gen << UD_TAG_SHIFT);
}

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

/* An SQE on the owner's ring, with at least need - 1 more free behind it (links); submits
 * first when the SQ is too full. Counts it as queued. Owner. */
struct io_uring_sqe *rilli_io_sqe(struct io_p *io, unsigned need);
int rilli_io_op_supported(int opcode); /* IORING_OP_* usable on this kernel */
int rilli_io_defer_taskrun(void);
void rilli_io_global_fini(void);

int rilli_netpoll_waiters(void); /* epoll.c: goroutines in rilli_netpoll_wait (a hint) */

/* Submit what this round queued and reap completions, without blocking. Owner. Returns how
 * many goroutines it made runnable. */
int rilli_io_poll(struct io_p *io);
/* Anything for rilli_io_poll to do (SQEs queued, ops in flight, cancel requests)? Owner. */
static inline int rilli_io_busy(struct io_p *io)
{
    /* relaxed: mbox_n is a hint; a request posted after this read comes with a notify */
    return io->queued | io->inflight | (unsigned)rill_load_relaxed(&io->mbox_n) |
           (unsigned)rilli_netpoll_waiters();
}

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
    int fixed;                             /* rilli_timer_add_fixed: never deleted, idx unkept */
};

struct timer_ent {
    int64_t when; /* a copy of t->when: sifting reads the array, not the timers */
    uintptr_t t;  /* the timer; low bit TIMER_ENT_FIXED: its idx is not kept (timer.c) */
};

struct timer_heap {
    rilli_lock lock;
    struct timer_ent *h;    /* 4-ary min-heap on when; lock */
    int n, cap;             /* lock */
    int64_t when0;          /* h[0].when or INT64_MAX; written under lock, read relaxed */
};

/*
 * The latest deadline a timer can have. 'now + ns' for a relative duration (rill_sleep,
 * rill_after, a tick's period) saturates here instead of overflowing: a wrapped sum is a
 * deadline in the past, which made rill_sleep(INT64_MAX) return at once and rill_tick spin
 * re-arming. It is one short of INT64_MAX, which when0 keeps for an empty heap, so such a
 * timer still counts as pending (a G sleeping for ever is not a deadlock, as in Go) and the
 * idle sleep until it is merely 292 years long. Absolute deadlines past it (a select or I/O
 * deadline of INT64_MAX) are clamped to it when the timer is added (timer.c).
 */
#define RILLI_WHEN_MAX (INT64_MAX - 1)

/* base + ns, saturated at RILLI_WHEN_MAX. base and ns >= 0 (base is a clock reading). */
static inline int64_t rilli_when_after(int64_t base, int64_t ns)
{
    return ns < RILLI_WHEN_MAX - base ? base + ns : RILLI_WHEN_MAX;
}

void rilli_timer_heap_fini(struct timer_heap *th);
/* Queue t to fire at when, on P p (NULL: the current P, or P 0 from a foreign thread).
 * 0 or -ENOMEM. */
int rilli_timer_add(struct rilli_timer *t, int64_t when);
/* The same for a one-shot timer that is never deleted: it fires, or the runtime ends first
 * (rill_sleep). Moving it in the heap then never touches t. */
int rilli_timer_add_fixed(struct rilli_timer *t, int64_t when);
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

/* ---- op.c, epoll.c: blocking operations --------------------------------------------------- */

/*
 * One blocking operation of one goroutine; lives on that goroutine's stack, which stays
 * parked until every path that can touch the op (CQE, readiness event, timer, cancel) is
 * done with it.
 */
enum { OP_IDLE = 0, OP_WAITING = 1, OP_DONE = 2 };

struct rilli_io_op {
    struct rilli_g *g;
    struct io_p *ring;            /* uring: the ring carrying the op (its mailbox) */
    int64_t res;                  /* result: CQE res, or revents / -errno (epoll) */
    uint64_t ud;                  /* uring: the user_data it was submitted with */
    int state;                    /* OP_*; epoll: under the fd entry's lock */
    int cancel;                   /* -ECANCELED / -ETIMEDOUT when cancelled by a ctx */
    int in_mbox;                  /* queued in ring->mbox; mbox_lock */
    struct rilli_io_op *mnext;    /* mbox link */
    struct __kernel_timespec ts;  /* linked timeout (read by the kernel at submission) */
    /* bound context (ctx.c): ops of a ctx, under its lock */
    struct rill_ctx *ctx;
    struct rilli_io_op *cnext, *cprev;
    /* epoll backend: waiter on an fd */
    int fd;
    uint32_t events;              /* EPOLLIN / EPOLLOUT / ... wanted */
    struct rilli_io_op *fnext, *fprev;
    struct rilli_timer timer;     /* deadline */
};

void rilli_io_ops_init(void); /* op.c: read the env knobs; once per rill_run */

/* A "cancel all I/O on fd" request to one ring (rill_close). */
struct io_fd_cmd {
    int fd;
    int thread;                   /* the closer is a thread without a G (a futex waiter) */
    struct io_fd_cmd *next;
    struct rill_waitgroup *wg;    /* done when this ring's cancel has completed */
};

/* Cancel op (in flight on op->ring) from any thread; its goroutine wakes with the op's
 * CQE. Caller holds the op's ctx lock (so the op is alive). */
void rilli_io_cancel_op(struct rilli_io_op *op);
/* After the op's goroutine resumed and unlinked it from its ctx: make sure no cancel
 * request still names it. */
void rilli_io_op_retire(struct rilli_io_op *op);
/* Wake every goroutine blocked in I/O on fd with -ECANCELED; returns when they are. Any
 * thread. */
void rilli_io_cancel_fd(int fd);

/* epoll.c: readiness waits (the epoll backend; also every backend's fallback). */
int rilli_netpoll_init(void);     /* process-wide, once per rill_run; 0 or -errno */
void rilli_netpoll_fini(void);
int rilli_netpoll_fd(void);       /* the epoll fd each P's epoll set watches */
/* Wait until op->fd has any of events (EPOLL*) or deadline: revents, -ETIMEDOUT, -ECANCELED,
 * -EPERM (fd cannot be polled: a regular file), -EBADF. op->g, op->fd, op->cancel set up
 * (op.c). Goroutine context. */
int rilli_netpoll_wait(struct rilli_io_op *op, uint32_t events, int64_t deadline);
/* Make goroutines whose fds are ready runnable; never blocks. Any worker. */
int rilli_netpoll_harvest(void);
int rilli_netpoll_waiters(void);  /* goroutines in rilli_netpoll_wait (a hint) */
void rilli_netpoll_cancel_fd(int fd);
/* ctx cancel of an epoll-backend op; caller holds the ctx lock. */
void rilli_netpoll_cancel_op(struct rilli_io_op *op, int reason);

/* blocking.c: at rill_run's end, after the workers are joined: drop queued offload jobs and
 * wait for running ones, so no pool thread touches a goroutine of a finished runtime. */
void rilli_blocking_drain(void);

/* ctx.c */
/* Link op to the goroutine's bound ctx (if any): 0, or the ctx's error if it is done. */
int rilli_ctx_link(struct rilli_io_op *op, int64_t *deadline);
void rilli_ctx_unlink(struct rilli_io_op *op);
/* rill_run: arm the deadlines of contexts made outside a run (before its workers start), and
 * arm no more (after its workers stopped, before the Ps and their heaps go). */
void rilli_ctx_run_start(void);
void rilli_ctx_run_end(void);

/* ---- sys.c: raw syscalls ------------------------------------------------------------------ */
int rilli_sys_futex_wait(uint32_t *addr, uint32_t val, int64_t timeout_ns);
int rilli_sys_futex_wake(uint32_t *addr, int n);

#endif
