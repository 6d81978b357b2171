/*
 * chan_basic.c - channel semantics: rendezvous, FIFO, len/cap, try_*, close (drain, zero value,
 * waking blocked receivers and senders), error codes, signal (elem_size 0) and large elements.
 */
#include "helpers.h"

#include <sys/resource.h>

/* Shared by many cases: a waitgroup pointer plus a channel, copied into each goroutine. */
struct gw {
    struct rill_chan *c;
    struct rill_waitgroup *wg;
    int id;
};

/* ---- unbuffered: a send returns only once a receiver has the value ------------------------ */

static _Atomic int64_t recv_started_at; /* t_now() just before the receiver called recv */
static _Atomic int recv_value;

static void late_receiver(void *arg)
{
    struct gw *g = arg;
    rill_sleep(RILL_MS(60));
    int v = 0;
    atomic_store(&recv_started_at, t_now());
    T_OK(rill_chan_recv(g->c, &v));
    atomic_store(&recv_value, v);
    rill_wg_done(g->wg);
}

static void rendezvous_body(void *unused)
{
    (void)unused;
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    struct gw g = {rill_chan_make(sizeof(int), 0), &wg, 0};
    T_NOTNULL(g.c);
    T_EQ(rill_chan_cap(g.c), 0);
    T_OK(rill_wg_add(&wg, 1));
    T_OK(rill_go(late_receiver, &g, sizeof g));
    int v = 4242;
    T_OK(rill_chan_send(g.c, &v));
    int64_t sent_at = t_now();
    int64_t started = atomic_load(&recv_started_at);
    T_CHECKF(started != 0 && sent_at >= started,
             "send returned %lld ns before the receiver arrived",
             (long long)(started ? started - sent_at : -1));
    T_OK(rill_wg_wait(&wg));
    T_EQ(atomic_load(&recv_value), 4242);
    rill_chan_free(g.c);
}

static int unbuffered_send_waits_for_receiver(void)
{
    t_run(rendezvous_body, NULL);
    return T_EXIT_PASS;
}

/* And the mirror: a receive waits for a sender. */
static void late_sender(void *arg)
{
    struct gw *g = arg;
    rill_sleep(RILL_MS(60));
    int v = 77;
    T_OK(rill_chan_send(g->c, &v));
    rill_wg_done(g->wg);
}

static void recv_waits_body(void *unused)
{
    (void)unused;
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    struct gw g = {rill_chan_make(sizeof(int), 0), &wg, 0};
    T_NOTNULL(g.c);
    T_OK(rill_wg_add(&wg, 1));
    int64_t t0 = t_now();
    T_OK(rill_go(late_sender, &g, sizeof g));
    int v = 0;
    T_OK(rill_chan_recv(g.c, &v));
    T_EQ(v, 77);
    T_GE(t_now() - t0, RILL_MS(60));
    T_OK(rill_wg_wait(&wg));
    rill_chan_free(g.c);
}

static int unbuffered_recv_waits_for_sender(void)
{
    t_run(recv_waits_body, NULL);
    return T_EXIT_PASS;
}

/* try_send on unbuffered: -EAGAIN with nobody waiting, 0 once a receiver is parked on it. */
static void parked_receiver(void *arg)
{
    struct gw *g = arg;
    int v = 0;
    T_OK(rill_chan_recv(g->c, &v));
    T_EQ(v, 99);
    rill_wg_done(g->wg);
}

static void parked_sender(void *arg)
{
    struct gw *g = arg;
    int v = 55;
    T_OK(rill_chan_send(g->c, &v));
    rill_wg_done(g->wg);
}

