/*
 * ring.c - the per-P event backend an idle worker sleeps in: one io_uring per P, or epoll
 * where io_uring cannot be had. Design: docs/DESIGN.md "Idle workers and wakeups".
 *
 * Each P's ring is created by its own worker thread, with IORING_SETUP_SINGLE_ISSUER and
 * IORING_SETUP_DEFER_TASKRUN when the kernel accepts them: completions are then processed
 * only when the owner waits, which is exactly when it wants them. What the kernel offers is
 * probed once per rill_run (a throwaway ring and io_uring_get_probe), never guessed from the
 * kernel version.
 *
 * Wakeups: a worker wakes another with IORING_OP_MSG_RING from its own ring into the
 * target's ring (one SQE, no file descriptor in between). A thread without a ring, or a
 * kernel without MSG_RING, writes the target's eventfd, on which the target keeps a read
 * armed in its ring. Either way the wake is a completion that stays queued until the target
 * next waits, so a wake sent just before the target goes to sleep is not lost.
 *
 * The epoll backend (RILL_IO=epoll, or io_uring_setup failing with ENOSYS/EPERM) waits in
 * epoll_pwait2 on the eventfd, with nanosecond timeouts.
 *
 * Tags in user_data: TAG_EFD (the eventfd read), TAG_WAKE (a MSG_RING wake arriving),
 * TAG_MSG (the sender's own MSG_RING, posted only on failure: CQE_SKIP_SUCCESS), TAG_LTO (a
 * linked timeout: its operation's own CQE says what happened), TAG_CANCEL (an ASYNC_CANCEL
 * for one op, posted only on failure). Any other value holds a pointer: a struct rilli_io_op
 * whose goroutine waits for this CQE, with a non-zero generation tag in bits 48-63 (see
 * rilli_io_op_ud()), or a struct io_fd_cmd with bit 0 set and no tag (a rill_close
 * cancel-by-fd). Every small tag is below 4096, where no pointer points.
 *
 * Cancel requests (a rill_ctx cancelled, a rill_close) come from any thread, but only the
 * owner may submit (SINGLE_ISSUER): they go to the ring's mailbox, the requester notifies
 * the owner, and the owner turns each into an IORING_OP_ASYNC_CANCEL at its next poll or
 * wait (drain_mbox). An op stays alive until its goroutine resumes and returns. Once
 * resumed, the goroutine unlinks the op from its ctx, so no canceller can find it any more,
 * and then takes it out of the mailbox if it is there (rilli_io_op_retire): a canceller that
 * found it just before the unlink may have posted it after the goroutine resumed. So no
 * cancel names a dead op. (Retiring before the unlink left that late post behind: the
 * owner's next drain wrote into a returned goroutine's stack.)
 *
 * Shutdown: goroutines still blocked in I/O when rill_run returns are abandoned. Before the
 * ring is closed, every request in it is cancelled and its CQE awaited (bounded), so the
 * kernel writes into no goroutine stack after the runtime has freed it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "io/io.h"
#include "sched/sched.h"

#define RING_ENTRIES 256
#define CQ_ENTRIES 8192 /* completions of up to this many ops queue without overflow */

static struct {
    int backend;
    unsigned setup_flags;
    int msg_ring;
    int skip_success;
    int cancel_fd;     /* IORING_ASYNC_CANCEL_FD (5.19) */
    uint8_t ops[IORING_OP_LAST]; /* opcode supported */
} io_g;

int rilli_io_op_supported(int opcode)
{
    return opcode >= 0 && opcode < IORING_OP_LAST && io_g.ops[opcode];
}

int rilli_io_defer_taskrun(void)
{
    return (io_g.setup_flags & IORING_SETUP_DEFER_TASKRUN) != 0;
}

