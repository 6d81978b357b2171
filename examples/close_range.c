/*
 * close_range.c - the guide's "Closing Channels" and "When to Close Channels".
 *
 * Go's "for v := range ch" is "while (intchan_recv(rx, &v) == 0)": a receive returns 0 for a
 * value and -EPIPE once the channel is closed and drained. The -EPIPE receive also zero-fills
 * v, which is Go's "value, ok := <-ch" giving 0, false. C has no defer, so the producer closes
 * the channel as its last statement. The guide's 100 ms production delay is 10 ms here.
 *
 * The consumer sees the channel closed while the producer may still be returning from
 * intchan_close(), so main waits for the producer before it frees the channel.
 */
#include <errno.h>
#include <rill.h>
#include <stdbool.h>
#include <stdio.h>

RILL_CHAN_DECLARE(intchan, int);

static void close_and_range(void)
{
    struct intchan ch = intchan_make(3);
    int value;

    for (int i = 1; i <= 3; i++)
        intchan_send(ch.tx, &i);
    intchan_close(ch.tx); // close(ch)

    while (intchan_recv(ch.rx, &value) == 0) // can still receive from a closed channel
        printf("Received: %d\n", value);

    bool ok = intchan_recv(ch.rx, &value) != -EPIPE; // value, ok := <-ch
    printf("Value: %d, OK: %s\n", value, ok ? "true" : "false");

    intchan_free(ch);
}

static struct rill_waitgroup done = RILL_WAITGROUP_INIT;

static void producer(void *arg)
{
    struct intchan_send ch = *(struct intchan_send *)arg;

    for (int i = 1; i <= 5; i++) {
        intchan_send(ch, &i);
        rill_sleep(RILL_MS(10));
    }
    intchan_close(ch); // Go: defer close(ch)
    rill_wg_done(&done);
}

static void consumer(struct intchan_recv ch)
{
    int value;

    while (intchan_recv(ch, &value) == 0) // range exits when the channel is closed
        printf("Consumed: %d\n", value);
    printf("Consumer finished\n");
}

static void main_goroutine(void *arg)
{
    (void)arg;
    close_and_range();

    struct intchan ch = intchan_make(0);
    rill_wg_add(&done, 1);
    rill_go(producer, &ch.tx, sizeof ch.tx);
    consumer(ch.rx); // runs in the main goroutine
    rill_wg_wait(&done);
    intchan_free(ch);
}

int main(void)
{
    return rill_run(main_goroutine, NULL, NULL) == 0 ? 0 : 1;
}
