/*
 * io_basic.c - the I/O calls: each one's success path, EOF, peer reset, errors passed through
 * (EBADF, ECONNREFUSED, EINVAL), deadlines (0, also on an eventfd and a regular file that
 * rill cannot try without blocking; past; expiring mid-read with the fd usable afterwards),
 * cancellation through rill_ctx, rill_close waking a blocked accept (and a blocked read when
 * a plain thread or an offload fn closes), accept on a listener that is not O_NONBLOCK
 * (deadline 0, two acceptors for one connection), a blocked read on one worker leaving the
 * others running, goroutines resuming on another worker, and calls from a thread the
 * runtime did not create.
 *
 * ctest runs this file on every backend: io_uring (default), RILL_IO=epoll, and
 * RILL_IO=uring-poll (a ring that pretends to lack every data opcode, so the readiness
 * fallback an older kernel takes is covered).
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "helpers.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static int listener(struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    T_CHECK(fd >= 0);
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    T_CHECK(bind(fd, (struct sockaddr *)addr, sizeof *addr) == 0);
    T_CHECK(listen(fd, 4096) == 0);
    socklen_t l = sizeof *addr;
    T_CHECK(getsockname(fd, (struct sockaddr *)addr, &l) == 0);
    return fd;
}

/* A TCP socket connected to addr with rill_connect. */
static int connected_to(const struct sockaddr_in *addr)
{
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    T_CHECK(c >= 0);
    T_OK(rill_connect(c, (const struct sockaddr *)addr, sizeof *addr, rill_now() + RILL_SEC(10)));
    return c;
}

/* A connected TCP pair over loopback, made with rill_connect and rill_accept. */
static void tcp_pair(int *a, int *b)
{
    struct sockaddr_in addr;
    int l = listener(&addr);
    int c = connected_to(&addr);
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    int s = rill_accept(l, (struct sockaddr *)&peer, &pl, rill_now() + RILL_SEC(10));
    T_CHECK(s >= 0);
    T_EQ(pl, (socklen_t)sizeof peer);
    T_EQ(peer.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
    T_CHECK(fcntl(s, F_GETFD) & FD_CLOEXEC); /* accept4(SOCK_CLOEXEC) */
    T_OK(rill_close(l));
    *a = c;
    *b = s;
}

static void recv_all(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = rill_recv(fd, buf + got, n - got, 0, rill_now() + RILL_SEC(10));
        T_GT(r, 0);
        got += (size_t)r;
    }
}

/* ---- success paths ------------------------------------------------------------------------ */

static void echo_peer(void *arg)
{
    int fd = *(int *)arg;
    char buf[4096];
    for (;;) {
        ssize_t r = rill_recv(fd, buf, sizeof buf, 0, RILL_FOREVER);
        if (r <= 0)
            break;
        T_EQ(rill_send(fd, buf, (size_t)r, 0, RILL_FOREVER), r);
    }
    T_OK(rill_close(fd));
}

static void sockets_body(void *unused)
{
    (void)unused;
    int c, s;
    tcp_pair(&c, &s);
    T_OK(rill_go(echo_peer, &s, sizeof s));
    char out[1000], in[1000];
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof out; i++)
            out[i] = (char)(round * 7 + i);
        T_EQ(rill_send(c, out, sizeof out, 0, RILL_FOREVER), (ssize_t)sizeof out);
        recv_all(c, in, sizeof in);
        T_CHECK(memcmp(in, out, sizeof in) == 0);
    }
    /* read/write and readv/writev work on sockets too */
    T_EQ(rill_write(c, "hello", 5, RILL_FOREVER), 5);
    char buf[16] = {0};
    size_t got = 0;
    while (got < 5) {
        ssize_t r = rill_read(c, buf + got, 5 - got, rill_now() + RILL_SEC(10));
        T_GT(r, 0);
        got += (size_t)r;
    }
    T_CHECK(memcmp(buf, "hello", 5) == 0);
    struct iovec wv[2] = {{"ab", 2}, {"cde", 3}};
    T_EQ(rill_writev(c, wv, 2, RILL_FOREVER), 5);
    char x[2], y[3];
    struct iovec rv[2] = {{x, 2}, {y, 3}};
    got = 0;
    while (got < 5) { /* loopback delivers it in one piece in practice; loop anyway */
        ssize_t r = rill_readv(c, rv, 2, rill_now() + RILL_SEC(10));
        T_EQ(r, 5);
        got += (size_t)r;
    }
    T_CHECK(memcmp(x, "ab", 2) == 0 && memcmp(y, "cde", 3) == 0);
    /* poll: writable now; readable after the peer echoes */
    int ev = rill_poll(c, POLLOUT, rill_now() + RILL_SEC(10));
    T_CHECK(ev > 0 && (ev & POLLOUT));
    T_EQ(rill_send(c, "z", 1, 0, RILL_FOREVER), 1);
    ev = rill_poll(c, POLLIN, rill_now() + RILL_SEC(10));
    T_CHECK(ev > 0 && (ev & POLLIN));
    T_EQ(rill_recv(c, buf, 1, 0, RILL_FOREVER), 1);
    /* EOF: the peer closes after ours */
    T_OK(shutdown(c, SHUT_WR));
    T_EQ(rill_recv(c, buf, sizeof buf, 0, rill_now() + RILL_SEC(10)), 0);
    T_OK(rill_close(c));
}