void rilli_io_global_init(void)
{
    static const unsigned tries[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
        IORING_SETUP_SINGLE_ISSUER,
        0,
    };
    memset(&io_g, 0, sizeof(io_g));
    io_g.backend = IO_BACKEND_EPOLL;
    rilli_io_ops_init();
    int rc = rilli_netpoll_init();
    if (rc < 0)
        rill_throw("rill_run: cannot create the process's epoll instance: %s", strerror(-rc));
    const char *env = getenv("RILL_IO");
    if (env && strcmp(env, "epoll") == 0)
        return;
    /* RILL_IO=uring-poll: pretend the kernel lacks every data opcode but POLL_ADD, so the
     * tests cover the readiness fallback that an older kernel takes. */
    int poll_only = env && strcmp(env, "uring-poll") == 0;
    for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
        struct io_uring r;
        struct io_uring_params prm;
        memset(&prm, 0, sizeof(prm));
        prm.flags = tries[i];
        rc = io_uring_queue_init_params(4, &r, &prm);
        if (rc == -EINVAL)
            continue;
        if (rc < 0)
            return; /* ENOSYS, EPERM (seccomp), ENOMEM: epoll */
        struct io_uring_probe *pr = io_uring_get_probe_ring(&r);
        io_g.msg_ring = pr && io_uring_opcode_supported(pr, IORING_OP_MSG_RING);
        io_g.skip_success = (prm.features & IORING_FEAT_CQE_SKIP) != 0;
        for (int op = 0; pr && op < IORING_OP_LAST; op++)
            io_g.ops[op] = io_uring_opcode_supported(pr, op) &&
                           (!poll_only || op == IORING_OP_POLL_ADD || op == IORING_OP_READ ||
                            op == IORING_OP_ASYNC_CANCEL || op == IORING_OP_LINK_TIMEOUT ||
                            op == IORING_OP_MSG_RING);
        /* IORING_OP_SOCKET arrived in 5.19 with IORING_ASYNC_CANCEL_FD. */
        io_g.cancel_fd = pr && io_uring_opcode_supported(pr, IORING_OP_SOCKET);
        if (pr)
            io_uring_free_probe(pr);
        io_uring_queue_exit(&r);
        io_g.setup_flags = tries[i];
        io_g.backend = IO_BACKEND_URING;
        return;
    }
}

void rilli_io_global_fini(void)
{
    rilli_netpoll_fini();
}

static void efd_arm(struct io_p *io)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&io->ring);
    if (!sqe)
        return; /* SQ full: retried at the next wait */
    io_uring_prep_read(sqe, io->efd, &io->efd_buf, sizeof(io->efd_buf), 0);
    io_uring_sqe_set_data64(sqe, TAG_EFD);
    io->efd_armed = 1;
}

int rilli_io_init(struct io_p *io)
{
    memset(io, 0, sizeof(*io));
    io->epfd = -1;
    io->backend = io_g.backend;
    io->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (io->efd < 0)
        return -errno;
    if (io->backend == IO_BACKEND_URING) {
        struct io_uring_params prm;
        memset(&prm, 0, sizeof(prm));
        prm.flags = io_g.setup_flags | IORING_SETUP_CQSIZE;
        prm.cq_entries = CQ_ENTRIES;
        int rc = io_uring_queue_init_params(RING_ENTRIES, &io->ring, &prm);
        if (rc == 0) {
            io->ring_ok = 1;
            efd_arm(io);
            return 0;
        }
        io->backend = IO_BACKEND_EPOLL; /* this ring failed (e.g. memlock): this P uses epoll */
    }
    io->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (io->epfd < 0) {
        int e = -errno;
        close(io->efd);
        return e;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_EFD};
    /* The process's readiness set (epoll.c): one idle P at a time wakes for it. */
    struct epoll_event nev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.u64 = TAG_NETPOLL};
    if (epoll_ctl(io->epfd, EPOLL_CTL_ADD, io->efd, &ev) < 0 ||
        (epoll_ctl(io->epfd, EPOLL_CTL_ADD, rilli_netpoll_fd(), &nev) < 0 &&
         (nev.events = EPOLLIN, epoll_ctl(io->epfd, EPOLL_CTL_ADD, rilli_netpoll_fd(), &nev)) < 0)) {
        int e = -errno;
        close(io->epfd);
        close(io->efd);
        return e;
    }
    return 0;
}

static int ring_reap(struct io_p *io);

