/*
 * op.c - the blocking I/O calls of rill.h: each parks its goroutine until the kernel is done.
 * Design: docs/DESIGN.md "I/O".
 *
 * Three ways to wait, chosen per call:
 *  - io_uring (the P's ring, when the kernel has the opcode): one SQE, plus a linked
 *    IORING_OP_LINK_TIMEOUT (absolute CLOCK_MONOTONIC) when there is a deadline. The SQE only
 *    sits in the ring's SQ; the scheduler submits everything a round queued with one
 *    io_uring_enter (rilli_io_poll) when its run queue drains or every GLOBAL_TICK picks.
 *    The op's CQE (the result, or -ECANCELED when the timeout or a cancel won) is what
 *    resumes the goroutine: the linked timeout's own CQE carries no pointer, so nothing can
 *    land in the goroutine's stack or buffer after it resumes.
 *  - readiness (the epoll backend, and a ring that lacks the opcode): try the system call
 *    without blocking (MSG_DONTWAIT, RWF_NOWAIT, accept4 under a brief O_NONBLOCK), and on
 *    EAGAIN wait until the fd is ready (epoll.c, or IORING_OP_POLL_ADD on a ring), then try
 *    again. A descriptor that cannot be tried without blocking (no RWF_NOWAIT support) is
 *    waited on first and then called. Regular files cannot be waited on: their calls, and
 *    the file-only calls (pread, pwrite, openat, fsync), go to the rill_blocking pool.
 *  - threads the runtime did not create: the same readiness loop with poll(2).
 *
 * deadline == 0 tries once without blocking (-EAGAIN); a call that cannot be tried so is made
 * if a zero-timeout poll(2) says the fd is ready. A past deadline is -ETIMEDOUT before
 * anything is tried, as in Go once a deadline has passed.
 *
 * No fast path by default. A send that tries send(MSG_DONTWAIT) first usually succeeds at
 * once, but each try is a system call of its own, while ring sends share one io_uring_enter
 * per round: on the TCP echo benchmark (64 connections, 2 workers) the try-first send made
 * 196K round trips/s and the ring send 340-350K (1 worker: 106K and 192K). Receives go to
 * the ring for the same reason, and because the data is usually not there yet.
 * RILL_IO_FAST=1 (env) turns the send try-first path on, to measure it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "io/io.h"
#include "sched/sched.h"

#define MAX_RW 0x7ffff000u /* the kernel's per-call cap (MAX_RW_COUNT) */
#define TRY_NA (-4096 - 1) /* try_nonblock(): cannot try this fd without blocking */

enum io_kind {
    K_READ, K_WRITE, K_PREAD, K_PWRITE, K_READV, K_WRITEV, K_RECV, K_SEND,
    K_ACCEPT, K_CONNECT, K_OPENAT, K_FSYNC, K_POLL, K_COUNT
};

static const struct {
    uint8_t opcode;
    uint32_t ready; /* readiness that makes the call proceed; 0: a file-only call */
    const char *name;
} kinds[K_COUNT] = {
    [K_READ] = {IORING_OP_READ, EPOLLIN, "I/O read"},
    [K_WRITE] = {IORING_OP_WRITE, EPOLLOUT, "I/O write"},
    [K_PREAD] = {IORING_OP_READ, 0, "I/O pread"},
    [K_PWRITE] = {IORING_OP_WRITE, 0, "I/O pwrite"},
    [K_READV] = {IORING_OP_READV, EPOLLIN, "I/O readv"},
    [K_WRITEV] = {IORING_OP_WRITEV, EPOLLOUT, "I/O writev"},
    [K_RECV] = {IORING_OP_RECV, EPOLLIN, "I/O recv"},
    [K_SEND] = {IORING_OP_SEND, EPOLLOUT, "I/O send"},
    [K_ACCEPT] = {IORING_OP_ACCEPT, EPOLLIN, "I/O accept"},
    [K_CONNECT] = {IORING_OP_CONNECT, EPOLLOUT, "I/O connect"},
    [K_OPENAT] = {IORING_OP_OPENAT, 0, "I/O openat"},
    [K_FSYNC] = {IORING_OP_FSYNC, 0, "I/O fsync"},
    [K_POLL] = {IORING_OP_POLL_ADD, 0, "I/O poll"},
};

