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
 * TAG_MSG (the sender's own MSG_RING, posted only on failure: CQE_SKIP_SUCCESS).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "io/io.h"

enum { TAG_EFD = 1, TAG_WAKE = 2, TAG_MSG = 3 };
#define RING_ENTRIES 256

static struct {
    int backend;
    unsigned setup_flags;
    int msg_ring;
    int skip_success;
} io_g;

void rilli_io_global_init(void)
{
    static const unsigned tries[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
        IORING_SETUP_SINGLE_ISSUER,
        0,
    };
    memset(&io_g, 0, sizeof(io_g));
    io_g.backend = IO_BACKEND_EPOLL;
    const char *env = getenv("RILL_IO");
    if (env && strcmp(env, "epoll") == 0)
        return;
    for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
        struct io_uring r;
        struct io_uring_params prm;
        memset(&prm, 0, sizeof(prm));
        prm.flags = tries[i];
        int rc = io_uring_queue_init_params(4, &r, &prm);
        if (rc == -EINVAL)
            continue;
        if (rc < 0)
            return; /* ENOSYS, EPERM (seccomp), ENOMEM: epoll */
        struct io_uring_probe *pr = io_uring_get_probe_ring(&r);
        io_g.msg_ring = pr && io_uring_opcode_supported(pr, IORING_OP_MSG_RING);
        io_g.skip_success = (prm.features & IORING_FEAT_CQE_SKIP) != 0;
        if (pr)
            io_uring_free_probe(pr);
        io_uring_queue_exit(&r);
        io_g.setup_flags = tries[i];
        io_g.backend = IO_BACKEND_URING;
        return;
    }
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
        prm.flags = io_g.setup_flags;
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
    if (epoll_ctl(io->epfd, EPOLL_CTL_ADD, io->efd, &ev) < 0) {
        int e = -errno;
        close(io->epfd);
        close(io->efd);
        return e;
    }
    return 0;
}

void rilli_io_fini(struct io_p *io)
{
    if (io->ring_ok)
        io_uring_queue_exit(&io->ring);
    if (io->epfd >= 0)
        close(io->epfd);
    if (io->efd >= 0)
        close(io->efd);
    io->ring_ok = 0;
    io->epfd = io->efd = -1;
}

static void ring_reap(struct io_p *io)
{
    struct io_uring_cqe *cqe;
    unsigned head, n = 0;
    io_uring_for_each_cqe(&io->ring, head, cqe)
    {
        if (cqe->user_data == TAG_EFD)
            io->efd_armed = 0;
        n++;
    }
    io_uring_cq_advance(&io->ring, n);
}

static void ring_wait(struct io_p *io, int64_t timeout_ns)
{
    if (!io->efd_armed)
        efd_arm(io);
    struct __kernel_timespec ts;
    struct io_uring_cqe *cqe;
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1000000000LL;
        ts.tv_nsec = timeout_ns % 1000000000LL;
    }
    io_uring_submit_and_wait_timeout(&io->ring, &cqe, 1, timeout_ns >= 0 ? &ts : NULL, NULL);
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