/* Cancel everything in the ring and wait (bounded) until the kernel has let go of it. */
static void ring_quiesce(struct io_p *io)
{
    io->closing = 1;
    if (!io->inflight)
        return;
    struct io_uring_sqe *sqe = io_uring_get_sqe(&io->ring);
    if (!sqe) {
        io_uring_submit(&io->ring);
        sqe = io_uring_get_sqe(&io->ring);
    }
    if (sqe) {
        io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL);
        io_uring_sqe_set_data64(sqe, TAG_CANCEL);
    }
    int64_t until = rill_now() + 1000000000LL;
    while (io->inflight && rill_now() < until) {
        struct __kernel_timespec ts = {0, 10000000};
        struct io_uring_cqe *cqe;
        io_uring_submit_and_wait_timeout(&io->ring, &cqe, 1, &ts, NULL);
        ring_reap(io);
    }
}

/* rill_run is returning: answer the cancel-by-fd commands never drained that a thread
 * without a G waits for (it would wait for ever, and rill_run too if it is an offload
 * thread). A goroutine closer is abandoned with its stack, as any goroutine still blocked. */
static void answer_stranded(struct io_p *io)
{
    rilli_lock_acquire(&io->mbox_lock); /* no new one comes: every waker has left */
    struct io_fd_cmd *c = io->fd_cmds;
    io->fd_cmds = NULL;
    rilli_lock_release(&io->mbox_lock);
    while (c) {
        struct io_fd_cmd *next = c->next; /* read before its closer may return */
        if (c->thread)
            rill_wg_done(c->wg);
        c = next;
    }
}

void rilli_io_fini(struct io_p *io)
{
    if (io->ring_ok) {
        ring_quiesce(io);
        answer_stranded(io);
        io_uring_queue_exit(&io->ring);
    }
    if (io->epfd >= 0)
        close(io->epfd);
    if (io->efd >= 0)
        close(io->efd);
    io->ring_ok = 0;
    io->epfd = io->efd = -1;
}

/* One CQE. Returns 1 when it made a goroutine runnable. */
static int cqe_dispatch(struct io_p *io, uint64_t ud, int res)
{
    if (ud < TAG_MAX) {
        if (ud == TAG_EFD)
            io->efd_armed = 0;
        return 0; /* wakes, linked timeouts, failed cancels: nothing waits on them */
    }
    if ((ud >> UD_TAG_SHIFT) == 0) { /* a cancel-by-fd of rill_close (bit 0 set) */
        struct io_fd_cmd *cmd = (struct io_fd_cmd *)(uintptr_t)(ud & ~(uint64_t)1);
        rilli_io_inflight_add(io, -1);
        if (!io->closing)
            rill_faa_acqrel(&rilli_sched.npending, -1); /* acq_rel: as for an op, below */
        /* a closing ring still answers a thread: see answer_stranded() */
        if (!io->closing || cmd->thread)
            rill_wg_done(cmd->wg);
        return 0;
    }
    struct rilli_io_op *op = (struct rilli_io_op *)(uintptr_t)(ud & UD_PTR_MASK);
    rilli_io_inflight_add(io, -1);
    if (io->closing)
        return 0; /* rill_run is returning: the goroutine is abandoned with its stack */
    op->res = res;
    struct rilli_g *g = op->g;
    /* acq_rel: pairs with the deadlock check's acq load. This P is not idle while it
     * dispatches, so the check cannot run between the decrement and the ready. */
    rill_faa_acqrel(&rilli_sched.npending, -1);
    rilli_ready(g, 0); /* op may be gone from here on */
    return 1;
}

static int ring_reap(struct io_p *io)
{
    struct io_uring_cqe *cqe;
    unsigned head, n = 0;
    int woke = 0;
    /* Dispatching may run ready() -> wakep() -> notify, which only adds SQEs; the CQ ring
     * is ours alone. Collect first, then advance, so a nested submit sees a consistent CQ. */
    io_uring_for_each_cqe(&io->ring, head, cqe)
    {
        woke += cqe_dispatch(io, cqe->user_data, cqe->res);
        n++;
    }
    io_uring_cq_advance(&io->ring, n);
    return woke;
}