struct io_args {
    int kind;
    int fd;
    void *buf;
    size_t len;
    off_t off;
    int flags;
    const struct iovec *iov;
    int iovcnt;
    struct sockaddr *addr;
    socklen_t *addrlenp;
    socklen_t addrlen;
    const char *path;
    mode_t mode;
    uint32_t events;
};

static int send_fast = -1; /* the send fast path; -1: not read from the env yet */

static int64_t neg_errno(int64_t r)
{
    return r < 0 ? -errno : r;
}

/* ---- the system calls themselves ---------------------------------------------------------- */

/* The blocking call. Also what a worker runs once readiness says it will not block. */
static int64_t plain_call(const struct io_args *a)
{
    size_t len = a->len < MAX_RW ? a->len : MAX_RW;
    switch (a->kind) {
    case K_READ: return neg_errno(read(a->fd, a->buf, len));
    case K_WRITE: return neg_errno(write(a->fd, a->buf, len));
    case K_PREAD: return neg_errno(pread(a->fd, a->buf, len, a->off));
    case K_PWRITE: return neg_errno(pwrite(a->fd, a->buf, len, a->off));
    case K_READV: return neg_errno(readv(a->fd, a->iov, a->iovcnt));
    case K_WRITEV: return neg_errno(writev(a->fd, a->iov, a->iovcnt));
    case K_RECV: return neg_errno(recv(a->fd, a->buf, len, a->flags));
    case K_SEND: return neg_errno(send(a->fd, a->buf, len, a->flags | MSG_NOSIGNAL));
    case K_ACCEPT: return neg_errno(accept4(a->fd, a->addr, a->addrlenp, SOCK_CLOEXEC));
    case K_CONNECT: return neg_errno(connect(a->fd, a->addr, a->addrlen));
    case K_OPENAT: return neg_errno(openat(a->fd, a->path, a->flags, a->mode));
    case K_FSYNC: return neg_errno(fsync(a->fd));
    case K_POLL: {
        struct pollfd pfd = {.fd = a->fd, .events = (short)a->events};
        int r = poll(&pfd, 1, -1);
        return r < 0 ? -errno : pfd.revents;
    }
    }
    return -EINVAL;
}

/*
 * accept4 that cannot block, on a listener that may not be O_NONBLOCK: accept4 has no
 * per-call flag for it (SOCK_NONBLOCK is the new socket's), so a blocking listener is
 * O_NONBLOCK for the call and then gets its flags back, as connect_ready() does. The flags
 * belong to the open file, which every caller shares, so each attempt holds a lock striped
 * by fd across the three calls (none of which can block): a concurrent rill_accept never
 * takes another's temporary flag for the user's, and so never restores the wrong flags or
 * calls accept4 on a listener just made blocking again. Waiting for readiness and then
 * calling a blocking accept4 was the alternative, and it blocked the worker whenever
 * another acceptor took the connection in between. Outside rill's control: a plain
 * accept(2) on the same listener in another thread or process may see the flag and fail
 * with EAGAIN meanwhile, and a process sharing the listener that flips the flags itself
 * may still make an attempt block.
 */
#define ACCEPT_LOCKS 16
static rilli_lock accept_locks[ACCEPT_LOCKS];

static int64_t accept_nonblock(const struct io_args *a)
{
    rilli_lock *l = &accept_locks[(unsigned)a->fd % ACCEPT_LOCKS];
    int64_t r;
    rilli_lock_acquire(l);
    int fl = fcntl(a->fd, F_GETFL);
    if (fl < 0 || (!(fl & O_NONBLOCK) && fcntl(a->fd, F_SETFL, fl | O_NONBLOCK) < 0)) {
        r = -errno;
    } else {
        r = neg_errno(accept4(a->fd, a->addr, a->addrlenp, SOCK_CLOEXEC));
        if (!(fl & O_NONBLOCK))
            fcntl(a->fd, F_SETFL, fl);
    }
    rilli_lock_release(l);
    return r;
}

