/*
 * io_bench.cc - socket I/O: a TCP echo server and its clients on loopback, in one process.
 *
 *   TcpEcho   A listener goroutine accepts on 127.0.0.1:<ephemeral> (backlog 1024) and starts
 *             one goroutine per connection, which rill_recv's into a 4 KiB buffer and
 *             rill_send's every byte back until the peer closes. Main connects kConns client
 *             sockets, then starts one client goroutine per socket: each sends a 64-byte
 *             message, receives until all 64 bytes are back, checks them, and starts over,
 *             timing each round trip. TCP_NODELAY is set on both ends.
 *
 * Timing: after the clients start, a warm-up of a tenth of the window is not recorded; a
 * round trip counts when it starts at or after t_start and completes before t_end, and its
 * latency (send to last byte received) goes into its client's own vector. Counters:
 *   roundtrips_per_s  counted round trips / (t_end - t_start): the headline, higher is better
 *   lat_p50_us        median round-trip latency over every counted round trip
 *   lat_p99_us        99th percentile of the same
 *   n                 connections (the harness checks the Go peer used as many)
 * The window (2 s full, 0.5 s quick, 0.15 s smoke) comes from rb::pick in milliseconds and
 * must match "tcp_echo" in bench/go/sizes.go. One iteration per process, whose manual time is
 * the window. Mirrors bench/go/net.go, which uses the net package.
 *
 * Shutdown: each client closes its socket with rill_close; its server goroutine then reads 0
 * (EOF), closes its end and leaves. Main closes the listener with rill_close, which wakes the
 * blocked rill_accept with -ECANCELED, and waits for the listener and every connection
 * goroutine before it reads the results.
 *
 * Errors: any failed call (socket set-up, accept, send, recv, a wrong echo, a client's
 * deadline of t_end + 5 s passing) is recorded once and turned into SkipWithError, so a
 * broken I/O path shows as a failed row, never as a figure. A goroutine that fails closes its
 * socket, which ends its peer too, so nothing is left blocked.
 */
#include "bench_common.h"

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <vector>

namespace {

constexpr int kConns = 64;
constexpr size_t kMsg = 64;
constexpr size_t kServerBuf = 4096;
constexpr int64_t kGrace = RILL_SEC(5); /* clients' I/O deadline past t_end */

/* The first error of a run, written once by whichever goroutine fails first. */
struct Failure {
    std::atomic<int> set{0};
    char msg[200] = {0};