static void try_unbuffered_body(void *unused)
{
    (void)unused;
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    struct gw g = {rill_chan_make(sizeof(int), 0), &wg, 0};
    T_NOTNULL(g.c);
    int v = 99;
    T_ERR(rill_chan_try_send(g.c, &v), -EAGAIN);
    T_ERR(rill_chan_try_recv(g.c, &v), -EAGAIN);
    T_EQ(v, 99); /* a failed try_recv leaves *elem alone */

    T_OK(rill_wg_add(&wg, 1));
    T_OK(rill_go(parked_receiver, &g, sizeof g));
    int rc;
    int64_t end = t_now() + RILL_SEC(10);
    while ((rc = rill_chan_try_send(g.c, &v)) == -EAGAIN && t_now() < end)
        rill_sleep(RILL_US(200));
    T_OK(rc);
    T_OK(rill_wg_wait(&wg));

    T_OK(rill_wg_add(&wg, 1));
    T_OK(rill_go(parked_sender, &g, sizeof g));
    v = 0;
    end = t_now() + RILL_SEC(10);
    while ((rc = rill_chan_try_recv(g.c, &v)) == -EAGAIN && t_now() < end)
        rill_sleep(RILL_US(200));
    T_OK(rc);
    T_EQ(v, 55);
    T_OK(rill_wg_wait(&wg));
    rill_chan_free(g.c);
}

static int unbuffered_try_ops_pair_with_parked_peer(void)
{
    t_run(try_unbuffered_body, NULL);
    return T_EXIT_PASS;
}

/* Many values through an unbuffered channel keep their order (one sender, one receiver). */
static void seq_sender(void *arg)
{
    struct gw *g = arg;
    for (int i = 0; i < 20000; i++)
        T_OK(rill_chan_send(g->c, &i));
    T_OK(rill_chan_close(g->c));
}

static void unbuffered_order_body(void *unused)
{
    (void)unused;
    struct gw g = {rill_chan_make(sizeof(int), 0), NULL, 0};
    T_NOTNULL(g.c);
    T_OK(rill_go(seq_sender, &g, sizeof g));
    int v, want = 0, rc;
    while ((rc = rill_chan_recv(g.c, &v)) == 0) {
        T_EQ(v, want);
        want++;
    }
    T_ERR(rc, -EPIPE);
    T_EQ(want, 20000);
    rill_chan_free(g.c);
}

static int unbuffered_one_to_one_keeps_order(void)
{
    t_run(unbuffered_order_body, NULL);
    return T_EXIT_PASS;
}

/* ---- buffered FIFO, len/cap, try_* ---------------------------------------------------------- */

static void fifo_body(void *unused)
{
    (void)unused;
    struct rill_chan *c = rill_chan_make(sizeof(uint64_t), 8);
    T_NOTNULL(c);
    T_EQ(rill_chan_cap(c), 8);
    T_EQ(rill_chan_len(c), 0);
    for (uint64_t i = 0; i < 8; i++) {
        uint64_t v = 1000 + i;
        T_OK(rill_chan_send(c, &v)); /* must not block: there is room */
        T_EQ(rill_chan_len(c), i + 1);
    }
    uint64_t extra = 1;
    T_ERR(rill_chan_try_send(c, &extra), -EAGAIN);
    T_EQ(rill_chan_len(c), 8);
    for (uint64_t i = 0; i < 8; i++) {
        uint64_t v = 0;
        T_OK(rill_chan_recv(c, &v));
        T_EQ(v, 1000 + i);
        T_EQ(rill_chan_len(c), 7 - i);
    }
    uint64_t v = 42;
    T_ERR(rill_chan_try_recv(c, &v), -EAGAIN);
    T_EQ(v, 42);

    /* Wrap the ring many times with a small capacity, mixing try and blocking calls. */
    struct rill_chan *s = rill_chan_make(sizeof(uint64_t), 3);
    T_NOTNULL(s);
    uint64_t next_in = 0, next_out = 0;
    for (int round = 0; round < 1000; round++) {
        int k = 1 + round % 3;
        for (int j = 0; j < k; j++, next_in++)
            T_OK(j % 2 ? rill_chan_send(s, &next_in) : rill_chan_try_send(s, &next_in));
        for (int j = 0; j < k; j++, next_out++) {
            uint64_t got = ~0ull;
            T_OK(j % 2 ? rill_chan_try_recv(s, &got) : rill_chan_recv(s, &got));
            T_EQ(got, next_out);
        }
        T_EQ(rill_chan_len(s), 0);
    }
    rill_chan_free(s);
    rill_chan_free(c);
}

static int buffered_is_fifo_with_len_and_cap(void)
{
    t_run(fifo_body, NULL);
    return T_EXIT_PASS;
}

/* A sender blocked on a full buffer is released by a receive, and order is kept. */
static void fill_sender(void *arg)
{
    struct gw *g = arg;
    for (int i = 0; i < 1000; i++)
        T_OK(rill_chan_send(g->c, &i));
    rill_wg_done(g->wg);
}

