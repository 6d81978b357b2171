/*
 * echo_server.c - a TCP echo server with one goroutine per connection, Go's classic
 *
 *     ln, _ := net.Listen("tcp", "127.0.0.1:7000")
 *     for {
 *         conn, err := ln.Accept()
 *         if err != nil { return }    // ln.Close() was called
 *         go handle(conn)             // handle: defer conn.Close(); io.Copy(conn, conn)
 *     }
 *
 *   echo_server [PORT]          serve on 127.0.0.1:PORT (none or 0: any free port) for ever
 *   echo_server --selftest N    also run N clients in this process, each sending a few lines
 *                               and checking the echoes; then stop the server and print a
 *                               summary (the ctest)
 *
 * A goroutine blocked in rill_recv parks; its worker thread runs other goroutines meanwhile,
 * so a thousand idle connections cost a thousand small stacks, not a thousand threads.
 * Stopping is Go's too: rill_close(listener) wakes the accept loop with -ECANCELED, as
 * ln.Close() makes Accept return an error. (Close a descriptor under another goroutine only
 * when nothing can open a new one meanwhile: a reused number would be someone else's. Here the
 * clients are done by then. examples/net/http_server.c stops with a context instead.)
 */
#include "net/net.h"

#include <errno.h>
#include <rill.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct server {
    int ln;                   // the listening socket
    struct rill_waitgroup wg; // the accept loop and every connection
    atomic_long conns, bytes; // totals for the summary, read after wg says all are done
};

struct conn {
    struct server *srv;
    int fd;
};

static void handle(void *arg) // io.Copy(conn, conn)
{
    struct conn *c = arg;
    char buf[4096];
    ssize_t n;

    while ((n = rill_recv(c->fd, buf, sizeof buf, 0, RILL_FOREVER)) > 0) {
        if (net_send_all(c->fd, buf, (size_t)n, RILL_FOREVER) < 0)
            break;
        // relaxed: a statistic; rill_wg_done/rill_wg_wait order it before the summary reads
        atomic_fetch_add_explicit(&c->srv->bytes, n, memory_order_relaxed);
    }
    rill_close(c->fd); // n == 0: the client closed its end
    rill_wg_done(&c->srv->wg);
}

static void serve(struct server *srv)
{
    for (;;) {
        int fd = rill_accept(srv->ln, NULL, NULL, RILL_FOREVER);
        if (fd == -ECONNABORTED)
            continue;
        if (fd < 0) // -ECANCELED (or -EBADF if not yet waiting): rill_close(ln)
            break;
        struct conn c = {srv, fd};
        atomic_fetch_add_explicit(&srv->conns, 1, memory_order_relaxed); // relaxed: as bytes
        rill_wg_add(&srv->wg, 1);
        rill_go(handle, &c, sizeof c); // go handle(conn)
    }
}

static void serve_goroutine(void *arg)
{
    struct server *srv = arg;
    serve(srv);
    rill_wg_done(&srv->wg);
}

// ---- self-test: clients in the same process ----

enum { LINES = 3 };

struct client_args {
    int id;
    char port[8];
    struct rill_waitgroup *wg;
};

// Send one line and read back exactly as many bytes (TCP may split them). 0 when they match.
static int echo_line(int fd, const char *line, int64_t deadline)
{
    char got[64];
    size_t len = strlen(line), have = 0;

    if (net_send_all(fd, line, len, deadline) < 0)
        return -1;
    while (have < len) {
        ssize_t n = rill_recv(fd, got + have, len - have, 0, deadline);
        if (n <= 0)
            return -1;
        have += (size_t)n;
    }
    return memcmp(got, line, len) == 0 ? 0 : -1;
}

static void client(void *arg)
{
    struct client_args *a = arg;
    int64_t deadline = rill_now() + RILL_SEC(20); // only a hung test would need it
    int echoed = 0;
    int fd = net_dial("127.0.0.1", a->port, deadline);

    for (int j = 1; fd >= 0 && j <= LINES; j++) {
        char line[64];
        snprintf(line, sizeof line, "client %d line %d\n", a->id, j);
        if (echo_line(fd, line, deadline) == 0)
            echoed++;
    }
    if (fd >= 0)
        rill_close(fd);
    printf("client %d: %d/%d lines echoed\n", a->id, echoed, LINES);
    rill_wg_done(a->wg);
}

static void selftest(struct server *srv, int port, int nclients)
{
    struct rill_waitgroup clients = RILL_WAITGROUP_INIT;

    rill_wg_add(&srv->wg, 1);
    rill_go(serve_goroutine, srv, 0);
    for (int i = 1; i <= nclients; i++) {
        struct client_args a = {i, "", &clients};
        snprintf(a.port, sizeof a.port, "%d", port);
        rill_wg_add(&clients, 1);
        rill_go(client, &a, sizeof a);
    }
    rill_wg_wait(&clients);

    rill_close(srv->ln); // ln.Close(): the accept loop returns
    rill_wg_wait(&srv->wg);
    printf("server: %ld connections, %ld bytes echoed\n", atomic_load(&srv->conns),
           atomic_load(&srv->bytes));
}

struct options {
    int port;
    int selftest; // number of clients, 0 to just serve
    int status;   // the exit status
};

static void main_goroutine(void *arg)
{
    struct options *o = arg;
    struct server srv = {.ln = -1};
    int port;

    srv.ln = net_listen("127.0.0.1", o->port, &port);
    if (srv.ln < 0) {
        fprintf(stderr, "echo_server: listen: %s\n", strerror(-srv.ln));
        o->status = 1;
        return;
    }
    if (o->selftest > 0) {
        selftest(&srv, port, o->selftest);
        return;
    }
    printf("echo server listening on 127.0.0.1:%d\n", port);
    fflush(stdout);
    serve(&srv); // for ever: nothing closes the listener
}

int main(int argc, char **argv)
{
    struct options o = {0, 0, 0};

    if (argc == 3 && strcmp(argv[1], "--selftest") == 0)
        o.selftest = atoi(argv[2]);
    else if (argc == 2)
        o.port = atoi(argv[1]);
    if (argc > 3 || (argc == 3 && o.selftest <= 0)) {
        fprintf(stderr, "usage: echo_server [PORT] | echo_server --selftest NCLIENTS\n");
        return 2;
    }
    return rill_run(main_goroutine, &o, NULL) == 0 ? o.status : 1;
}