static int sockets_send_recv_read_write_poll_eof(void)
{
    t_run(sockets_body, NULL);
    return T_EXIT_PASS;
}

static void files_body(void *unused)
{
    (void)unused;
    char path[] = "/tmp/rill_io_basic_XXXXXX";
    int tmp = mkstemp(path);
    T_CHECK(tmp >= 0);
    close(tmp);
    int fd = rill_openat(AT_FDCWD, path, O_RDWR | O_TRUNC | O_CLOEXEC, 0600, RILL_FOREVER);
    T_CHECK(fd >= 0);
    T_EQ(rill_pwrite(fd, "0123456789", 10, 0, RILL_FOREVER), 10);
    T_EQ(rill_pwrite(fd, "AB", 2, 4, RILL_FOREVER), 2);
    T_OK(rill_fsync(fd, RILL_FOREVER));
    char buf[16] = {0};
    T_EQ(rill_pread(fd, buf, 10, 0, RILL_FOREVER), 10);
    T_CHECK(memcmp(buf, "0123AB6789", 10) == 0);
    T_EQ(rill_pread(fd, buf, 10, 10, RILL_FOREVER), 0); /* EOF */
    T_EQ(rill_read(fd, buf, 4, RILL_FOREVER), 4);        /* file position starts at 0 */
    T_CHECK(memcmp(buf, "0123", 4) == 0);
    T_EQ(rill_write(fd, "xy", 2, RILL_FOREVER), 2); /* and moves with read/write */
    T_EQ(rill_pread(fd, buf, 10, 0, RILL_FOREVER), 10);
    T_CHECK(memcmp(buf, "0123xy6789", 10) == 0);
    /* deadline 0: a regular file never has to wait, so the call is made, even where the
     * file system refuses RWF_NOWAIT for buffered writes (ext4) */
    T_EQ(rill_write(fd, "wz", 2, 0), 2);
    struct iovec wv = {.iov_base = "q", .iov_len = 1};
    T_EQ(rill_writev(fd, &wv, 1, 0), 1);
    T_EQ(rill_pread(fd, buf, 10, 0, 0), 10);
    T_CHECK(memcmp(buf, "0123xywzq9", 10) == 0);
    T_ERR(rill_pread(fd, buf, 1, -1, RILL_FOREVER), -EINVAL);
    T_OK(rill_close(fd));
    T_ERR(rill_openat(AT_FDCWD, "/nonexistent/rill", O_RDONLY, 0, RILL_FOREVER), -ENOENT);
    unlink(path);
}

static int files_openat_pread_pwrite_fsync_read_write(void)
{
    t_run(files_body, NULL);
    return T_EXIT_PASS;
}

/* ---- errors ---------------------------------------------------------------------------------- */

