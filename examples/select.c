/*
 * select.c - the guide's "Channel Select Statement": wait on two channels, take the first.
 *
 * A Go select is an array of struct rill_case handed to rill_select(), which returns the index
 * of the case it performed. strchan_recv_case() builds a typed receive case. The guide's
 * goroutines send after 100 and 200 ms; ours after 10 and 100 ms.
 *
 * Go's main returns with goroutine 2 still waiting to send. Here main takes that message too
 * and waits for both goroutines, so that it can free the channels (see unbuffered.c).
 */
#include <rill.h>
#include <stdio.h>

RILL_CHAN_DECLARE(strchan, const char *);

static struct rill_waitgroup done = RILL_WAITGROUP_INIT;

struct delayed_send {
    struct strchan_send ch;
    int64_t delay;
    const char *msg;
};

static void send_later(void *arg)
{
    struct delayed_send *d = arg;
    rill_sleep(d->delay);
    strchan_send(d->ch, &d->msg);
    rill_wg_done(&done);
}

static void main_goroutine(void *arg)
{
    (void)arg;
    struct strchan ch1 = strchan_make(0), ch2 = strchan_make(0);
    struct delayed_send g1 = {ch1.tx, RILL_MS(10), "Message from ch1"};
    struct delayed_send g2 = {ch2.tx, RILL_MS(100), "Message from ch2"};
    const char *msg1, *msg2;

    rill_wg_add(&done, 2);
    rill_go(send_later, &g1, sizeof g1); // goroutine 1
    rill_go(send_later, &g2, sizeof g2); // goroutine 2

    // select waits for the first available channel
    struct rill_case cases[] = {
        strchan_recv_case(ch1.rx, &msg1), // case msg1 := <-ch1
        strchan_recv_case(ch2.rx, &msg2), // case msg2 := <-ch2
    };
    int first = rill_select(cases, 2, RILL_FOREVER);
    switch (first) {
    case 0:
        printf("Received from ch1: %s\n", msg1);
        break;
    case 1:
        printf("Received from ch2: %s\n", msg2);
        break;
    }

    // Not in the guide: take the other message, wait for both senders, free the channels.
    strchan_recv(first == 0 ? ch2.rx : ch1.rx, NULL);
    rill_wg_wait(&done);
    strchan_free(ch1);
    strchan_free(ch2);
}

int main(void)
{
    return rill_run(main_goroutine, NULL, NULL) == 0 ? 0 : 1;
}
