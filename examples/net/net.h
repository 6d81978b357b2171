/*
 * net.h - the small part of Go's net and net/http packages that the network examples share
 * (echo_server.c, http_get.c, scraper.c, rate_limiter.c). Built once as the static library
 * example_net; see examples/CMakeLists.txt.
 *
 *   Go                                      here
 *   net.Listen("tcp", "127.0.0.1:0")        net_listen("127.0.0.1", 0, &port)
 *   net.DialTimeout("tcp", addr, d)         net_dial(host, port, rill_now() + d)
 *   conn.Write(b) (writes all of b)         net_send_all(fd, b, len, deadline)
 *   http.Client{Timeout: d}.Get(url)        http_get(url, rill_now() + d, &resp)
 *   http.HandleFunc + httptest.NewServer    http_server_start(&srv, handler, arg)
 *   srv.Close()                             http_server_stop(&srv)
 *
 * Every call returns what rill's calls do: 0, a count or a descriptor, or -errno. Calling
 * context: goroutine (outside one, rill's I/O blocks the calling thread, which also works).
 */
#ifndef EXAMPLES_NET_H
#define EXAMPLES_NET_H

#include <rill.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A listening TCP socket on host (a numeric IPv4 address) and port (0: any free port); the
 * port it got is stored in *bound_port. The descriptor, or -errno. */
int net_listen(const char *host, int port, int *bound_port);

/* Resolve host (with getaddrinfo on rill_blocking's offload threads, since it may block) and
 * connect to the first address that answers before deadline. The connected descriptor, or
 * -errno: -ENXIO when the name does not resolve, else the last address's connect error.
 * Resolution itself cannot be interrupted: the deadline applies to connecting. */
int net_dial(const char *host, const char *port, int64_t deadline);

/* Send all len bytes (rill_send may send fewer), with MSG_NOSIGNAL: a peer that went away is
 * -EPIPE, not a SIGPIPE. len, or -errno. */
ssize_t net_send_all(int fd, const void *buf, size_t len, int64_t deadline);

/* ---- HTTP client (http_client.c) ---- */

/* The parts of a response the examples print. */
struct http_response {
    int status;            // 200, 404, ...
    char content_type[64]; // the Content-Type header, "" if none (truncated to fit)
    size_t body_len;       // the whole body's length
    char body[256];        // its first bytes, NUL-terminated
};

/* GET url ("http://host[:port]/path?query"; no TLS) with HTTP/1.1 and Connection: close, and
 * read the whole response before deadline, which covers connect, send and receive alike (Go's
 * http.Client.Timeout). 0 for any response, 404 included (resp->status says which, as in Go);
 * -EINVAL for a URL it cannot use; -EPROTO for a malformed or truncated response; or the
 * -errno of net_dial, rill_send or rill_recv (-ETIMEDOUT when deadline passed). */
int http_get(const char *url, int64_t deadline, struct http_response *resp);

/* Receive from fd and feed every chunk to the libhttp-parser p until its callbacks in s set
 * *done (from on_message_complete, which should also pause p). 0; -EPROTO for a malformed
 * message or one the peer cut short; or rill_recv's -errno. Shared by the client and server. */
struct http_parser;
struct http_parser_settings;
int http_read_message(int fd, struct http_parser *p, const struct http_parser_settings *s,
                      const bool *done, int64_t deadline);

/* ---- HTTP test server (http_server.c) ---- */

/* What a handler fills in for one request. */
struct http_reply {
    int status;               // 200 unless the handler says otherwise
    const char *content_type; // "text/plain" unless the handler says otherwise
    const char *body;         // the body (not copied; must outlive the reply), NULL: buf
    size_t body_len;          // its length
    int64_t delay;            // wait this long (ns) before replying: a slow endpoint
    char buf[256];            // room for a small body the handler formats itself
};

/* Called on the connection's goroutine, one call per request, possibly several at once. */
typedef void http_handler(const char *path, struct http_reply *w, void *arg);

/* Go's httptest.Server: listens on 127.0.0.1, any free port, and serves each connection on its
 * own goroutine. Fields are the server's; read url after start. */
struct http_server {
    char url[32];             // "http://127.0.0.1:PORT", the base URL to fetch
    int fd;                   // the listener; the accept goroutine closes it
    struct rill_ctx *ctx;     // cancelled by stop: ends every goroutine's I/O and delay
    struct rill_waitgroup wg; // the accept goroutine plus one per open connection
    http_handler *handler;
    void *arg;
};

/* Start serving with handler(path, reply, arg). 0 or -errno (nothing is left running then). */
int http_server_start(struct http_server *s, http_handler *handler, void *arg);

/* Stop: cancel the server's context, which ends the accept loop and wakes every connection
 * (even one in the middle of a delay), then wait for all of its goroutines and free it. */
void http_server_stop(struct http_server *s);

#endif /* EXAMPLES_NET_H */