static void full_buffer_body(void *unused)
{
    (void)unused;
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    struct gw g = {rill_chan_make(sizeof(int), 2), &wg, 0};
    T_NOTNULL(g.c);
    T_OK(rill_wg_add(&wg, 1));
    T_OK(rill_go(fill_sender, &g, sizeof g));
    rill_sleep(RILL_MS(20)); /* let it fill the buffer and block */
    T_LE(rill_chan_len(g.c), 2);
    for (int i = 0; i < 1000; i++) {
        int v = -1;
        T_OK(rill_chan_recv(g.c, &v));
        T_EQ(v, i);
    }
    T_OK(rill_wg_wait(&wg));
    rill_chan_free(g.c);
}

static int buffered_full_blocks_sender_until_recv(void)
{
    t_run(full_buffer_body, NULL);
    return T_EXIT_PASS;
}

static void len_cap_body(void *unused)
{
    (void)unused;
    T_EQ(rill_chan_len(NULL), 0);
    T_EQ(rill_chan_cap(NULL), 0);
    struct rill_chan *c = rill_chan_make(4, 1000);
    T_NOTNULL(c);
    T_EQ(rill_chan_cap(c), 1000);
    for (int i = 0; i < 537; i++)
        T_OK(rill_chan_try_send(c, &i));
    T_EQ(rill_chan_len(c), 537);
    T_OK(rill_chan_close(c));
    T_EQ(rill_chan_len(c), 537); /* closing keeps the buffered values */
    T_EQ(rill_chan_cap(c), 1000);
    rill_chan_free(c);
}

static int len_and_cap_report_buffer(void)
{
    t_run(len_cap_body, NULL);
    return T_EXIT_PASS;
}

/* ---- close ---------------------------------------------------------------------------------- */

static void close_drain_body(void *unused)
{
    (void)unused;
    struct rill_chan *c = rill_chan_make(sizeof(int64_t), 4);
    T_NOTNULL(c);
    for (int64_t i = 1; i <= 3; i++)
        T_OK(rill_chan_send(c, &i));
    T_OK(rill_chan_close(c));
    int64_t v = 0;
    T_ERR(rill_chan_send(c, &v), -EPIPE);
    T_ERR(rill_chan_try_send(c, &v), -EPIPE);
    for (int64_t i = 1; i <= 3; i++) {
        T_OK(i == 2 ? rill_chan_try_recv(c, &v) : rill_chan_recv(c, &v));
        T_EQ(v, i);
    }
    for (int k = 0; k < 3; k++) {
        memset(&v, 0xAB, sizeof v);
        T_ERR(rill_chan_recv(c, &v), -EPIPE);
        T_EQ(v, 0); /* zero value, like Go's v, ok := <-c */
        memset(&v, 0xAB, sizeof v);
        T_ERR(rill_chan_try_recv(c, &v), -EPIPE); /* closed wins over "would block" */
        T_EQ(v, 0);
    }
    T_ERR(rill_chan_recv(c, NULL), -EPIPE);
    rill_chan_free(c);

    /* Unbuffered: closed at once. */
    struct rill_chan *u = rill_chan_make(sizeof(int64_t), 0);
    T_NOTNULL(u);
    T_OK(rill_chan_close(u));
    memset(&v, 0xCD, sizeof v);
    T_ERR(rill_chan_recv(u, &v), -EPIPE);
    T_EQ(v, 0);
    T_ERR(rill_chan_send(u, &v), -EPIPE);
    rill_chan_free(u);
}

static int close_drains_buffer_then_epipe_with_zero_value(void)
{
    t_run(close_drain_body, NULL);
    return T_EXIT_PASS;
}

#define WAITERS 16
static _Atomic int epipe_count;

static void blocked_receiver(void *arg)
{
    struct gw *g = arg;
    int64_t v;
    memset(&v, 0x5A, sizeof v);
    int rc = rill_chan_recv(g->c, &v);
    T_ERR(rc, -EPIPE);
    T_EQ(v, 0);
    atomic_fetch_add(&epipe_count, 1);
    rill_wg_done(g->wg);
}

