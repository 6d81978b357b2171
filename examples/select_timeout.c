/*
 * select_timeout.c - the guide's "Select with Timeout", written both ways rill allows.
 *
 * 1. As in Go: rill_after(d) is time.After(d), a channel that receives once after d, used as
 *    one more case. rill_chan_free() on it stops the timer if it has not fired.
 * 2. With a deadline: rill_select() takes an absolute deadline and returns -ETIMEDOUT once it
 *    passes, with no timer channel to make or free.
 * The guide waits 2 s; we wait 20 ms and check that at least that much time went by.
 */
#include <errno.h>
#include <rill.h>
#include <stdio.h>

RILL_CHAN_DECLARE(strchan, const char *);

static void with_time_after(struct strchan ch)
{
    const char *message;
    int64_t start = rill_now(); /* before the timer starts counting */
    struct rill_chan *timeout = rill_after(RILL_MS(20)); // <-time.After(20 * time.Millisecond)

    struct rill_case cases[] = {
        strchan_recv_case(ch.rx, &message),
        {timeout, RILL_RECV, NULL, 0},
    };
    switch (rill_select(cases, 2, RILL_FOREVER)) {
    case 0:
        printf("Received: %s\n", message);
        break;
    case 1:
        printf("Timeout! No message received (after >= 20 ms: %s)\n",
               rill_now() - start >= RILL_MS(20) ? "yes" : "no");
        break;
    }
    rill_chan_free(timeout);
}

static void with_deadline(struct strchan ch)
{
    const char *message;
    int64_t start = rill_now();

    struct rill_case cases[] = {strchan_recv_case(ch.rx, &message)};
    switch (rill_select(cases, 1, start + RILL_MS(20))) {
    case 0:
        printf("Received: %s\n", message);
        break;
    case -ETIMEDOUT:
        printf("Deadline passed! No message received (after >= 20 ms: %s)\n",
               rill_now() - start >= RILL_MS(20) ? "yes" : "no");
        break;
    }
}

static void main_goroutine(void *arg)
{
    (void)arg;
    struct strchan ch = strchan_make(0);

    with_time_after(ch);
    with_deadline(ch);

    strchan_free(ch);
}

int main(void)
{
    return rill_run(main_goroutine, NULL, NULL) == 0 ? 0 : 1;
}
