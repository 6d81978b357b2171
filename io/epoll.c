/*
 * epoll.c - readiness waits: the epoll backend's way to park a goroutine until an fd is ready,
 * and every backend's fallback for an operation its io_uring lacks (there through
 * IORING_OP_POLL_ADD instead, op.c). Design: docs/DESIGN.md "I/O".
 *
 * One epoll instance for the process (Go's netpoll), nested in every epoll-backend P's own
 * epoll set with EPOLLEXCLUSIVE, so a ready fd wakes one sleeping P, and polled without
 * blocking by running Ps in their scheduler round (rilli_io_poll). Whoever polls makes the
 * waiting goroutines runnable; a goroutine does not care which P finds its event.
 *
 * Each fd has an entry (a lock and a list of waiting ops) in a two-level table indexed by fd
 * number, whose chunks are installed once with a CAS and freed when rill_run returns. An fd
 * is registered EPOLLONESHOT with the union of what its waiters want, and re-armed with
 * EPOLL_CTL_MOD while some still wait; MOD failing with ENOENT means the registration
 * vanished with a close() (or was never made), so the wait ADDs it again. Registrations are
 * never left armed without a waiter for long: a oneshot fires once and disarms.
 *
 * An op leaves the WAITING state exactly once, under its entry's lock, by whichever comes
 * first: its event (harvest), its deadline (a timer), a cancel (rill_ctx, rill_close). That
 * path makes the goroutine runnable; the goroutine then stops its timer (rilli_timer_del
 * waits for a timer firing concurrently) before its op leaves the stack.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "io/io.h"
#include "sched/sched.h"

#define NP_CHUNK 4096
#define NP_CHUNKS 1024 /* fds up to 4M */

struct np_ent {
    rilli_lock lock;
    struct rilli_io_op *waiters; /* lock */
};

static struct {
    int epfd;
    int nwait; /* ops in WAITING; atomic */
    struct np_ent *chunks[NP_CHUNKS];
} np = {.epfd = -1};

int rilli_netpoll_init(void)
{
    np.epfd = epoll_create1(EPOLL_CLOEXEC);
    np.nwait = 0;
    return np.epfd < 0 ? -errno : 0;
}

void rilli_netpoll_fini(void)
{
    if (np.epfd >= 0)
        close(np.epfd);
    np.epfd = -1;
    /* Waiters of goroutines abandoned by rill_run are gone with their stacks. */
    for (int i = 0; i < NP_CHUNKS; i++) {
        free(np.chunks[i]);
        np.chunks[i] = NULL;
    }
}

int rilli_netpoll_fd(void)
{
    return np.epfd;
}

int rilli_netpoll_waiters(void)
{
    return rill_load_relaxed(&np.nwait); /* relaxed: a hint for pollers */
}

static struct np_ent *ent_get(int fd, int create)
{
    if (fd < 0 || fd >= NP_CHUNK * NP_CHUNKS)
        return NULL;
    struct np_ent **slot = &np.chunks[fd / NP_CHUNK];
    struct np_ent *c = rill_load_acq(slot); /* acq: pairs with the CAS below */
    if (!c) {
        if (!create)
            return NULL;
        struct np_ent *n = calloc(NP_CHUNK, sizeof(*n));
        if (!n)
            return NULL;
        struct np_ent *none = NULL;
        /* acq_rel: publishes the zeroed chunk; a loser frees its own and uses the winner's */
        if (rill_cas_acqrel(slot, &none, n))
            c = n;
        else {
            free(n);
            c = none;
        }
    }
    return &c[fd % NP_CHUNK];
}