static void blocked_sender(void *arg)
{
    struct gw *g = arg;
    int64_t v = 1000 + g->id;
    /* The buffer is full and nobody receives before close: every send must fail. */
    T_ERR(rill_chan_send(g->c, &v), -EPIPE);
    atomic_fetch_add(&epipe_count, 1);
    rill_wg_done(g->wg);
}

static void close_wakes_body(void *arg)
{
    size_t cap = *(size_t *)arg;
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    struct gw g = {rill_chan_make(sizeof(int64_t), cap), &wg, 0};
    T_NOTNULL(g.c);

    /* Receivers on an empty channel. */
    atomic_store(&epipe_count, 0);
    T_OK(rill_wg_add(&wg, WAITERS));
    for (g.id = 0; g.id < WAITERS; g.id++)
        T_OK(rill_go(blocked_receiver, &g, sizeof g));
    rill_sleep(RILL_MS(30)); /* let them park; if some have not, they still must see -EPIPE */
    T_OK(rill_chan_close(g.c));
    T_OK(rill_wg_wait(&wg));
    T_EQ(atomic_load(&epipe_count), WAITERS);
    rill_chan_free(g.c);

    /* Senders on a full (or unbuffered) channel. */
    g.c = rill_chan_make(sizeof(int64_t), cap);
    T_NOTNULL(g.c);
    int64_t fill = -1;
    for (size_t i = 0; i < cap; i++)
        T_OK(rill_chan_send(g.c, &fill));
    atomic_store(&epipe_count, 0);
    T_OK(rill_wg_add(&wg, WAITERS));
    for (g.id = 0; g.id < WAITERS; g.id++)
        T_OK(rill_go(blocked_sender, &g, sizeof g));
    rill_sleep(RILL_MS(30));
    T_EQ(rill_chan_len(g.c), cap);
    T_OK(rill_chan_close(g.c));
    T_OK(rill_wg_wait(&wg));
    T_EQ(atomic_load(&epipe_count), WAITERS); /* no blocked sender got its value in */
    /* The values buffered before close are still delivered, then -EPIPE. */
    for (size_t i = 0; i < cap; i++) {
        int64_t v = 0;
        T_OK(rill_chan_recv(g.c, &v));
        T_EQ(v, -1);
    }
    T_ERR(rill_chan_recv(g.c, NULL), -EPIPE);
    rill_chan_free(g.c);
}

static int close_wakes_every_blocked_receiver_and_sender(void)
{
    size_t cap = 0;
    t_run(close_wakes_body, &cap);
    cap = 2;
    t_run(close_wakes_body, &cap);
    return T_EXIT_PASS;
}

static void double_close_body(void *unused)
{
    (void)unused;
    struct rill_chan *c = rill_chan_make(sizeof(int), 1);
    T_NOTNULL(c);
    T_OK(rill_chan_close(c));
    T_ERR(rill_chan_close(c), -EPIPE);
    T_ERR(rill_chan_close(c), -EPIPE);
    rill_chan_free(c);
}

static int double_close_epipe(void)
{
    t_run(double_close_body, NULL);
    return T_EXIT_PASS;
}

/* ---- errors -------------------------------------------------------------------------------- */

static void null_body(void *unused)
{
    (void)unused;
    int v = 0;
    T_ERR(rill_chan_send(NULL, &v), -EINVAL);
    T_ERR(rill_chan_recv(NULL, &v), -EINVAL);
    T_ERR(rill_chan_try_send(NULL, &v), -EINVAL);
    T_ERR(rill_chan_try_recv(NULL, &v), -EINVAL);
    T_ERR(rill_chan_close(NULL), -EINVAL);
    rill_chan_free(NULL); /* no-op */
    /* NULL elem with elem_size > 0 on send */
    struct rill_chan *c = rill_chan_make(sizeof(int), 1);
    T_NOTNULL(c);
    T_ERR(rill_chan_send(c, NULL), -EINVAL);
    T_ERR(rill_chan_try_send(c, NULL), -EINVAL);
    T_EQ(rill_chan_len(c), 0);
    rill_chan_free(c);
}

static int null_channel_einval(void)
{
    t_run(null_body, NULL);
    return T_EXIT_PASS;
}