/* Turn the mailbox's cancel requests into ASYNC_CANCEL SQEs. Owner. */
static void drain_mbox(struct io_p *io)
{
    rilli_lock_acquire(&io->mbox_lock);
    struct rilli_io_op *ops = io->mbox;
    struct io_fd_cmd *cmds = io->fd_cmds;
    io->mbox = NULL;
    io->fd_cmds = NULL;
    rill_store_relaxed(&io->mbox_n, 0); /* relaxed: a hint; the lock orders the lists */
    for (struct rilli_io_op *op = ops; op; op = op->mnext) {
        op->in_mbox = 0;
        struct io_uring_sqe *sqe = rilli_io_sqe(io, 1);
        io_uring_prep_cancel64(sqe, op->ud, 0);
        io_uring_sqe_set_data64(sqe, TAG_CANCEL);
        if (io_g.skip_success)
            sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
    }
    rilli_lock_release(&io->mbox_lock);
    /* The ops' goroutines cannot resume before their CQEs, which this thread reaps after
     * this: the op addresses above were live when prepared. */
    while (cmds) {
        struct io_fd_cmd *c = cmds;
        cmds = c->next;
        struct io_uring_sqe *sqe = rilli_io_sqe(io, 1);
        io_uring_prep_cancel_fd(sqe, c->fd, IORING_ASYNC_CANCEL_ALL);
        io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)c | 1);
        rilli_io_inflight_add(io, 1); /* its CQE wakes the closer: keep polling for it */
    }
}

struct io_uring_sqe *rilli_io_sqe(struct io_p *io, unsigned need)
{
    if (io_uring_sq_space_left(&io->ring) < need) {
        io_uring_submit(&io->ring);
        io->queued = 0;
    }
    struct io_uring_sqe *sqe = io_uring_get_sqe(&io->ring);
    if (!sqe)
        rill_throw("io_uring: no free SQE after submitting (ring %d)", io->ring.ring_fd);
    io->queued++;
    return sqe;
}

int rilli_io_poll(struct io_p *io)
{
    int woke = 0;
    if (rilli_netpoll_waiters())
        woke += rilli_netpoll_harvest();
    if (io->backend != IO_BACKEND_URING)
        return woke;
    if (rill_load_relaxed(&io->mbox_n)) /* relaxed: a hint, see io.h */
        drain_mbox(io);
    if (io->queued || (io->inflight && rilli_io_defer_taskrun())) {
        /* One io_uring_enter for everything this round queued; with DEFER_TASKRUN it also
         * runs the completions the kernel has deferred to us. */
        io_uring_submit_and_get_events(&io->ring);
        io->queued = 0;
    }
    if (io->inflight)
        woke += ring_reap(io);
    return woke;
}

void rilli_io_cancel_op(struct rilli_io_op *op)
{
    struct io_p *io = op->ring;
    rilli_lock_acquire(&io->mbox_lock);
    op->in_mbox = 1;
    op->mnext = io->mbox;
    io->mbox = op;
    rill_store_relaxed(&io->mbox_n, 1); /* relaxed: the notify below carries the news */
    rilli_lock_release(&io->mbox_lock);
    struct rilli_p *me = rilli_cur_p();
    if (!me || &me->io != io)
        rilli_io_notify(io, me ? &me->io : NULL);
}

void rilli_io_op_retire(struct rilli_io_op *op)
{
    struct io_p *io = op->ring;
    if (!io)
        return;
    rilli_lock_acquire(&io->mbox_lock);
    if (op->in_mbox) {
        struct rilli_io_op **pp = &io->mbox;
        while (*pp && *pp != op)
            pp = &(*pp)->mnext;
        if (*pp)
            *pp = op->mnext;
        op->in_mbox = 0;
    }
    rilli_lock_release(&io->mbox_lock);
}

/* Rings asked at once by rilli_io_cancel_fd: its commands live on the closing goroutine's
 * stack, which may be the 16 KiB minimum, so they go out in batches, not one per worker. */
#define CANCEL_FD_BATCH 8