    void record(const char *what, long rc)
    {
        int expect = 0;
        /* acq_rel: only the winner writes msg; main reads it after rill_wg_wait, which orders
         * it after every goroutine's last action. */
        if (!set.compare_exchange_strong(expect, 1, std::memory_order_acq_rel))
            return;
        if (rc < 0)
            std::snprintf(msg, sizeof msg, "%s: %s (%ld)", what, std::strerror((int)-rc), rc);
        else
            std::snprintf(msg, sizeof msg, "%s", what);
    }
    /* relaxed: a hint for goroutines to stop early; the result is read after a wait. */
    bool failed() const
    {
        return set.load(std::memory_order_relaxed) != 0;
    }
};

struct Server {
    int lfd;
    Failure *fail;
    struct rill_waitgroup *wg; /* the listener and every connection goroutine */
};

/* Send all len bytes of buf; 0 or -errno. MSG_NOSIGNAL: a closed peer gives -EPIPE. */
ssize_t send_all(int fd, const char *buf, size_t len, int64_t deadline)
{
    while (len > 0) {
        ssize_t k = rill_send(fd, buf, len, MSG_NOSIGNAL, deadline);
        if (k < 0)
            return k;
        if (k == 0)
            return -EPIPE;
        buf += k;
        len -= static_cast<size_t>(k);
    }
    return 0;
}

int set_nodelay(int fd)
{
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0 ? 0 : -errno;
}

/* One server connection: echo until EOF. An error other than a reset by a closing client is
 * recorded; either way the connection is closed. */
void serve_conn(int fd, Failure *fail, struct rill_waitgroup *wg)
{
    char buf[kServerBuf];
    for (;;) {
        ssize_t k = rill_recv(fd, buf, sizeof buf, 0, RILL_FOREVER);
        if (k == 0 || k == -ECONNRESET)
            break;
        if (k < 0) {
            fail->record("server rill_recv", k);
            break;
        }
        ssize_t rc = send_all(fd, buf, static_cast<size_t>(k), RILL_FOREVER);
        if (rc == -EPIPE || rc == -ECONNRESET)
            break;
        if (rc < 0) {
            fail->record("server rill_send", rc);
            break;
        }
    }
    rill_close(fd);
    rill_wg_done(wg);
}

/* Accept until the listener is closed (-ECANCELED), one goroutine per connection. */
void listen_loop(Server s)
{
    for (;;) {
        int fd = rill_accept(s.lfd, nullptr, nullptr, RILL_FOREVER);
        if (fd == -ECANCELED)
            break;
        if (fd < 0) {
            s.fail->record("rill_accept", fd);
            break;
        }
        int rc = set_nodelay(fd);
        if (rc == 0)
            rc = rill_wg_add(s.wg, 1);
        if (rc == 0)
            rc = rb::try_go([fd, fail = s.fail, wg = s.wg] { serve_conn(fd, fail, wg); });
        if (rc < 0) {
            s.fail->record("server connection set-up", rc);
            rill_close(fd);
            break;
        }
    }
    rill_wg_done(s.wg);
}

struct Client {
    int fd;
    int id;
    int64_t t_start, t_end;
    std::vector<int64_t> *lat; /* this client's counted latencies, ns */
    Failure *fail;
    struct rill_waitgroup *wg;
};

/* One round trip: send msg, receive until all of it is back, check it. 0 or -errno/1. */
int round_trip(const Client &c, const char *msg, char *back, int64_t deadline)
{
    ssize_t rc = send_all(c.fd, msg, kMsg, deadline);
    if (rc < 0) {
        c.fail->record("client rill_send", rc);
        return -1;
    }
    for (size_t got = 0; got < kMsg;) {
        ssize_t k = rill_recv(c.fd, back + got, kMsg - got, 0, deadline);
        if (k <= 0) {
            c.fail->record(
                k == 0 ? "client rill_recv: server closed the connection" : "client rill_recv", k);
            return -1;
        }
        got += static_cast<size_t>(k);
    }
    if (std::memcmp(msg, back, kMsg) != 0) {
        c.fail->record("echo returned different bytes", 0);
        return -1;
    }
    return 0;
}

void client_loop(Client c)
{
    char msg[kMsg], back[kMsg];
    const int64_t deadline = c.t_end + kGrace;
    for (int64_t seq = 0; !c.fail->failed(); seq++) {
        std::memset(msg, static_cast<int>('a' + (seq + c.id) % 26), kMsg);
        std::memcpy(msg, &seq, sizeof seq);
        const int64_t t0 = rill_now();
        if (t0 >= c.t_end || round_trip(c, msg, back, deadline) != 0)
            break;
        const int64_t t1 = rill_now();
        if (t0 >= c.t_start && t1 < c.t_end)
            c.lat->push_back(t1 - t0);
    }
    rill_close(c.fd);
    rill_wg_done(c.wg);
}

/* A listening socket on 127.0.0.1:<ephemeral>; its address in *addr. fd or -errno. */
int make_listener(struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    socklen_t len = sizeof *addr;
    std::memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<struct sockaddr *>(addr), sizeof *addr) != 0 ||
        listen(fd, 1024) != 0 ||
        getsockname(fd, reinterpret_cast<struct sockaddr *>(addr), &len) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

/* A client socket connected to addr with TCP_NODELAY. fd or -errno. */
int dial(const struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int rc = set_nodelay(fd);
    if (rc == 0)
        rc = rill_connect(fd, reinterpret_cast<const struct sockaddr *>(addr), sizeof *addr,
                          rill_now() + RILL_SEC(5));
    if (rc < 0) {
        rill_close(fd);
        return rc;
    }
    return fd;
}

double percentile_us(std::vector<int64_t> &v, double q)
{
    size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
    return static_cast<double>(v[i]) * 1e-3;
}

/* Connect the clients, run them for warm-up + window, close everything. "" or an error. */
std::string echo_run(int64_t window, std::vector<int64_t> *all)
{
    Failure fail;
    struct sockaddr_in addr;
    struct rill_waitgroup swg = RILL_WAITGROUP_INIT, cwg = RILL_WAITGROUP_INIT;
    int lfd = make_listener(&addr);
    if (lfd < 0)
        return std::string("listener: ") + std::strerror(-lfd);
    rb::check(rill_wg_add(&swg, 1), "rill_wg_add");
    int rc = rb::try_go([s = Server{lfd, &fail, &swg}] { listen_loop(s); });
    if (rc < 0) {
        close(lfd);
        return std::string("rill_go: ") + std::strerror(-rc);
    }
    std::vector<std::vector<int64_t>> lat(kConns);
    std::vector<int> fds;
    for (int i = 0; i < kConns && !fail.failed(); i++) {
        int fd = dial(&addr);
        if (fd < 0)
            fail.record("client connect", fd);
        else
            fds.push_back(fd);
    }
    const int64_t t_start = rill_now() + window / 10, t_end = t_start + window;
    for (size_t i = 0; i < fds.size(); i++) {
        lat[i].reserve(1 << 14);
        Client c{fds[i], static_cast<int>(i), t_start, t_end, &lat[i], &fail, &cwg};
        rb::check(rill_wg_add(&cwg, 1), "rill_wg_add");
        if ((rc = rb::try_go([c] { client_loop(c); })) < 0) {
            fail.record("rill_go", rc);
            rill_close(c.fd);
            rill_wg_done(&cwg);
        }
    }
    rill_wg_wait(&cwg);             /* every client socket is closed */
    if ((rc = rill_close(lfd)) < 0) /* wakes the accept with -ECANCELED */
        fail.record("rill_close(listener)", rc);
    rill_wg_wait(&swg);
    if (fail.failed())
        return fail.msg;
    for (auto &v : lat)
        all->insert(all->end(), v.begin(), v.end());
    if (all->empty())
        return "no round trip completed inside the window";
    return std::string();
}

void BM_IO_TcpEcho(benchmark::State &st)
{
    const int64_t window = RILL_MS(rb::pick(2000, 500, 150));
    rb::run(st, [&] {
        std::vector<int64_t> all;
        std::string err;
        for (auto _ : st) { /* one iteration: let the loop end normally even on an error */
            err = echo_run(window, &all);
            st.SetIterationTime(static_cast<double>(window) * 1e-9);
        }
        if (!err.empty())
            return err;
        const double count = static_cast<double>(all.size());
        st.SetItemsProcessed(static_cast<int64_t>(all.size()));
        st.counters["roundtrips_per_s"] = count / (static_cast<double>(window) * 1e-9);
        st.counters["lat_p50_us"] = percentile_us(all, 0.50);
        st.counters["lat_p99_us"] = percentile_us(all, 0.99);
        st.counters["n"] = kConns;
        return std::string();
    });
}
BENCHMARK(BM_IO_TcpEcho)->Apply(rb::workers_1_2)->Iterations(1)->Unit(benchmark::kMillisecond);

} // namespace
