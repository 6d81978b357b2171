/*
 * recover.c - panic and recover, as the guide's web scraper uses them: each worker runs its
 * risky part under recover, so that a panic becomes an error result instead of killing the
 * process.
 *
 * Go:  defer func() { if r := recover(); r != nil { results <- errorResult(r) } }()
 * rill: rc = rill_recover(fn, arg, msg, sizeof msg);  // -ECANCELED: fn panicked, msg says why
 *
 * rill_recover(fn, arg, ...) runs fn(arg) and returns 0 if it returns, or -ECANCELED with the
 * panic's message if fn, or anything it calls on this goroutine, calls rill_panic(). No C
 * cleanup runs between the panic and the recover, so fn should own nothing it has to free.
 * The scraper itself waits for network I/O in rill (see docs/GUIDE.md); here the "pages" are
 * strings, and the one that cannot be parsed panics.
 */
#include <errno.h>
#include <rill.h>
#include <stdio.h>
#include <string.h>

struct page {
    int id;
    const char *body;
};

struct scrape_result {
    int id;
    int size;
    char error[96]; // empty when the page was scraped
};

RILL_CHAN_DECLARE(resultchan, struct scrape_result);

struct parse {
    const char *body;
    int size;
};

static void parse_page(void *arg) // the risky part: may panic
{
    struct parse *p = arg;
    if (strncmp(p->body, "<html>", 6) != 0)
        rill_panic("not an HTML page: %.12s", p->body);
    p->size = (int)strlen(p->body);
}

struct scrape_args {
    struct page page;
    struct resultchan_send results;
    struct rill_waitgroup *done;
};

static void scrape(void *arg)
{
    struct scrape_args *a = arg;
    struct scrape_result r = {.id = a->page.id};
    struct parse p = {a->page.body, 0};
    char msg[64];

    int rc = rill_recover(parse_page, &p, msg, sizeof msg);
    if (rc == -ECANCELED)
        snprintf(r.error, sizeof r.error, "panic: %s", msg);
    else
        r.size = p.size;
    resultchan_send(a->results, &r);
    rill_wg_done(a->done);
}

static void scrape_all(void)
{
    static const struct page pages[] = {
        {1, "<html>one</html>"},
        {2, "%PDF-1.7 binary stream"},
        {3, "<html>three</html>"},
    };
    enum { n = sizeof pages / sizeof pages[0] };
    struct resultchan results = resultchan_make(n);
    struct rill_waitgroup done = RILL_WAITGROUP_INIT;

    for (int i = 0; i < n; i++) {
        struct scrape_args a = {pages[i], results.tx, &done};
        rill_wg_add(&done, 1);
        rill_go(scrape, &a, sizeof a);
    }
    for (int i = 0; i < n; i++) {
        struct scrape_result r;
        resultchan_recv(results.rx, &r);
        if (r.error[0])
            printf("page %d: error: %s\n", r.id, r.error);
        else
            printf("page %d: %d bytes\n", r.id, r.size);
    }
    rill_wg_wait(&done);
    resultchan_free(results);
}

// Recovers nest: a panic goes to the innermost rill_recover of its goroutine.
static void inner_panics(void *arg)
{
    (void)arg;
    rill_panic("inner failure %d", 1);
}

static void outer_panics(void *arg)
{
    char msg[64];
    int rc = rill_recover(inner_panics, arg, msg, sizeof msg);
    printf("inner recover: %s, \"%s\"\n", rc == -ECANCELED ? "-ECANCELED" : "?", msg);
    rill_panic("outer failure %d", 2);
}

static void returns(void *arg)
{
    (void)arg;
}

static void long_panic(void *arg)
{
    (void)arg;
    rill_panic("a message longer than the buffer");
}

static void nesting_and_edges(void)
{
    char msg[64] = "";
    int rc = rill_recover(outer_panics, NULL, msg, sizeof msg);
    printf("outer recover: %s, \"%s\"\n", rc == -ECANCELED ? "-ECANCELED" : "?", msg);

    rc = rill_recover(returns, NULL, msg, sizeof msg);
    printf("no panic: rill_recover returned %d\n", rc);

    char small[8];
    rc = rill_recover(long_panic, NULL, small, sizeof small);
    printf("truncated: %s, \"%s\"\n", rc == -ECANCELED ? "-ECANCELED" : "?", small);

    rc = rill_recover(long_panic, NULL, NULL, 0);
    printf("no buffer: %s\n", rc == -ECANCELED ? "-ECANCELED" : "?");
}

static void main_goroutine(void *arg)
{
    (void)arg;
    scrape_all();
    nesting_and_edges();
}

int main(void)
{
    return rill_run(main_goroutine, NULL, NULL) == 0 ? 0 : 1;
}
