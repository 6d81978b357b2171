/*
 * scraper.c - the guide's "Real-World Example 1: Web Scraper": one goroutine per URL, each
 * sending a ScrapeResult on a buffered results channel, and main collecting them in a select
 * against an overall timeout.
 *
 * The structure is Go's; the differences:
 *   - The "sites" are paths on a server goroutine in this process (examples/net/http_server.c)
 *     so that the test needs no internet and its output is fixed: three pages, one page that
 *     answers after 3 s, and one path that does not exist (404).
 *   - http.Get becomes http_get() (examples/net/http_client.c) with a deadline of 1 s, which is
 *     Go's http.Client{Timeout: time.Second}: the slow page fails with -ETIMEDOUT. The guide's
 *     plain http.Get has no timeout, so there one slow site holds its goroutine until the
 *     collector's 10 s time.After gives up on it.
 *   - The deferred recover() is rill_recover() around the fetch. No C cleanup runs between a
 *     panic and its recover, so a panic inside http_get would leak its socket: recover close to
 *     the code that can panic (examples/recover.c shows the pattern on its own).
 *   - main waits for every scraper before freeing the results channel, and stops the server.
 * As in Go, a 404 is a response, not an error, and the final line counts the results collected,
 * failures included.
 */
#include "net/net.h"

#include <errno.h>
#include <rill.h>
#include <stdio.h>
#include <string.h>

#define REQUEST_TIMEOUT RILL_SEC(1) // http.Client.Timeout
#define SLOW_PAGE_DELAY RILL_SEC(3) // the slow site, well past the timeout

struct scrape_result {
    char url[64];
    int status;
    char error[96]; // Go's Error: empty when there is none
    size_t size;
};

RILL_CHAN_DECLARE(resultchan, struct scrape_result);

static void fetch(void *arg) // the part that Go's deferred recover guards
{
    struct scrape_result *r = arg;
    struct http_response resp;

    int rc = http_get(r->url, rill_now() + REQUEST_TIMEOUT, &resp); // resp, err := http.Get(url)
    if (rc < 0) {
        snprintf(r->error, sizeof r->error, "%s", strerror(-rc));
        return;
    }
    r->status = resp.status; // io.ReadAll(resp.Body): http_get has read it all
    r->size = resp.body_len;
}

struct scrape_args {
    char url[64];
    struct resultchan_send results; // results chan<- ScrapeResult
    struct rill_waitgroup *done;
};

static void scrape_url(void *arg)
{
    struct scrape_args *a = arg;
    struct scrape_result r = {.status = 0};
    char msg[64];

    snprintf(r.url, sizeof r.url, "%s", a->url);
    if (rill_recover(fetch, &r, msg, sizeof msg) == -ECANCELED) // if r := recover(); r != nil
        snprintf(r.error, sizeof r.error, "panic: %s", msg);
    resultchan_send(a->results, &r);
    rill_wg_done(a->done);
}

// Collect results with timeout; like Go's main, give up (return) when the timeout fires.
static void collect(struct resultchan_recv results, int n)
{
    struct rill_chan *timeout = rill_after(RILL_SEC(10)); // timeout := time.After(10 * time.Second)
    int collected = 0;

    while (collected < n) {
        struct scrape_result r;
        struct rill_case cases[] = {
            resultchan_recv_case(results, &r), // case result := <-results:
            {timeout, RILL_RECV, NULL, 0},     // case <-timeout:
        };
        if (rill_select(cases, 2, RILL_FOREVER) == 1) {
            printf("⏰ Timeout! Only got %d/%d results\n", collected, n);
            rill_chan_free(timeout);
            return;
        }
        if (r.error[0])
            printf("❌ %s: %s\n", r.url, r.error);
        else
            printf("✅ %s: Status %d, Size %zu bytes\n", r.url, r.status, r.size);
        collected++;
    }
    printf("🎉 Scraped %d URLs successfully\n", collected);
    rill_chan_free(timeout);
}

// ---- the local "internet" ----

static char page[16384]; // every page's bytes: the first `size` of these

static const struct site {
    const char *path;
    size_t size;
    int64_t delay;
} sites[] = {
    {"/golang.org", 9000, 0},
    {"/github.com", 14000, 0},
    {"/stackoverflow.com", 5000, 0},
    {"/reddit.com", 7000, SLOW_PAGE_DELAY},
    // "/news.ycombinator.com" is not among them: 404
};

static void serve_site(const char *path, struct http_reply *w, void *arg)
{
    (void)arg;
    for (size_t i = 0; i < sizeof sites / sizeof sites[0]; i++) {
        if (strcmp(path, sites[i].path) == 0) {
            w->content_type = "text/html";
            w->body = page;
            w->body_len = sites[i].size;
            w->delay = sites[i].delay;
            return;
        }
    }
    w->status = 404;
    snprintf(w->buf, sizeof w->buf, "404 page not found\n");
}

static void main_goroutine(void *arg)
{
    int *status = arg;
    static const char *const paths[] = {
        "/golang.org", "/github.com", "/stackoverflow.com", "/reddit.com", "/news.ycombinator.com",
    };
    enum { n = sizeof paths / sizeof paths[0] };
    struct http_server srv;
    struct rill_waitgroup scrapers = RILL_WAITGROUP_INIT;

    for (size_t i = 0; i < sizeof page; i++)
        page[i] = "<p>scraped by rill</p>\n"[i % 23];
    int rc = http_server_start(&srv, serve_site, NULL);
    if (rc < 0) {
        printf("server: %s\n", strerror(-rc));
        *status = 1;
        return;
    }

    struct resultchan results = resultchan_make(n); // make(chan ScrapeResult, len(urls))
    for (int i = 0; i < n; i++) {
        struct scrape_args a = {"", results.tx, &scrapers};
        snprintf(a.url, sizeof a.url, "%s%s", srv.url, paths[i]);
        rill_wg_add(&scrapers, 1);
        rill_go(scrape_url, &a, sizeof a); // go scrapeURL(url, results)
    }
    collect(results.rx, n);

    rill_wg_wait(&scrapers); // each is bounded by its REQUEST_TIMEOUT
    resultchan_free(results);
    http_server_stop(&srv);
}

int main(void)
{
    int status = 0;
    return rill_run(main_goroutine, &status, NULL) == 0 ? status : 1;
}