/* Arm fd for the union of its waiters' events. Entry lock held. 0 or -errno. */
static int ent_arm(struct np_ent *e, int fd)
{
    uint32_t want = 0;
    for (struct rilli_io_op *w = e->waiters; w; w = w->fnext)
        want |= w->events;
    if (!want)
        return 0; /* the oneshot registration stays disarmed */
    struct epoll_event ev = {.events = want | EPOLLONESHOT, .data.u64 = (uint64_t)fd};
    if (epoll_ctl(np.epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
        return 0;
    if (errno == ENOENT && epoll_ctl(np.epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
        return 0;
    return -errno;
}

static void ent_unlink(struct np_ent *e, struct rilli_io_op *op)
{
    if (op->fprev)
        op->fprev->fnext = op->fnext;
    else
        e->waiters = op->fnext;
    if (op->fnext)
        op->fnext->fprev = op->fprev;
    op->fnext = op->fprev = NULL;
}

/* Take op out of WAITING with result res; entry lock held. Returns its G to ready. */
static struct rilli_g *op_finish(struct np_ent *e, struct rilli_io_op *op, int64_t res)
{
    ent_unlink(e, op);
    op->state = OP_DONE;
    op->res = res;
    rill_faa_acqrel(&np.nwait, -1); /* acq_rel: counts with the increment in wait */
    /* acq_rel: pairs with the deadlock check; the caller readies the G right after, on a
     * P that is running (or from a timer, which the check also sees). */
    rill_faa_acqrel(&rilli_sched.npending, -1);
    return op->g;
}

static struct rilli_g *np_timeout(struct rilli_timer *t)
{
    struct rilli_io_op *op = t->arg;
    struct np_ent *e = ent_get(op->fd, 0);
    struct rilli_g *g = NULL;
    rilli_lock_acquire(&e->lock);
    if (op->state == OP_WAITING)
        g = op_finish(e, op, -ETIMEDOUT);
    rilli_lock_release(&e->lock);
    return g;
}

int rilli_netpoll_wait(struct rilli_io_op *op, uint32_t events, int64_t deadline)
{
    int fd = op->fd;
    struct np_ent *e = ent_get(fd, 1);
    if (!e)
        return fd < 0 ? -EBADF : -ENOMEM;
    struct rilli_g *g = op->g; /* op->g and op->fd are set before the op can be cancelled */
    op->events = events;
    op->state = OP_WAITING;
    rilli_lock_acquire(&e->lock);
    op->fprev = NULL;
    op->fnext = e->waiters;
    if (e->waiters)
        e->waiters->fprev = op;
    e->waiters = op;
    int rc = ent_arm(e, fd);
    /* acq: pairs with the store in the ctx canceller, which then takes this lock: either we
     * see its cancel here or it finds us WAITING (io/ctx.c). */
    int cancel = rill_load_acq(&op->cancel);
    if (rc < 0 || cancel) {
        ent_unlink(e, op);
        op->state = OP_DONE;
        ent_arm(e, fd);
        rilli_lock_release(&e->lock);
        return rc < 0 ? rc : cancel;
    }
    rill_faa_acqrel(&np.nwait, 1);              /* acq_rel: a poller must look */
    rill_faa_acqrel(&rilli_sched.npending, 1);  /* acq_rel: not a deadlock while we wait */
    g->wait_reason = "I/O wait";
    rill_store_relaxed(&g->status, G_WAITING); /* relaxed: informational */
    rilli_lock_release(&e->lock);
    int timed = 0;
    if (deadline != RILL_FOREVER) {
        memset(&op->timer, 0, sizeof(op->timer));
        op->timer.fn = np_timeout;
        op->timer.arg = op;
        timed = rilli_timer_add(&op->timer, deadline) == 0;
    }
    /* A P idle in epoll_pwait2 on the netpoll set wakes for our event; a running P finds it
     * in its round. If every P is busy the event waits for the next round. */
    rilli_park("I/O wait", NULL);
    if (timed)
        rilli_timer_del(&op->timer);
    return (int)op->res;
}

int rilli_netpoll_harvest(void)
{
    struct epoll_event ev[64];
    int n = epoll_wait(np.epfd, ev, 64, 0);
    int woke = 0;
    for (int i = 0; i < n; i++) {
        int fd = (int)ev[i].data.u64;
        uint32_t got = ev[i].events;
        struct np_ent *e = ent_get(fd, 0);
        if (!e)
            continue;
        struct rilli_g *wake[16];
        int nw = 0;
        rilli_lock_acquire(&e->lock);
        struct rilli_io_op *w = e->waiters;
        while (w && nw < 16) {
            struct rilli_io_op *next = w->fnext;
            uint32_t r = got & (w->events | EPOLLERR | EPOLLHUP);
            if (r)
                wake[nw++] = op_finish(e, w, r);
            w = next;
        }
        ent_arm(e, fd); /* the rest (if any) wait on */
        rilli_lock_release(&e->lock);
        for (int k = 0; k < nw; k++)
            rilli_ready(wake[k], 0);
        woke += nw;
    }
    return woke;
}

static void cancel_all(struct np_ent *e, int fd, int res, int unregister)
{
    struct rilli_g *wake[64];
    for (;;) {
        int nw = 0;
        rilli_lock_acquire(&e->lock);
        while (e->waiters && nw < 64)
            wake[nw++] = op_finish(e, e->waiters, res);
        int more = e->waiters != NULL;
        if (!more && unregister)
            epoll_ctl(np.epfd, EPOLL_CTL_DEL, fd, NULL); /* ENOENT when never added: fine */
        rilli_lock_release(&e->lock);
        for (int k = 0; k < nw; k++)
            rilli_ready(wake[k], 0);
        if (!more)
            return;
    }
}

void rilli_netpoll_cancel_fd(int fd)
{
    struct np_ent *e = ent_get(fd, 0);
    if (e && np.epfd >= 0)
        cancel_all(e, fd, -ECANCELED, 1);
}

void rilli_netpoll_cancel_op(struct rilli_io_op *op, int reason)
{
    struct np_ent *e = ent_get(op->fd, 0);
    if (!e)
        return;
    struct rilli_g *g = NULL;
    rilli_lock_acquire(&e->lock);
    if (op->state == OP_WAITING) {
        g = op_finish(e, op, reason);
        ent_arm(e, op->fd);
    }
    rilli_lock_release(&e->lock);
    if (g)
        rilli_ready(g, 0);
}
