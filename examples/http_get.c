/*
 * http_get.c - fetch a URL over HTTP/1.1 with rill sockets and print what came back. Go:
 *
 *     client := &http.Client{Timeout: 10 * time.Second}
 *     resp, err := client.Get(url)
 *     if err != nil { log.Fatal(err) }
 *     defer resp.Body.Close()
 *     body, _ := io.ReadAll(resp.Body)
 *     fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
 *
 *   http_get URL           fetch URL (http:// only: there is no TLS here)
 *   http_get --selftest    start a server goroutine on 127.0.0.1 and fetch two paths from it,
 *                          one that exists and one that does not (the ctest: no internet)
 *
 * The client is http_get() in examples/net/http_client.c, shared with scraper.c and
 * rate_limiter.c: getaddrinfo on rill_blocking's threads, rill_connect, rill_send of the
 * request, and rill_recv chunks fed to libhttp-parser. The goroutine parks in each of those
 * calls; the deadline (Go's Client.Timeout) bounds all of them together.
 */
#include "net/net.h"

#include <errno.h>
#include <rill.h>
#include <stdio.h>
#include <string.h>

static int get_and_print(const char *url)
{
    struct http_response resp;
    int rc = http_get(url, rill_now() + RILL_SEC(10), &resp);

    if (rc < 0) {
        printf("error: %s\n", strerror(-rc));
        return 1;
    }
    printf("status: %d\n", resp.status);
    printf("content-type: %s\n", resp.content_type);
    printf("body: %zu bytes\n", resp.body_len);
    printf("first line: %.*s\n", (int)strcspn(resp.body, "\r\n"), resp.body);
    return 0;
}

// http.HandleFunc("/hello", ...); anything else is http.NotFound's reply.
static void handler(const char *path, struct http_reply *w, void *arg)
{
    (void)arg;
    if (strcmp(path, "/hello") == 0) {
        snprintf(w->buf, sizeof w->buf, "Hello from rill\n");
    } else {
        w->status = 404;
        snprintf(w->buf, sizeof w->buf, "404 page not found\n");
    }
}

static int selftest(void)
{
    struct http_server srv;
    char url[64];
    int status = 0;

    int rc = http_server_start(&srv, handler, NULL);
    if (rc < 0) {
        printf("server: %s\n", strerror(-rc));
        return 1;
    }
    const char *paths[] = {"/hello", "/missing"};
    for (int i = 0; i < 2; i++) {
        snprintf(url, sizeof url, "%s%s", srv.url, paths[i]);
        printf("GET %s\n", paths[i]);
        status |= get_and_print(url);
    }
    http_server_stop(&srv);
    return status;
}

struct run {
    const char *url; // NULL: self-test
    int status;      // the exit status
};

static void main_goroutine(void *arg)
{
    struct run *r = arg;
    r->status = r->url ? get_and_print(r->url) : selftest();
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: http_get URL | http_get --selftest\n");
        return 2;
    }
    struct run r = {strcmp(argv[1], "--selftest") == 0 ? NULL : argv[1], 0};
    return rill_run(main_goroutine, &r, NULL) == 0 ? r.status : 1;
}