static void make_sizes_body(void *unused)
{
    (void)unused;
    T_CHECK(rill_chan_make(RILL_CHAN_ELEM_MAX + 1, 0) == NULL);
    T_CHECK(rill_chan_make(RILL_CHAN_ELEM_MAX + 1, 1) == NULL);
    T_CHECK(rill_chan_make(SIZE_MAX, 1) == NULL);
    T_CHECK(rill_chan_make(8, RILL_CHAN_CAP_MAX + 1) == NULL);
    T_CHECK(rill_chan_make(8, SIZE_MAX) == NULL);
    T_CHECK(rill_chan_make(SIZE_MAX / 2, SIZE_MAX / 2) == NULL); /* product overflows */
    /* the largest element size is accepted */
    struct rill_chan *c = rill_chan_make(RILL_CHAN_ELEM_MAX, 0);
    T_NOTNULL(c);
    rill_chan_free(c);
    c = rill_chan_make(RILL_CHAN_ELEM_MAX, 2);
    T_NOTNULL(c);
    rill_chan_free(c);
}

static int make_rejects_bad_sizes(void)
{
    t_run(make_sizes_body, NULL);
    return T_EXIT_PASS;
}

/* The largest cap is affordable: make stamps every cell up front (8 bytes a cell for a signal
 * channel), so at RILL_CHAN_CAP_MAX it must stay well inside a test's memory. At 2^30 it
 * committed 8 GiB and took most of a minute. */
static long max_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void max_cap_body(void *unused)
{
    (void)unused;
    T_CHECK(rill_chan_make(0, RILL_CHAN_CAP_MAX + 1) == NULL);
    long rss0 = max_rss_kib();
    struct rill_chan *c = rill_chan_make(0, RILL_CHAN_CAP_MAX);
    T_NOTNULL(c);
    T_EQ(rill_chan_cap(c), RILL_CHAN_CAP_MAX);
    T_OK(rill_chan_try_send(c, NULL));
    T_EQ(rill_chan_len(c), 1);
    T_OK(rill_chan_try_recv(c, NULL));
    /* 128 MiB of stamps; TSan adds about four times that in shadow for the cells written */
    long grew_mib = (max_rss_kib() - rss0) / 1024, limit_mib = T_TSAN ? 1024 : 256;
    T_CHECKF(grew_mib < limit_mib, "rill_chan_make(0, RILL_CHAN_CAP_MAX) took %ld MiB", grew_mib);
    rill_chan_free(c);
}

static int max_cap_signal_channel_is_affordable(void)
{
    t_run(max_cap_body, NULL);
    return T_EXIT_PASS;
}

/* ---- elem_size 0 (signal channels) -------------------------------------------------------- */

static void signaller(void *arg)
{
    struct gw *g = arg;
    for (int i = 0; i < 100; i++)
        T_OK(rill_chan_send(g->c, NULL));
    rill_wg_done(g->wg);
}

static void signal_body(void *unused)
{
    (void)unused;
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    for (size_t cap = 0; cap <= 3; cap += 3) {
        struct gw g = {rill_chan_make(0, cap), &wg, 0};
        T_NOTNULL(g.c);
        T_EQ(rill_chan_cap(g.c), cap);
        T_ERR(rill_chan_try_recv(g.c, NULL), -EAGAIN);
        T_OK(rill_wg_add(&wg, 1));
        T_OK(rill_go(signaller, &g, sizeof g));
        for (int i = 0; i < 100; i++) {
            char dummy = 7;
            T_OK(i % 2 ? rill_chan_recv(g.c, NULL) : rill_chan_recv(g.c, &dummy));
            T_EQ(dummy, 7); /* zero bytes copied */
        }
        T_OK(rill_wg_wait(&wg));
        if (cap) {
            T_OK(rill_chan_try_send(g.c, NULL));
            T_OK(rill_chan_try_send(g.c, NULL));
            T_EQ(rill_chan_len(g.c), 2);
        }
        T_OK(rill_chan_close(g.c));
        for (size_t i = 0; i < (cap ? 2 : 0); i++)
            T_OK(rill_chan_recv(g.c, NULL));
        T_ERR(rill_chan_recv(g.c, NULL), -EPIPE);
        rill_chan_free(g.c);
    }
}

static int elem_size_zero_signal_channels(void)
{
    t_run(signal_body, NULL);
    return T_EXIT_PASS;
}