void rilli_io_cancel_fd(int fd)
{
    rilli_netpoll_cancel_fd(fd);
    if (!io_g.cancel_fd)
        return;
    struct rilli_sched *s = &rilli_sched;
    struct io_fd_cmd cmds[CANCEL_FD_BATCH];
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    /* A thread without a G (a foreign thread, an offload thread) posts only while counted
     * in nwakers, so no ring it touches is torn down meanwhile, and waits outside it: the
     * rings answer it even while they close (answer_stranded). */
    int thread = !rilli_cur_g();
    for (int i = 0; i < s->nproc;) {
        if (thread && !rilli_waker_enter())
            return; /* the runtime is stopping: its rings cancel everything themselves */
        int n = 0;
        for (; i < s->nproc && n < CANCEL_FD_BATCH; i++) {
            struct io_p *io = &s->allp[i]->io;
            /* relaxed: an op submitted concurrently with the close races with it anyway */
            if (io->backend != IO_BACKEND_URING || !rill_load_relaxed(&io->inflight))
                continue;
            struct io_fd_cmd *c = &cmds[n++];
            c->fd = fd;
            c->thread = thread;
            c->wg = &wg;
            rill_wg_add(&wg, 1);
            /* acq_rel: the closer parks on wg until this ring answers: not a deadlock */
            rill_faa_acqrel(&s->npending, 1);
            rilli_lock_acquire(&io->mbox_lock);
            c->next = io->fd_cmds;
            io->fd_cmds = c;
            rill_store_relaxed(&io->mbox_n, 1); /* relaxed: as in rilli_io_cancel_op() */
            rilli_lock_release(&io->mbox_lock);
            /* the P may differ per batch: rill_wg_wait below may move this goroutine */
            struct rilli_p *me = rilli_cur_p();
            if (!me || io != &me->io)
                rilli_io_notify(io, me ? &me->io : NULL);
        }
        if (thread)
            rilli_waker_leave();
        if (n)
            rill_wg_wait(&wg); /* every command of the batch answered: cmds is free again */
    }
}

static void ring_wait(struct io_p *io, int64_t timeout_ns)
{
    if (rill_load_relaxed(&io->mbox_n)) /* relaxed: a hint, see io.h */
        drain_mbox(io);
    if (!io->efd_armed)
        efd_arm(io);
    struct __kernel_timespec ts;
    struct io_uring_cqe *cqe;
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1000000000LL;
        ts.tv_nsec = timeout_ns % 1000000000LL;
    }
    io_uring_submit_and_wait_timeout(&io->ring, &cqe, 1, timeout_ns >= 0 ? &ts : NULL, NULL);
    io->queued = 0;
    ring_reap(io);
}

static void epoll_wait_once(struct io_p *io, int64_t timeout_ns)
{
    struct epoll_event ev[4];
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1000000000LL;
        ts.tv_nsec = timeout_ns % 1000000000LL;
        tsp = &ts;
    }
    int n = epoll_pwait2(io->epfd, ev, 4, tsp, NULL);
    for (int i = 0; i < n; i++) {
        if (ev[i].data.u64 == TAG_NETPOLL)
            rilli_netpoll_harvest();
        if (ev[i].data.u64 == TAG_EFD) {
            uint64_t v;
            while (read(io->efd, &v, sizeof(v)) > 0)
                ;
        }
    }
}

void rilli_io_wait(struct io_p *io, int64_t timeout_ns)
{
    if (io->backend == IO_BACKEND_URING)
        ring_wait(io, timeout_ns);
    else
        epoll_wait_once(io, timeout_ns);
}

void rilli_io_notify(struct io_p *target, struct io_p *from)
{
    if (target->backend == IO_BACKEND_URING && io_g.msg_ring && from && from->ring_ok) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&from->ring);
        if (sqe) {
            io_uring_prep_msg_ring(sqe, target->ring.ring_fd, 0, TAG_WAKE, 0);
            io_uring_sqe_set_data64(sqe, TAG_MSG);
            if (io_g.skip_success)
                sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
            if (io_uring_submit(&from->ring) >= 0)
                return;
        }
    }
    uint64_t one = 1;
    ssize_t r = write(target->efd, &one, sizeof(one));
    (void)r; /* EAGAIN: the counter is already non-zero, so a wake is pending anyway */
}