static void errors_body(void *unused)
{
    (void)unused;
    char buf[8];
    T_ERR(rill_read(-1, buf, 1, RILL_FOREVER), -EBADF);
    T_ERR(rill_recv(12345, buf, 1, 0, RILL_FOREVER), -EBADF);
    T_ERR(rill_close(-1), -EBADF);
    T_ERR(rill_poll(-1, POLLIN, RILL_FOREVER), -EBADF);
    T_ERR(rill_read(0, buf, 1, -5), -ETIMEDOUT); /* negative, not RILL_FOREVER: already past */
    T_ERR(rill_connect(0, NULL, 0, RILL_FOREVER), -EINVAL);
    int fresh = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    T_ERR(rill_accept(fresh, NULL, NULL, RILL_FOREVER), -EINVAL); /* not listening */
    T_ERR(rill_accept(fresh, NULL, NULL, 0), -EINVAL);            /* not -EAGAIN */
    T_OK(rill_close(fresh));
    /* ENOTSOCK passes through, whatever the deadline: accept4 fails at once, where a
     * readiness wait on the pipe would never end */
    int p[2];
    T_OK(pipe2(p, O_CLOEXEC));
    T_ERR(rill_recv(p[0], buf, 1, 0, rill_now() + RILL_SEC(1)), -ENOTSOCK);
    T_ERR(rill_accept(p[0], NULL, NULL, 0), -ENOTSOCK);
    T_ERR(rill_accept(p[0], NULL, NULL, rill_now() + RILL_MS(50)), -ENOTSOCK);
    T_EQ(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0); /* its flags as they were */
    close(p[0]);
    close(p[1]);
    /* ECONNREFUSED: a port nobody listens on (bind one, then close it) */
    struct sockaddr_in addr;
    int l = listener(&addr);
    close(l);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    T_ERR(rill_connect(c, (struct sockaddr *)&addr, sizeof addr, rill_now() + RILL_SEC(10)),
          -ECONNREFUSED);
    T_OK(rill_close(c));
    /* peer reset: the peer closes with unread data and SO_LINGER 0, so it sends RST */
    int a, b;
    tcp_pair(&a, &b);
    struct linger lg = {1, 0};
    T_OK(setsockopt(b, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
    T_OK(rill_close(b));
    ssize_t r = rill_recv(a, buf, sizeof buf, 0, rill_now() + RILL_SEC(10));
    T_ERR(r, -ECONNRESET);
    T_OK(rill_close(a));
}

static int errors_ebadf_econnrefused_einval_reset(void)
{
    t_run(errors_body, NULL);
    return T_EXIT_PASS;
}

/* ---- deadlines ------------------------------------------------------------------------------- */

static void deadline_body(void *unused)
{
    (void)unused;
    int c, s;
    tcp_pair(&c, &s);
    char buf[64];
    /* deadline 0: do not block */
    T_ERR(rill_recv(c, buf, sizeof buf, 0, 0), -EAGAIN);
    T_ERR(rill_read(c, buf, sizeof buf, 0), -EAGAIN);
    T_ERR(rill_poll(c, POLLIN, 0), -EAGAIN);
    int ev = rill_poll(c, POLLOUT, 0);
    T_CHECK(ev > 0 && (ev & POLLOUT));
    /* a deadline already past */
    T_ERR(rill_recv(c, buf, sizeof buf, 0, rill_now() - 1), -ETIMEDOUT);
    T_ERR(rill_recv(c, buf, sizeof buf, 0, -2), -ETIMEDOUT); /* negative, not RILL_FOREVER */
    /* expiring mid-read, then the fd still works and no byte went missing */
    int64_t t0 = rill_now();
    T_ERR(rill_recv(c, buf, sizeof buf, 0, t0 + RILL_MS(50)), -ETIMEDOUT);
    int64_t took = rill_now() - t0;
    T_GE(took, RILL_MS(50));
    T_LT(took, RILL_MS(50) + T_SLACK);
    T_ERR(rill_read(c, buf, sizeof buf, rill_now() + RILL_MS(20)), -ETIMEDOUT);
    T_ERR(rill_poll(c, POLLIN, rill_now() + RILL_MS(20)), -ETIMEDOUT);
    T_EQ(rill_send(s, "after", 5, 0, RILL_FOREVER), 5);
    recv_all(c, buf, 5);
    T_CHECK(memcmp(buf, "after", 5) == 0);
    T_EQ(rill_recv(c, buf, sizeof buf, 0, 0), -EAGAIN); /* nothing more: nothing was lost */
    /* deadline 0 on an eventfd, whose write cannot be tried without blocking (no
     * RWF_NOWAIT): done while the counter has room, -EAGAIN once it is full */
    int e = eventfd(0, EFD_CLOEXEC);
    T_CHECK(e >= 0);
    uint64_t v = 1;
    T_EQ(rill_write(e, &v, sizeof v, 0), 8);
    T_EQ(rill_read(e, &v, sizeof v, 0), 8);
    T_EQ(v, 1);
    T_ERR(rill_read(e, &v, sizeof v, 0), -EAGAIN);
    v = UINT64_MAX - 1; /* the most the counter holds */
    T_EQ(rill_write(e, &v, sizeof v, 0), 8);
    v = 1;
    T_ERR(rill_write(e, &v, sizeof v, 0), -EAGAIN);
    T_OK(rill_close(e));
    /* accept with a deadline */
    struct sockaddr_in addr;
    int l = listener(&addr);
    T_ERR(rill_accept(l, NULL, NULL, rill_now() + RILL_MS(20)), -ETIMEDOUT);
    T_OK(rill_close(l));
    T_OK(rill_close(c));
    T_OK(rill_close(s));
}

static int deadlines_zero_past_and_mid_read(void)
{
    t_run(deadline_body, NULL);
    return T_EXIT_PASS;
}

/* Many short deadlines over one buffer each: once a timed-out call has returned, the kernel
 * never writes into its buffer (ASan would catch a write into a dead goroutine's stack). */
struct late_writer {
    int fd;
    struct rill_waitgroup *wg;
};

static void late_writer(void *arg)
{
    struct late_writer *w = arg;
    int fd = w->fd;
    char buf[256];
    memset(buf, 'x', sizeof buf);
    for (int i = 0; i < 300; i++) {
        rill_sleep(RILL_US(100) * (i % 7));
        if (rill_send(fd, buf, 1 + (size_t)(i % 200), 0, RILL_FOREVER) < 0)
            break;
    }
    rill_wg_done(w->wg);
}

struct timed_reader {
    int fd;
    struct rill_waitgroup *wg;
};

static void timed_reader(void *arg)
{
    struct timed_reader *t = arg;
    for (int i = 0; i < 200; i++) {
        char buf[64]; /* on this goroutine's stack, reused by the next call */
        ssize_t r = rill_recv(t->fd, buf, sizeof buf, 0, rill_now() + RILL_US(50 + i % 300));
        T_CHECKF(r > 0 || r == -ETIMEDOUT, "call %d returned %zd", i, r);
    }
    rill_wg_done(t->wg);
}

static void no_late_cqe_body(void *unused)
{
    (void)unused;
    int c, s;
    tcp_pair(&c, &s);
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    rill_wg_add(&wg, 2);
    struct late_writer w = {s, &wg};
    T_OK(rill_go(late_writer, &w, sizeof w));
    struct timed_reader t = {c, &wg};
    T_OK(rill_go(timed_reader, &t, sizeof t));
    rill_wg_wait(&wg);
    T_OK(rill_close(c));
    T_OK(rill_close(s));
}

static int timed_out_reads_leave_no_late_writes(void)
{
    t_run(no_late_cqe_body, NULL);
    return T_EXIT_PASS;
}

/* ---- cancellation ------------------------------------------------------------------------------ */

struct blocked {
    int fd;
    int res;
    struct rill_ctx *ctx;
    struct rill_waitgroup *wg;
    _Atomic int started;
};

static void ctx_reader(void *arg)
{
    struct blocked *b = arg;
    rill_ctx_bind(b->ctx);
    char buf[8];
    atomic_store(&b->started, 1);
    b->res = (int)rill_recv(b->fd, buf, sizeof buf, 0, RILL_FOREVER);
    rill_ctx_bind(NULL);
    rill_wg_done(b->wg);
}

static void ctx_body(void *unused)
{
    (void)unused;
    int c, s;
    tcp_pair(&c, &s);
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    /* cancel wakes a blocked read with -ECANCELED; done is closed */
    struct rill_ctx *root = rill_ctx_new(NULL, RILL_FOREVER);
    struct rill_ctx *child = rill_ctx_new(root, RILL_FOREVER);
    T_NOTNULL(child);
    T_OK(rill_ctx_err(child));
    struct blocked b = {.fd = c, .ctx = child, .wg = &wg};
    rill_wg_add(&wg, 1);
    T_OK(rill_go(ctx_reader, &b, 0));
    T_WAIT_UNTIL(atomic_load(&b.started), RILL_SEC(10));
    rill_sleep(RILL_MS(20)); /* let it block in the kernel */
    rill_ctx_cancel(root);   /* through the parent */
    rill_wg_wait(&wg);
    T_ERR(b.res, -ECANCELED);
    T_ERR(rill_ctx_err(child), -ECANCELED);
    T_ERR(rill_chan_recv(rill_ctx_done(child), NULL), -EPIPE); /* closed */
    T_ERR(rill_ctx_free(root), -EBUSY);                        /* child first */
    T_OK(rill_ctx_free(child));
    T_OK(rill_ctx_free(root));
    /* a bound but already-done ctx fails at once; the fd is untouched */
    struct rill_ctx *done = rill_ctx_new(NULL, RILL_FOREVER);
    rill_ctx_cancel(done);
    struct rill_ctx *old = rill_ctx_bind(done);
    T_CHECK(old == NULL);
    char buf[8];
    T_ERR(rill_recv(c, buf, sizeof buf, 0, RILL_FOREVER), -ECANCELED);
    rill_ctx_bind(NULL);
    T_OK(rill_ctx_free(done));
    /* a ctx deadline: -ETIMEDOUT, and its done channel closes (select) */
    struct rill_ctx *tmo = rill_ctx_new(NULL, rill_now() + RILL_MS(30));
    b = (struct blocked){.fd = c, .ctx = tmo, .wg = &wg};
    rill_wg_add(&wg, 1);
    T_OK(rill_go(ctx_reader, &b, 0));
    struct rill_case k[1] = {{rill_ctx_done(tmo), RILL_RECV, NULL, 0}};
    T_EQ(rill_select(k, 1, rill_now() + RILL_SEC(10)), 0);
    T_ERR(k[0].result, -EPIPE);
    rill_wg_wait(&wg);
    T_ERR(b.res, -ETIMEDOUT);
    T_ERR(rill_ctx_err(tmo), -ETIMEDOUT);
    T_OK(rill_ctx_free(tmo));
    /* the fd still works after all that */
    T_EQ(rill_send(s, "ok", 2, 0, RILL_FOREVER), 2);
    recv_all(c, buf, 2);
    T_CHECK(memcmp(buf, "ok", 2) == 0);
    T_OK(rill_close(c));
    T_OK(rill_close(s));
}

static int ctx_cancel_and_deadline_wake_blocked_io(void)
{
    t_run(ctx_body, NULL);
    return T_EXIT_PASS;
}

struct acceptor {
    int fd;
    int res;
    struct rill_waitgroup *wg;
    _Atomic int started;
};

static void accept_loop(void *arg)
{
    struct acceptor *a = arg;
    atomic_store(&a->started, 1);
    a->res = rill_accept(a->fd, NULL, NULL, RILL_FOREVER);
    rill_wg_done(a->wg);
}

static void close_body(void *unused)
{
    (void)unused;
    struct sockaddr_in addr;
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    struct acceptor a = {.fd = listener(&addr), .wg = &wg};
    rill_wg_add(&wg, 1);
    T_OK(rill_go(accept_loop, &a, 0));
    T_WAIT_UNTIL(atomic_load(&a.started), RILL_SEC(10));
    rill_sleep(RILL_MS(20));
    T_OK(rill_close(a.fd)); /* Go: closing the listener ends Accept with an error */
    rill_wg_wait(&wg);
    T_ERR(a.res, -ECANCELED);
}

static int close_wakes_blocked_accept(void)
{
    t_run(close_body, NULL);
    return T_EXIT_PASS;
}

/* rill_close from a thread without a G: a plain thread, then an offload fn. The io_uring
 * backends once woke nobody from there, and the read ran into its own deadline. */
struct thread_closer {
    int fd;
    int res;
    struct rill_chan *done;
};

static void close_after_20ms(void *arg)
{
    struct thread_closer *c = arg;
    t_thread_sleep(RILL_MS(20)); /* the reader is blocked by then */
    c->res = rill_close(c->fd);
}

static void *closer_thread(void *arg)
{
    struct thread_closer *c = arg;
    close_after_20ms(c);
    rill_chan_send(c->done, NULL);
    return NULL;
}

static void blocking_closer(void *arg)
{
    struct thread_closer *c = arg;
    rill_blocking(close_after_20ms, c);
    rill_chan_send(c->done, NULL);
}

static void thread_close_body(void *unused)
{
    (void)unused;
    for (int offload = 0; offload < 2; offload++) {
        int p[2];
        T_OK(pipe2(p, O_CLOEXEC));
        struct thread_closer c = {.fd = p[0], .res = 1, .done = rill_chan_make(0, 1)};
        T_NOTNULL(c.done);
        pthread_t th;
        if (offload)
            T_OK(rill_go(blocking_closer, &c, 0));
        else
            T_OK(pthread_create(&th, NULL, closer_thread, &c));
        char b;
        int64_t t0 = rill_now();
        T_ERR(rill_read(p[0], &b, 1, t0 + RILL_SEC(5)), -ECANCELED);
        T_LT(rill_now() - t0, RILL_MS(20) + T_SLACK);
        T_OK(rill_chan_recv(c.done, NULL)); /* never pthread_join a working thread here */
        if (!offload)
            T_OK(pthread_join(th, NULL));
        T_OK(c.res);
        rill_chan_free(c.done);
        close(p[1]);
    }
}

static int close_from_a_thread_wakes_blocked_read(void)
{
    t_run(thread_close_body, NULL);
    return T_EXIT_PASS;
}

/* ---- a listener that is not O_NONBLOCK ------------------------------------------------------ */

struct timed_acceptor {
    int fd;
    int res;
    int64_t took;
    struct rill_waitgroup *wg;
};

static void timed_accept(void *arg)
{
    struct timed_acceptor *a = arg;
    int64_t t0 = rill_now();
    a->res = rill_accept(a->fd, NULL, NULL, t0 + RILL_MS(200));
    a->took = rill_now() - t0;
    rill_wg_done(a->wg);
}

struct rescuer {
    struct sockaddr_in addr;
    _Atomic int done;
};

/* Should an acceptor hang in a blocking accept4 on its worker, connect once more after 5 s,
 * so that the case fails on its checks instead of hanging. */
static void *rescue(void *arg)
{
    struct rescuer *r = arg;
    int64_t end = t_now() + RILL_SEC(5);
    while (!atomic_load(&r->done) && t_now() < end)
        t_thread_sleep(RILL_MS(5));
    if (!atomic_load(&r->done)) {
        int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        connect(c, (struct sockaddr *)&r->addr, sizeof r->addr);
        close(c);
    }
    return NULL;
}

static void blocking_listener_body(void *unused)
{
    (void)unused;
    struct rescuer rs = {.done = 0};
    int l = listener(&rs.addr); /* not O_NONBLOCK */
    /* deadline 0: -EAGAIN with nothing pending, a pending connection at once */
    T_ERR(rill_accept(l, NULL, NULL, 0), -EAGAIN);
    int c1 = connected_to(&rs.addr);
    int s1 = rill_accept(l, NULL, NULL, 0);
    T_GE(s1, 0);
    /* two acceptors, one connection: the loser waits on, parked, until its deadline */
    pthread_t th;
    T_OK(pthread_create(&th, NULL, rescue, &rs));
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    struct timed_acceptor a[2] = {{.fd = l, .wg = &wg}, {.fd = l, .wg = &wg}};
    rill_wg_add(&wg, 2);
    T_OK(rill_go(timed_accept, &a[0], 0));
    T_OK(rill_go(timed_accept, &a[1], 0));
    rill_sleep(RILL_MS(20));
    int c2 = connected_to(&rs.addr);
    rill_wg_wait(&wg);
    atomic_store(&rs.done, 1);
    T_OK(pthread_join(th, NULL)); /* it sleeps 5 ms at a time */
    int won = a[0].res >= 0 ? 0 : 1;
    T_GE(a[won].res, 0);
    T_ERR(a[!won].res, -ETIMEDOUT);
    T_GE(a[!won].took, RILL_MS(200));
    T_LT(a[!won].took, RILL_MS(200) + T_SLACK);
    T_EQ(fcntl(l, F_GETFL) & O_NONBLOCK, 0); /* its flags as they were */
    T_OK(rill_close(a[won].res));
    T_OK(rill_close(s1));
    T_OK(rill_close(c1));
    T_OK(rill_close(c2));
    T_OK(rill_close(l));
}

static int blocking_listener_accept_never_blocks_the_worker(void)
{
    t_run(blocking_listener_body, NULL);
    return T_EXIT_PASS;
}

/* ---- scheduling ---------------------------------------------------------------------------- */

struct spinner {
    _Atomic long *count;
    _Atomic int *stop;
};

static void spinner(void *arg)
{
    struct spinner *s = arg;
    while (!atomic_load(s->stop)) {
        atomic_fetch_add(s->count, 1);
        rill_yield();
    }
}

static void blocked_read_body(void *unused)
{
    (void)unused;
    int p[2];
    T_OK(pipe2(p, O_CLOEXEC));
    _Atomic long count = 0;
    _Atomic int stop = 0;
    struct spinner sp = {&count, &stop};
    T_OK(rill_go(spinner, &sp, sizeof sp));
    char buf[4];
    int64_t t0 = rill_now();
    /* blocks in the kernel for 200 ms: the spinner must run meanwhile, even on 1 worker */
    T_ERR(rill_read(p[0], buf, sizeof buf, t0 + RILL_MS(200)), -ETIMEDOUT);
    long n = atomic_load(&count);
    T_GT(n, 100);
    atomic_store(&stop, 1);
    T_EQ(write(p[1], "abc", 3), 3);
    T_EQ(rill_read(p[0], buf, sizeof buf, RILL_FOREVER), 3);
    close(p[0]);
    close(p[1]);
}

static int blocked_read_leaves_others_running(void)
{
    t_run(blocked_read_body, NULL);
    return T_EXIT_PASS;
}

/* Goroutines bounce through I/O and compute for a random 0-200 us (without yielding) after
 * each message, so the two workers' queues drain unevenly and idle workers steal: goroutines
 * resume on another thread than the one whose ring carried their I/O. Every result must
 * arrive intact. Rounds go on until some goroutine moved (at two workers) or 20 s pass. */
struct bouncer {
    int fd;
    struct rill_waitgroup *wg;
    _Atomic long *moved;
};

static void bouncer(void *arg)
{
    struct bouncer *b = arg;
    char buf[32];
    for (int i = 0; i < 100; i++) {
        pid_t before = gettid(); /* not pthread_self(): glibc declares it const, so the
                                    compiler may reuse the first call after the switch */
        ssize_t r = rill_recv(b->fd, buf, sizeof buf, 0, rill_now() + RILL_SEC(10));
        T_EQ(r, 1);
        T_EQ(buf[0], (char)i);
        if (before != gettid())
            atomic_fetch_add(b->moved, 1);
        int64_t until = t_now() + RILL_US((i * 37 + b->fd * 11) % 200);
        while (t_now() < until) /* compute, holding the worker */
            ;
        T_EQ(rill_send(b->fd, buf, 1, 0, RILL_FOREVER), 1);
    }
    rill_wg_done(b->wg);
}

static void pinger(void *arg)
{
    struct bouncer *b = arg;
    for (int i = 0; i < 100; i++) {
        char c = (char)i;
        T_EQ(rill_send(b->fd, &c, 1, 0, RILL_FOREVER), 1);
        T_EQ(rill_recv(b->fd, &c, 1, 0, rill_now() + RILL_SEC(10)), 1);
        T_EQ(c, (char)i);
    }
    rill_wg_done(b->wg);
}

static void migrate_body(void *unused)
{
    (void)unused;
    _Atomic long moved = 0;
    int64_t end = t_now() + RILL_SEC(20);
    int rounds = 0;
    do {
        struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
        int fds[8][2];
        for (int i = 0; i < 8; i++) {
            tcp_pair(&fds[i][0], &fds[i][1]);
            struct bouncer b = {fds[i][0], &wg, &moved};
            struct bouncer q = {fds[i][1], &wg, &moved};
            rill_wg_add(&wg, 2);
            T_OK(rill_go(bouncer, &b, sizeof b));
            T_OK(rill_go(pinger, &q, sizeof q));
        }
        rill_wg_wait(&wg);
        for (int i = 0; i < 8; i++) {
            T_OK(rill_close(fds[i][0]));
            T_OK(rill_close(fds[i][1]));
        }
        rounds++;
    } while (t_workers() > 1 && atomic_load(&moved) == 0 && t_now() < end);
    if (t_workers() > 1)
        T_CHECKF(atomic_load(&moved) > 0, "no goroutine resumed elsewhere in %d rounds", rounds);
}

static int io_results_follow_migrating_goroutines(void)
{
    t_run(migrate_body, NULL);
    return T_EXIT_PASS;
}

/* ---- threads the runtime did not create ---------------------------------------------------- */

static void *foreign_io(void *arg)
{
    int *p = arg;
    char buf[4];
    /* a plain thread: blocks itself, same results */
    ssize_t r = rill_read(p[0], buf, sizeof buf, rill_now() + RILL_MS(20));
    if (r != -ETIMEDOUT)
        return (void *)1;
    if (rill_write(p[1], "hi", 2, RILL_FOREVER) != 2)
        return (void *)2;
    if (rill_read(p[0], buf, sizeof buf, RILL_FOREVER) != 2)
        return (void *)3;
    if (rill_read(p[0], buf, sizeof buf, 0) != -EAGAIN)
        return (void *)4;
    return NULL;
}

static void foreign_body(void *unused)
{
    (void)unused;
    int p[2];
    T_OK(pipe2(p, O_CLOEXEC));
    pthread_t t;
    T_OK(pthread_create(&t, NULL, foreign_io, p));
    void *rv;
    T_OK(pthread_join(t, &rv));
    T_EQ((long)(intptr_t)rv, 0L);
    close(p[0]);
    close(p[1]);
}

static int foreign_thread_io_blocks_the_thread(void)
{
    t_run(foreign_body, NULL);
    return T_EXIT_PASS;
}

/* deadline 0 on an open that would wait (a FIFO without its other end) must not block the
 * worker: a write open with no reader is -EAGAIN; a read open returns at once (as io_uring's
 * own openat does), in the blocking mode asked for. Both backends (the ctest matrix). */
static void fifo_open_body(void *unused)
{
    (void)unused;
    char dir[] = "/tmp/rill_fifo_XXXXXX";
    T_NOTNULL(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/f", dir);
    T_OK(mkfifo(path, 0600));
    int64_t t0 = t_now();
    T_ERR(rill_openat(AT_FDCWD, path, O_WRONLY | O_CLOEXEC, 0, 0), -EAGAIN);
    int r = rill_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0, 0);
    T_GE(r, 0);
    T_LT(t_now() - t0, RILL_MS(500)); /* the worker never waited for the other end */
    T_EQ(fcntl(r, F_GETFL) & O_NONBLOCK, 0);
    int w = rill_openat(AT_FDCWD, path, O_WRONLY | O_CLOEXEC, 0, 0); /* a reader now */
    T_GE(w, 0);
    T_EQ(rill_write(w, "x", 1, RILL_FOREVER), 1);
    char c = 0;
    T_EQ(rill_read(r, &c, 1, RILL_FOREVER), 1);
    T_EQ(c, 'x');
    close(w);
    close(r);
    unlink(path);
    rmdir(dir);
}

static int openat_deadline_zero_never_waits(void)
{
    t_run(fifo_open_body, NULL);
    return T_EXIT_PASS;
}

T_MAIN(T_CASE(sockets_send_recv_read_write_poll_eof),
       T_CASE(files_openat_pread_pwrite_fsync_read_write),
       T_CASE(openat_deadline_zero_never_waits),
       T_CASE(errors_ebadf_econnrefused_einval_reset),
       T_CASE(deadlines_zero_past_and_mid_read),
       T_CASE(timed_out_reads_leave_no_late_writes),
       T_CASE(ctx_cancel_and_deadline_wake_blocked_io),
       T_CASE(close_wakes_blocked_accept),
       T_CASE(close_from_a_thread_wakes_blocked_read),
       T_CASE(blocking_listener_accept_never_blocks_the_worker),
       T_CASE(blocked_read_leaves_others_running),
       T_CASE(io_results_follow_migrating_goroutines),
       T_CASE(foreign_thread_io_blocks_the_thread))