/* One attempt that cannot block: the result, -EAGAIN, or TRY_NA. */
static int64_t try_nonblock(const struct io_args *a)
{
    size_t len = a->len < MAX_RW ? a->len : MAX_RW;
    struct iovec one = {a->buf, len};
    int64_t r;
    switch (a->kind) {
    case K_RECV: return neg_errno(recv(a->fd, a->buf, len, a->flags | MSG_DONTWAIT));
    case K_SEND:
        return neg_errno(send(a->fd, a->buf, len, a->flags | MSG_DONTWAIT | MSG_NOSIGNAL));
    case K_READ: r = neg_errno(preadv2(a->fd, &one, 1, -1, RWF_NOWAIT)); break;
    case K_READV: r = neg_errno(preadv2(a->fd, a->iov, a->iovcnt, -1, RWF_NOWAIT)); break;
    case K_WRITE: r = neg_errno(pwritev2(a->fd, &one, 1, -1, RWF_NOWAIT)); break;
    case K_WRITEV: r = neg_errno(pwritev2(a->fd, a->iov, a->iovcnt, -1, RWF_NOWAIT)); break;
    case K_ACCEPT: return accept_nonblock(a);
    case K_POLL: {
        struct pollfd pfd = {.fd = a->fd, .events = (short)a->events};
        r = poll(&pfd, 1, 0);
        if (r < 0)
            return -errno;
        if (pfd.revents & POLLNVAL)
            return -EBADF;
        return r ? pfd.revents : -EAGAIN;
    }
    default: return TRY_NA;
    }
    /* RWF_NOWAIT unsupported by this file type (an old kernel's pipe, a tty) */
    return r == -EOPNOTSUPP ? TRY_NA : r;
}

/* ---- io_uring ------------------------------------------------------------------------------- */

static void uring_prep(struct io_uring_sqe *sqe, const struct io_args *a)
{
    unsigned len = (unsigned)(a->len < MAX_RW ? a->len : MAX_RW);
    switch (a->kind) {
    case K_READ: io_uring_prep_read(sqe, a->fd, a->buf, len, (uint64_t)-1); break;
    case K_WRITE: io_uring_prep_write(sqe, a->fd, a->buf, len, (uint64_t)-1); break;
    case K_PREAD: io_uring_prep_read(sqe, a->fd, a->buf, len, (uint64_t)a->off); break;
    case K_PWRITE: io_uring_prep_write(sqe, a->fd, a->buf, len, (uint64_t)a->off); break;
    case K_READV: io_uring_prep_readv(sqe, a->fd, a->iov, (unsigned)a->iovcnt, (uint64_t)-1); break;
    case K_WRITEV: io_uring_prep_writev(sqe, a->fd, a->iov, (unsigned)a->iovcnt, (uint64_t)-1); break;
    case K_RECV: io_uring_prep_recv(sqe, a->fd, a->buf, len, a->flags); break;
    case K_SEND: io_uring_prep_send(sqe, a->fd, a->buf, len, a->flags | MSG_NOSIGNAL); break;
    case K_ACCEPT: io_uring_prep_accept(sqe, a->fd, a->addr, a->addrlenp, SOCK_CLOEXEC); break;
    case K_CONNECT: io_uring_prep_connect(sqe, a->fd, a->addr, a->addrlen); break;
    case K_OPENAT: io_uring_prep_openat(sqe, a->fd, a->path, a->flags, a->mode); break;
    case K_FSYNC: io_uring_prep_fsync(sqe, a->fd, 0); break;
    case K_POLL: io_uring_prep_poll_add(sqe, a->fd, a->events); break;
    }
}

