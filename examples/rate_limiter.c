/*
 * rate_limiter.c - the guide's "Real-World Example 2: Rate-Limited API Client": a token bucket
 * made of a buffered channel that a ticker goroutine refills, and an API client that takes a
 * token before each call and runs the calls on one goroutine each.
 *
 * The structure is Go's; the differences:
 *   - The API call is real: GET /process/<data> from a server goroutine in this process
 *     (examples/net/http_server.c), where the guide sleeps 100 ms to pretend. Each call has a
 *     5 s deadline, Go's http.Client{Timeout: 5 * time.Second}.
 *   - 5 requests per second instead of 2, so the test takes 1 s instead of 4: five tokens at
 *     once, then one per 200 ms tick.
 *   - Stop() really stops the refill goroutine. In the guide, ticker.Stop() stops the ticks
 *     but not the `for range rl.ticker.C` loop, which waits for ever (a goroutine leak); here
 *     the loop also selects on a quit channel, and stop() closes it, waits for the goroutine
 *     and frees the channels.
 *   - C has no closures: ProcessRequestsAsync's WaitGroup lives in the client, and each
 *     goroutine gets its request and channels in a struct that rill_go() copies.
 *   - `start` is taken before the limiter is made, so the last response cannot come sooner
 *     than 5 ticks after it, and the program can say so: "in >= 1000 ms".
 */
#include "net/net.h"

#include <errno.h>
#include <rill.h>
#include <stdio.h>
#include <string.h>

// ---- Rate limiter using a buffered channel ----

struct rate_limiter {
    struct rill_chan *tokens; // chan struct{}, capacity rps
    struct rill_chan *ticker; // the ticker's channel: rill_tick(time.Second / rps)
    struct rill_chan *quit;   // closed by stop(): the refill goroutine returns
    struct rill_waitgroup refilling;
};

static void refill(void *arg) // go func() { for range rl.ticker.C { ... } }()
{
    struct rate_limiter *rl = arg;
    for (;;) {
        struct rill_case cases[] = {
            {rl->ticker, RILL_RECV, NULL, 0},
            {rl->quit, RILL_RECV, NULL, 0},
        };
        if (rill_select(cases, 2, RILL_FOREVER) == 1)
            break;
        rill_chan_try_send(rl->tokens, NULL); // select { case tokens <- struct{}{}: default: }
    }
    rill_wg_done(&rl->refilling);
}

static int rate_limiter_init(struct rate_limiter *rl, int rps) // NewRateLimiter
{
    *rl = (struct rate_limiter){.refilling = RILL_WAITGROUP_INIT};
    rl->tokens = rill_chan_make(0, (size_t)rps);
    rl->ticker = rill_tick(RILL_SEC(1) / rps);
    rl->quit = rill_chan_make(0, 0);
    if (!rl->tokens || !rl->ticker || !rl->quit)
        goto err_free;
    for (int i = 0; i < rps; i++) // fill initial tokens
        rill_chan_send(rl->tokens, NULL);
    rill_wg_add(&rl->refilling, 1);
    if (rill_go(refill, rl, 0) < 0) {
        rill_wg_done(&rl->refilling);
        goto err_free;
    }
    return 0;

err_free:
    rill_chan_free(rl->quit);
    rill_chan_free(rl->ticker);
    rill_chan_free(rl->tokens);
    return -ENOMEM;
}

static void rate_limiter_wait(struct rate_limiter *rl) // <-rl.tokens
{
    rill_chan_recv(rl->tokens, NULL);
}

static void rate_limiter_stop(struct rate_limiter *rl)
{
    rill_chan_close(rl->quit);
    rill_wg_wait(&rl->refilling);
    rill_chan_free(rl->quit);
    rill_chan_free(rl->ticker); // ticker.Stop()
    rill_chan_free(rl->tokens);
}

// ---- API client ----

struct api_request {
    int id;
    char data[32];
};

struct api_response {
    int request_id;
    char result[64];
    char error[64]; // Go's Error: empty when there is none
};

RILL_CHAN_DECLARE(responsechan, struct api_response);

struct api_client {
    struct rate_limiter rate_limiter;
    const char *base_url;           // the API server
    struct rill_waitgroup inflight; // ProcessRequestsAsync's wg
};

static struct api_response process_request(struct api_client *api, const struct api_request *req)
{
    struct api_response resp = {.request_id = req->id};
    struct http_response http;
    char url[96];

