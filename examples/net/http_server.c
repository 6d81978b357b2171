/*
 * http_server.c - a tiny HTTP/1.1 server on 127.0.0.1 for the examples (Go's httptest.Server),
 * so that they fetch from a server in their own process and never need the internet.
 *
 * Goroutines, all joined to s->wg:
 *   accept loop   rill_accept, then one goroutine per connection (Go's `go c.serve()`);
 *   connection    read one request with libhttp-parser, call the handler, wait out the reply's
 *                 delay, send the reply with Connection: close, close.
 *
 * Stopping uses a context instead of closing the listener under the accept loop: every
 * goroutine binds s->ctx (rill_ctx_bind), so rill_ctx_cancel() makes each of its pending and
 * later I/O calls return -ECANCELED, and a delay is a select on rill_ctx_done() with a deadline.
 * Each goroutine closes only its own descriptors, so no descriptor is closed while another
 * goroutine may still use its number (which, once reused, could be someone else's socket).
 */
#include "net.h"

#include <errno.h>
#include <http_parser.h>
#include <stdio.h>
#include <string.h>

struct request {
    http_parser parser; // parser.data points back here
    char path[256];     // the request target (truncated)
    size_t path_len;
    bool done;
};

static int on_url(http_parser *p, const char *at, size_t n)
{
    struct request *r = p->data;
    size_t room = sizeof r->path - 1 - r->path_len;
    if (n > room)
        n = room;
    memcpy(r->path + r->path_len, at, n);
    r->path_len += n;
    r->path[r->path_len] = '\0';
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct request *r = p->data;
    r->done = true;
    http_parser_pause(p, 1); // one request per connection
    return 0;
}

static const http_parser_settings settings = {
    .on_url = on_url,
    .on_message_complete = on_message_complete,
};

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 404:
        return "Not Found";
    default:
        return "Status";
    }
}

// Go: select { case <-time.After(d): case <-r.Context().Done(): }. True when stopped.
static bool stopped_during(struct http_server *s, int64_t delay)
{
    struct rill_case done = {rill_ctx_done(s->ctx), RILL_RECV, NULL, 0};
    return rill_select(&done, 1, rill_now() + delay) == 0;
}

static void respond(struct http_server *s, int fd, const char *path)
{
    struct http_reply w = {.status = 200, .content_type = "text/plain"};
    char head[256];

    s->handler(path, &w, s->arg);
    if (!w.body) {
        w.body = w.buf;
        w.body_len = strlen(w.buf);
    }
    if (w.delay > 0 && stopped_during(s, w.delay))
        return;
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     w.status, reason(w.status), w.content_type, w.body_len);
    // A client that gave up (its timeout) makes these fail with -EPIPE or -ECONNRESET: fine.
    if (net_send_all(fd, head, (size_t)n, RILL_FOREVER) >= 0)
        net_send_all(fd, w.body, w.body_len, RILL_FOREVER);
}

struct conn_args {
    struct http_server *s;
    int fd;
};

static void serve_conn(void *arg)
{
    struct conn_args *a = arg;
    struct request r = {.path_len = 0};

    rill_ctx_bind(a->s->ctx);
    http_parser_init(&r.parser, HTTP_REQUEST);
    r.parser.data = &r;
    if (http_read_message(a->fd, &r.parser, &settings, &r.done, RILL_FOREVER) == 0)
        respond(a->s, a->fd, r.path);
    rill_close(a->fd);
    rill_ctx_bind(NULL); // done with s->ctx before stop() may free it
    rill_wg_done(&a->s->wg);
}

static void accept_loop(void *arg)
{
    struct http_server *s = arg;

    rill_ctx_bind(s->ctx);
    for (;;) {
        int fd = rill_accept(s->fd, NULL, NULL, RILL_FOREVER);
        if (fd == -ECONNABORTED || fd == -EINTR)
            continue;
        if (fd < 0) { // -ECANCELED: stop() was called
            if (fd != -ECANCELED)
                fprintf(stderr, "http_server: accept: %s\n", strerror(-fd));
            break;
        }
        struct conn_args c = {s, fd};
        rill_wg_add(&s->wg, 1);
        if (rill_go(serve_conn, &c, sizeof c) < 0) {
            rill_close(fd);
            rill_wg_done(&s->wg);
        }
    }
    rill_close(s->fd);
    rill_ctx_bind(NULL);
    rill_wg_done(&s->wg);
}

int http_server_start(struct http_server *s, http_handler *handler, void *arg)
{
    int port, rc;

    memset(s, 0, sizeof *s); // a zero-filled WaitGroup is a new one
    s->handler = handler;
    s->arg = arg;
    s->fd = net_listen("127.0.0.1", 0, &port);
    if (s->fd < 0)
        return s->fd;
    s->ctx = rill_ctx_new(NULL, RILL_FOREVER);
    if (!s->ctx) {
        rc = -ENOMEM;
        goto err_close;
    }
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", port);
    rill_wg_add(&s->wg, 1);
    rc = rill_go(accept_loop, s, 0);
    if (rc < 0)
        goto err_free_ctx;
    return 0;

err_free_ctx:
    rill_wg_done(&s->wg);
    rill_ctx_free(s->ctx);
err_close:
    rill_close(s->fd);
    return rc;
}

void http_server_stop(struct http_server *s)
{
    rill_ctx_cancel(s->ctx);
    rill_wg_wait(&s->wg);
    rill_ctx_free(s->ctx);
}