/* Queue a on the current P's ring and park until its CQE. */
static int64_t uring_wait(struct rilli_io_op *op, const struct io_args *a, int64_t deadline)
{
    struct rilli_p *p = rilli_cur_p();
    struct io_p *io = &p->io;
    /* acq: pairs with the rel store of a ctx canceller: a cancel that came before this op
     * was queued is seen here; one that comes after finds it in the ring (io/ctx.c). */
    int cancel = rill_load_acq(&op->cancel);
    if (cancel)
        return cancel;
    rill_store_rel(&op->ring, io); /* rel: a ctx canceller reads it to pick the path */
    int timed = deadline != RILL_FOREVER;
    struct io_uring_sqe *sqe = rilli_io_sqe(io, timed ? 2 : 1);
    uring_prep(sqe, a);
    /* A fresh tag in the top bits: the kernel cancels a link-timed request by user_data, in
     * deferred task work that can run after the request completed and this goroutine
     * queued its next op at the same stack address. The tag keeps that late cancel from
     * hitting the new op. */
    op->ud = rilli_io_op_ud(io, op);
    io_uring_sqe_set_data64(sqe, op->ud);
    if (timed) {
        sqe->flags |= IOSQE_IO_LINK;
        op->ts.tv_sec = deadline / 1000000000LL;
        op->ts.tv_nsec = deadline % 1000000000LL;
        struct io_uring_sqe *t = rilli_io_sqe(io, 1);
        io_uring_prep_link_timeout(t, &op->ts, IORING_TIMEOUT_ABS);
        io_uring_sqe_set_data64(t, TAG_LTO);
    }
    rilli_io_inflight_add(io, 1);
    rill_faa_acqrel(&rilli_sched.npending, 1); /* acq_rel: not a deadlock while in flight */
    rilli_park(kinds[a->kind].name, NULL);
    int64_t r = op->res; /* the op leaves the mailbox in io_do(), once no ctx can find it */
    if (r == -ECANCELED || r == -EINTR) {
        cancel = rill_load_acq(&op->cancel); /* acq: as above */
        if (cancel)
            r = cancel;
        else if (timed && rill_now() >= deadline)
            r = -ETIMEDOUT;
    }
    return r;
}

/* ---- readiness ---------------------------------------------------------------------------- */

/* Wait until a->fd is ready for events: revents or -errno. deadline 0 only looks: revents,
 * or -EAGAIN when the fd is not ready. */
static int wait_ready(struct rilli_io_op *op, const struct io_args *a, uint32_t events,
                      int64_t deadline)
{
    if (!op->g || deadline == 0) { /* a thread the runtime did not create, or a look */
        for (;;) {
            int ms = deadline == 0 ? 0 : -1;
            if (deadline > 0) {
                int64_t left = deadline - rill_now();
                if (left <= 0)
                    return -ETIMEDOUT;
                ms = (int)((left + 999999) / 1000000);
            }
            struct pollfd pfd = {.fd = a->fd, .events = (short)events};
            int r = poll(&pfd, 1, ms);
            if (r < 0 && errno != EINTR)
                return -errno;
            if (r > 0)
                return pfd.revents & POLLNVAL ? -EBADF : pfd.revents;
            if (r == 0 && deadline == 0)
                return -EAGAIN;
        }
    }
    struct rilli_p *p = rilli_cur_p();
    if (p->io.backend == IO_BACKEND_URING && rilli_io_op_supported(IORING_OP_POLL_ADD)) {
        struct io_args pa = {.kind = K_POLL, .fd = a->fd, .events = events};
        int64_t r = uring_wait(op, &pa, deadline);
        return r >= 0 && (r & POLLNVAL) ? -EBADF : (int)r;
    }
    return rilli_netpoll_wait(op, events, deadline);
}

struct offload {
    const struct io_args *a;
    int64_t res;
};

static void offload_fn(void *arg)
{
    struct offload *o = arg;
    o->res = plain_call(o->a);
}

/* A call that would block a worker: run it on the offload pool (or here, on a thread the
 * runtime did not create). */
static int64_t offload(const struct rilli_io_op *op, const struct io_args *a)
{
    if (!op->g)
        return plain_call(a);
    struct offload o = {a, 0};
    int rc = rill_blocking(offload_fn, &o);
    return rc < 0 ? rc : o.res;
}

/*
 * openat with deadline 0. An open can wait (a FIFO for its other end, some devices), and
 * deadline 0 must not: open with O_NONBLOCK, as io_uring's first attempt does, then give the
 * fd the mode asked for. A FIFO opened for writing with no reader then fails with ENXIO, which
 * is "it would wait": -EAGAIN. One opened for reading succeeds at once, as through io_uring.
 */
static int64_t openat_try(const struct io_args *a)
{
    int fd = openat(a->fd, a->path, a->flags | O_NONBLOCK, a->mode);
    if (fd < 0) {
        int e = errno;
        struct stat st;
        if (e == ENXIO && fstatat(a->fd, a->path, &st, 0) == 0 && S_ISFIFO(st.st_mode))
            return -EAGAIN;
        return -e;
    }
    if (!(a->flags & O_NONBLOCK)) {
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
            int e = errno;
            close(fd);
            return -e;
        }
    }
    return fd;
}