    rate_limiter_wait(&api->rate_limiter); // wait for rate limit token

    printf("Processing request %d: %s\n", req->id, req->data);
    snprintf(url, sizeof url, "%s/process/%s", api->base_url, req->data);
    int rc = http_get(url, rill_now() + RILL_SEC(5), &http);
    if (rc < 0)
        snprintf(resp.error, sizeof resp.error, "%s", strerror(-rc));
    else
        snprintf(resp.result, sizeof resp.result, "%.*s", (int)sizeof resp.result - 1, http.body);
    return resp;
}

struct request_args {
    struct api_client *api;
    struct api_request req;
    struct responsechan_send responses;
};

static void process_one(void *arg) // go func(r APIRequest) { ... }(req)
{
    struct request_args *a = arg;
    struct api_response response = process_request(a->api, &a->req);
    responsechan_send(a->responses, &response);
    rill_wg_done(&a->api->inflight); // defer wg.Done()
}

struct closer_args {
    struct api_client *api;
    struct responsechan_send responses;
};

static void close_when_done(void *arg) // go func() { wg.Wait(); close(responses) }()
{
    struct closer_args *a = arg;
    rill_wg_wait(&a->api->inflight);
    responsechan_close(a->responses);
}

static struct responsechan_recv process_requests_async(struct api_client *api,
                                                       const struct api_request *requests, int n)
{
    struct responsechan responses = responsechan_make((size_t)n);

    for (int i = 0; i < n; i++) {
        struct request_args a = {api, requests[i], responses.tx};
        rill_wg_add(&api->inflight, 1);
        rill_go(process_one, &a, sizeof a);
    }
    struct closer_args c = {api, responses.tx};
    rill_go(close_when_done, &c, sizeof c);
    return responses.rx;
}

// ---- the API server ----

static void serve_api(const char *path, struct http_reply *w, void *arg)
{
    (void)arg;
    const char *prefix = "/process/";
    if (strncmp(path, prefix, strlen(prefix)) == 0) {
        snprintf(w->buf, sizeof w->buf, "Processed: %s", path + strlen(prefix));
    } else {
        w->status = 404;
        snprintf(w->buf, sizeof w->buf, "404 page not found\n");
    }
}

enum { RPS = 5, NREQUESTS = 10 };

static void run_client(const char *base_url)
{
    struct api_client client = {.base_url = base_url, .inflight = RILL_WAITGROUP_INIT};
    struct api_request requests[NREQUESTS];

    int64_t start = rill_now();
    if (rate_limiter_init(&client.rate_limiter, RPS) < 0) { // client := NewAPIClient(RPS)
        printf("rate limiter: out of memory\n");
        return;
    }
    for (int i = 0; i < NREQUESTS; i++) {
        requests[i].id = i + 1;
        snprintf(requests[i].data, sizeof requests[i].data, "task-%d", i + 1);
    }
    printf("Starting to process %d requests (rate limited to %d/sec)\n", NREQUESTS, RPS);

    struct responsechan_recv responses = process_requests_async(&client, requests, NREQUESTS);
    int count = 0;
    struct api_response response;
    while (responsechan_recv(responses, &response) == 0) { // for response := range responses
        count++;
        if (response.error[0])
            printf("Response %d: error: %s\n", response.request_id, response.error);
        else
            printf("Response %d: %s\n", response.request_id, response.result);
    }

    int64_t min = (int64_t)(NREQUESTS - RPS) * (RILL_SEC(1) / RPS);
    printf("Processed %d requests in >= %lld ms (%d at once, then one per %lld ms): %s\n", count,
           (long long)(min / RILL_MS(1)), RPS, (long long)(RILL_SEC(1) / RPS / RILL_MS(1)),
           rill_now() - start >= min ? "yes" : "no");
    rill_chan_free(responses.c); // closed and drained: free waits for the closer's last access
    rate_limiter_stop(&client.rate_limiter); // defer client.rateLimiter.Stop()
}

static void main_goroutine(void *arg)
{
    int *status = arg;
    struct http_server srv;

    int rc = http_server_start(&srv, serve_api, NULL);
    if (rc < 0) {
        printf("server: %s\n", strerror(-rc));
        *status = 1;
        return;
    }
    run_client(srv.url);
    http_server_stop(&srv);
}

int main(void)
{
    int status = 0;
    return rill_run(main_goroutine, &status, NULL) == 0 ? status : 1;
}
