/*
 * io_stress.c - scale: 10,000 concurrent loopback TCP connections, each served by its own
 * goroutine, and 100,000 goroutines sleeping at once.
 *
 * The connections need 20,000 descriptors, more than one process may open here (the hard
 * RLIMIT_NOFILE is often 20,000 or less), so the clients run in a forked child with its own
 * runtime: the parent serves, the child connects. Both raise their soft limit to the hard one
 * and skip if that is still too low. Every connection is established, echoes once, waits
 * until all the others are up too (so all of them are open at the same moment), then echoes
 * again and closes.
 *
 *   T_CONNS (default 10000; 2000 under sanitizers)   T_SLEEPERS (default 100000; 20000 under
 *   sanitizers)
 */
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "helpers.h"

static long n_conns(void)
{
    return t_env_long("T_CONNS", T_SANITIZER ? 2000 : 10000);
}

static int raise_nofile(long need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    return (long)rl.rlim_cur >= need ? 0 : -1;
}

/* ---- server (parent) ------------------------------------------------------------------------ */

struct server {
    int lfd;
    long n;
    _Atomic long open, peak, served;
    struct rill_waitgroup conns;
};

struct conn {
    struct server *s;
    int fd;
};

static void serve_conn(void *arg)
{
    struct conn *c = arg;
    struct server *s = c->s;
    long now = atomic_fetch_add(&s->open, 1) + 1;
    long peak = atomic_load(&s->peak);
    while (now > peak && !atomic_compare_exchange_weak(&s->peak, &peak, now))
        ;
    char buf[64];
    for (;;) {
        ssize_t r = rill_recv(c->fd, buf, sizeof buf, 0, rill_now() + RILL_SEC(120));
        if (r <= 0)
            break;
        T_EQ(rill_send(c->fd, buf, (size_t)r, 0, rill_now() + RILL_SEC(120)), r);
    }
    atomic_fetch_sub(&s->open, 1);
    atomic_fetch_add(&s->served, 1);
    T_OK(rill_close(c->fd));
    rill_wg_done(&s->conns);
}

static void server_main(void *arg)
{
    struct server *s = arg;
    for (long i = 0; i < s->n; i++) {
        int fd = rill_accept(s->lfd, NULL, NULL, rill_now() + RILL_SEC(120));
        T_CHECKF(fd >= 0, "accept %ld of %ld: %d", i, s->n, fd);
        rill_wg_add(&s->conns, 1);
        struct conn c = {s, fd};
        T_OK(rill_go(serve_conn, &c, sizeof c));
    }
    rill_wg_wait(&s->conns);
    T_OK(rill_close(s->lfd));
}

/* ---- clients (child) ------------------------------------------------------------------------ */

struct clients {
    struct sockaddr_in addr;
    long n;
    _Atomic long up;
    struct rill_chan *all_up; /* closed once every client has echoed once */
    struct rill_waitgroup done;
};

static void echo_once(int fd, long id)
{
    char out[32], in[32];
    int len = snprintf(out, sizeof out, "client %ld", id);
    T_EQ(rill_send(fd, out, (size_t)len, 0, rill_now() + RILL_SEC(120)), len);
    int got = 0;
    while (got < len) {
        ssize_t r = rill_recv(fd, in + got, (size_t)(len - got), 0, rill_now() + RILL_SEC(120));
        T_GT(r, 0);
        got += (int)r;
    }
    T_CHECK(memcmp(in, out, (size_t)len) == 0);
}

struct client {
    struct clients *cs;
    long id;
};

static void client(void *arg)
{
    struct client *c = arg;
    struct clients *cs = c->cs;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    T_CHECK(fd >= 0);
    T_OK(rill_connect(fd, (struct sockaddr *)&cs->addr, sizeof cs->addr,
                      rill_now() + RILL_SEC(120)));
    echo_once(fd, c->id);
    if (atomic_fetch_add(&cs->up, 1) + 1 == cs->n)
        rill_chan_close(cs->all_up);
    T_ERR(rill_chan_recv(cs->all_up, NULL), -EPIPE); /* every connection is open now */
    echo_once(fd, c->id + 1000000);
    T_OK(rill_close(fd));
    rill_wg_done(&cs->done);
}

static void clients_main(void *arg)
{
    struct clients *cs = arg;
    cs->all_up = rill_chan_make(0, 0);
    for (long i = 0; i < cs->n; i++) {
        rill_wg_add(&cs->done, 1);
        struct client c = {cs, i};
        T_OK(rill_go(client, &c, sizeof c));
    }
    rill_wg_wait(&cs->done);
    rill_chan_free(cs->all_up);
}

static int ten_thousand_concurrent_connections(void)
{
    long n = n_conns();
    if (raise_nofile(n + 64) != 0)
        T_SKIP("RLIMIT_NOFILE hard limit below %ld", n + 64);
    static struct server s;
    s.n = n;
    s.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    T_CHECK(bind(s.lfd, (struct sockaddr *)&addr, sizeof addr) == 0);
    T_CHECK(listen(s.lfd, 4096) == 0);
    socklen_t l = sizeof addr;
    T_CHECK(getsockname(s.lfd, (struct sockaddr *)&addr, &l) == 0);
    fflush(NULL);
    pid_t pid = fork();
    T_CHECK(pid >= 0);
    if (pid == 0) { /* the clients: their own process, their own runtime */
        close(s.lfd);
        static struct clients cs;
        cs.addr = addr;
        cs.n = n;
        struct rill_config cfg = {.workers = t_workers()};
        int rc = rill_run(clients_main, &cs, &cfg);
        _exit(rc == 0 && atomic_load(&cs.up) == n ? 0 : 1);
    }
    t_run(server_main, &s);
    int status;
    T_EQ(waitpid(pid, &status, 0), pid);
    T_CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "client process status %#x", status);
    T_EQ(atomic_load(&s.served), n);
    T_EQ(atomic_load(&s.peak), n); /* all of them were open at once */
    return T_EXIT_PASS;
}

/* ---- sleepers ------------------------------------------------------------------------------- */

struct sleepers {
    struct rill_waitgroup wg;
    _Atomic long early, woke;
};

static void sleeper(void *arg)
{
    struct sleepers *s = *(struct sleepers **)arg;
    int64_t t0 = rill_now();
    rill_sleep(RILL_MS(1));
    if (rill_now() - t0 < RILL_MS(1))
        atomic_fetch_add(&s->early, 1);
    atomic_fetch_add(&s->woke, 1);
    rill_wg_done(&s->wg);
}

static void sleepers_main(void *arg)
{
    struct sleepers *s = arg;
    long n = t_env_long("T_SLEEPERS", T_SANITIZER ? 20000 : 100000);
    rill_wg_add(&s->wg, (int)n);
    for (long i = 0; i < n; i++)
        T_OK(rill_go(sleeper, &s, sizeof s));
    rill_wg_wait(&s->wg);
    T_EQ(atomic_load(&s->woke), n);
    T_EQ(atomic_load(&s->early), 0);
}

static int hundred_thousand_concurrent_sleeps(void)
{
    static struct sleepers s;
    t_run(sleepers_main, &s);
    return T_EXIT_PASS;
}

T_MAIN(T_CASE(ten_thousand_concurrent_connections), T_CASE(hundred_thousand_concurrent_sleeps))