static int64_t connect_ready(struct rilli_io_op *op, const struct io_args *a, int64_t deadline)
{
    int fl = fcntl(a->fd, F_GETFL);
    if (fl < 0)
        return -errno;
    if (!(fl & O_NONBLOCK) && fcntl(a->fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    int64_t r = neg_errno(connect(a->fd, a->addr, a->addrlen));
    if (r == -EINPROGRESS) {
        r = wait_ready(op, a, EPOLLOUT, deadline);
        if (r >= 0) {
            int err = 0;
            socklen_t l = sizeof(err);
            r = getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0 ? -errno : -err;
        }
    }
    if (!(fl & O_NONBLOCK))
        fcntl(a->fd, F_SETFL, fl);
    return r;
}

static int64_t ready_loop(struct rilli_io_op *op, const struct io_args *a, int64_t deadline)
{
    uint32_t ev = kinds[a->kind].ready;
    if (a->kind == K_POLL) {
        int64_t r = try_nonblock(a);
        return r != -EAGAIN || deadline == 0 ? r : wait_ready(op, a, a->events, deadline);
    }
    if (!ev) { /* file-only calls */
        if (deadline == 0 && a->kind == K_OPENAT)
            return openat_try(a);
        /* a regular file's pread, pwrite or fsync never "would block" (EAGAIN) */
        return deadline == 0 || !op->g ? plain_call(a) : offload(op, a);
    }
    if (a->kind == K_CONNECT)
        return connect_ready(op, a, deadline);
    for (;;) {
        int64_t r = try_nonblock(a);
        if (r != -EAGAIN && r != TRY_NA)
            return r;
        if (r == -EAGAIN && deadline == 0) /* tried: it would block */
            return r;
        /* With deadline 0 a call that cannot be tried (an eventfd write, a regular file
         * without RWF_NOWAIT writes) is made when poll(2) says the fd is ready, as a regular
         * file always is: -EAGAIN is for a call that would block, not for one rill could not
         * try. */
        int w = wait_ready(op, a, ev, deadline);
        if (w == -EPERM) /* a regular file: epoll cannot wait on it, and it is "ready" */
            return op->g ? offload(op, a) : plain_call(a);
        if (w < 0)
            return w;
        if (r == TRY_NA)
            return plain_call(a);
    }
}

/* ---- the common entry --------------------------------------------------------------------- */

static int64_t io_do(struct io_args *a, int64_t deadline)
{
    /* already past: a time before now, or any negative one but RILL_FOREVER (rill.h) */
    if (deadline != 0 && deadline != RILL_FOREVER && deadline <= rill_now())
        return -ETIMEDOUT;
    struct rilli_p *p = rilli_cur_p();
    struct rilli_io_op op;
    op.g = p ? p->cur : NULL;
    op.ring = NULL; /* before the op is linked to a ctx: no canceller sees it yet */
    op.res = 0;
    op.state = OP_IDLE;
    op.cancel = 0;
    op.in_mbox = 0;
    op.ctx = NULL;
    op.fd = a->fd;
    op.fnext = op.fprev = NULL;
    if (op.g && op.g->ctx) {
        int err = rilli_ctx_link(&op, &deadline);
        if (err)
            return err;
    }
    int64_t r;
    if (op.g && deadline != 0 && p->io.backend == IO_BACKEND_URING &&
        rilli_io_op_supported(kinds[a->kind].opcode)) {
        if (a->kind == K_SEND && send_fast) {
            r = try_nonblock(a);
            if (r == -EAGAIN)
                r = uring_wait(&op, a, deadline);
        } else {
            r = uring_wait(&op, a, deadline);
        }
    } else {
        r = ready_loop(&op, a, deadline);
    }
    if (op.ctx) {
        /* Unlink first, then leave the ring's mailbox: a canceller that found the op in
         * the ctx before the unlink may have posted it there after we resumed, and the
         * ring's owner would drain that post after our return (a dead op). */
        rilli_ctx_unlink(&op);
        rilli_io_op_retire(&op);
    }
    return r;
}

void rilli_io_ops_init(void)
{
    const char *env = getenv("RILL_IO_FAST");
    send_fast = env && *env ? atoi(env) != 0 : 0;
}

/* ---- public calls --------------------------------------------------------------------------- */

ssize_t rill_read(int fd, void *buf, size_t len, int64_t deadline)
{
    struct io_args a = {.kind = K_READ, .fd = fd, .buf = buf, .len = len};
    return io_do(&a, deadline);
}

ssize_t rill_write(int fd, const void *buf, size_t len, int64_t deadline)
{
    struct io_args a = {.kind = K_WRITE, .fd = fd, .buf = (void *)(uintptr_t)buf, .len = len};
    return io_do(&a, deadline);
}

ssize_t rill_pread(int fd, void *buf, size_t len, off_t off, int64_t deadline)
{
    if (off < 0)
        return -EINVAL;
    struct io_args a = {.kind = K_PREAD, .fd = fd, .buf = buf, .len = len, .off = off};
    return io_do(&a, deadline);
}

ssize_t rill_pwrite(int fd, const void *buf, size_t len, off_t off, int64_t deadline)
{
    if (off < 0)
        return -EINVAL;
    struct io_args a = {
        .kind = K_PWRITE, .fd = fd, .buf = (void *)(uintptr_t)buf, .len = len, .off = off};
    return io_do(&a, deadline);
}

ssize_t rill_readv(int fd, const struct iovec *iov, int iovcnt, int64_t deadline)
{
    if (iovcnt < 0 || iovcnt > IOV_MAX)
        return -EINVAL;
    struct io_args a = {.kind = K_READV, .fd = fd, .iov = iov, .iovcnt = iovcnt};
    return io_do(&a, deadline);
}

ssize_t rill_writev(int fd, const struct iovec *iov, int iovcnt, int64_t deadline)
{
    if (iovcnt < 0 || iovcnt > IOV_MAX)
        return -EINVAL;
    struct io_args a = {.kind = K_WRITEV, .fd = fd, .iov = iov, .iovcnt = iovcnt};
    return io_do(&a, deadline);
}

ssize_t rill_recv(int fd, void *buf, size_t len, int flags, int64_t deadline)
{
    struct io_args a = {.kind = K_RECV, .fd = fd, .buf = buf, .len = len, .flags = flags};
    return io_do(&a, deadline);
}

ssize_t rill_send(int fd, const void *buf, size_t len, int flags, int64_t deadline)
{
    struct io_args a = {
        .kind = K_SEND, .fd = fd, .buf = (void *)(uintptr_t)buf, .len = len, .flags = flags};
    return io_do(&a, deadline);
}

int rill_accept(int fd, struct sockaddr *addr, socklen_t *addrlen, int64_t deadline)
{
    if (addr && !addrlen)
        return -EINVAL;
    struct io_args a = {.kind = K_ACCEPT, .fd = fd, .addr = addr, .addrlenp = addrlen};
    return (int)io_do(&a, deadline);
}

int rill_connect(int fd, const struct sockaddr *addr, socklen_t addrlen, int64_t deadline)
{
    if (!addr)
        return -EINVAL;
    struct io_args a = {
        .kind = K_CONNECT, .fd = fd, .addr = (struct sockaddr *)(uintptr_t)addr,
        .addrlen = addrlen};
    return (int)io_do(&a, deadline);
}

int rill_openat(int dirfd, const char *path, int flags, mode_t mode, int64_t deadline)
{
    if (!path)
        return -EINVAL;
    struct io_args a = {
        .kind = K_OPENAT, .fd = dirfd, .path = path, .flags = flags, .mode = mode};
    return (int)io_do(&a, deadline);
}

int rill_fsync(int fd, int64_t deadline)
{
    struct io_args a = {.kind = K_FSYNC, .fd = fd};
    return (int)io_do(&a, deadline);
}

int rill_poll(int fd, short events, int64_t deadline)
{
    if (fd < 0)
        return -EBADF;
    struct io_args a = {.kind = K_POLL, .fd = fd, .events = (uint16_t)events};
    return (int)io_do(&a, deadline);
}

int rill_close(int fd)
{
    if (fd < 0)
        return -EBADF;
    rilli_io_cancel_fd(fd);
    if (close(fd) < 0 && errno != EINTR) /* EINTR: Linux has closed it anyway */
        return -errno;
    return 0;
}