/* ---- large elements ------------------------------------------------------------------------ */

struct big {
    uint32_t seq;
    unsigned char bytes[1024 - 4];
};

static void fill_big(struct big *b, uint32_t seq)
{
    b->seq = seq;
    for (size_t i = 0; i < sizeof b->bytes; i++)
        b->bytes[i] = (unsigned char)(seq * 31u + i * 7u);
}

static void big_sender(void *arg)
{
    struct gw *g = arg;
    struct big b;
    for (uint32_t i = 0; i < 2000; i++) {
        fill_big(&b, i);
        T_OK(rill_chan_send(g->c, &b));
        memset(&b, 0xEE, sizeof b); /* the channel must have copied it already */
    }
    T_OK(rill_chan_close(g->c));
}

static void big_body(void *unused)
{
    (void)unused;
    static const size_t caps[] = {0, 1, 5};
    for (size_t k = 0; k < 3; k++) {
        struct gw g = {rill_chan_make(sizeof(struct big), caps[k]), NULL, 0};
        T_NOTNULL(g.c);
        T_OK(rill_go(big_sender, &g, sizeof g));
        struct big got, want;
        uint32_t n = 0;
        int rc;
        while ((rc = rill_chan_recv(g.c, &got)) == 0) {
            fill_big(&want, n);
            T_CHECKF(memcmp(&got, &want, sizeof got) == 0, "element %u corrupted (cap %zu)", n,
                     caps[k]);
            n++;
        }
        T_ERR(rc, -EPIPE);
        T_EQ(n, 2000);
        rill_chan_free(g.c);
    }
}

static int large_elements_arrive_intact(void)
{
    t_run(big_body, NULL);
    return T_EXIT_PASS;
}

/* Go's habit: receive until closed, then drop the channel. The sender or closer may still be
 * inside its call (waking this receiver) when the receiver frees: free must wait for that
 * (ASan reports a use-after-free otherwise). */
static void free_sender(void *arg)
{
    struct rill_chan *c = *(struct rill_chan **)arg;
    int v = 7;
    T_OK(rill_chan_send(c, &v));
    T_OK(rill_chan_close(c));
}

static void free_after_last_recv_body(void *unused)
{
    (void)unused;
    long n = t_env_long("T_FREE_N", T_TSAN ? 2000 : 20000);
    for (long i = 0; i < n; i++) {
        struct rill_chan *c = rill_chan_make(sizeof(int), (size_t)(i % 3));
        T_NOTNULL(c);
        T_OK(rill_go(free_sender, &c, sizeof c));
        int v = 0, rc;
        /* Poll rather than park, so that on two workers the receiver sees the close the
         * moment it is visible, while the closer is still finishing its call. */
        while ((rc = rill_chan_try_recv(c, &v)) == -EAGAIN)
            rill_yield();
        T_OK(rc);
        T_EQ(v, 7);
        while ((rc = rill_chan_try_recv(c, &v)) == -EAGAIN)
            rill_yield();
        T_ERR(rc, -EPIPE);
        rill_chan_free(c);
    }
}

static int free_right_after_last_recv_is_safe(void)
{
    t_run(free_after_last_recv_body, NULL);
    return T_EXIT_PASS;
}

T_MAIN(T_CASE(unbuffered_send_waits_for_receiver),
       T_CASE(free_right_after_last_recv_is_safe),
       T_CASE(unbuffered_recv_waits_for_sender),
       T_CASE(unbuffered_try_ops_pair_with_parked_peer),
       T_CASE(unbuffered_one_to_one_keeps_order),
       T_CASE(buffered_is_fifo_with_len_and_cap),
       T_CASE(buffered_full_blocks_sender_until_recv),
       T_CASE(len_and_cap_report_buffer),
       T_CASE(close_drains_buffer_then_epipe_with_zero_value),
       T_CASE(close_wakes_every_blocked_receiver_and_sender),
       T_CASE(double_close_epipe),
       T_CASE(null_channel_einval),
       T_CASE(make_rejects_bad_sizes),
       T_CASE(max_cap_signal_channel_is_affordable),
       T_CASE(elem_size_zero_signal_channels),
       T_CASE(large_elements_arrive_intact))
