/*
 * unbuffered.c - the guide's "Unbuffered Channels (Synchronous)".
 *
 * An unbuffered channel is a rendezvous: strchan_send() returns only once main has the value,
 * so "Goroutine: Sent data" can never print before main has started to receive.
 *
 * C has no garbage collector: main frees the channel, and may do so only once the goroutine
 * is done with it (rill_chan_free's contract), so it waits on a WaitGroup first. Go's main
 * would just return, possibly before the goroutine's last line; here that line always prints.
 */
#include <rill.h>
#include <stdio.h>

RILL_CHAN_DECLARE(strchan, const char *); // chan string

struct hello_args {
    struct strchan_send ch;
    struct rill_waitgroup *done;
};

static void send_hello(void *arg)
{
    struct hello_args *a = arg;
    const char *msg = "Hello from goroutine";

    printf("Goroutine: About to send\n");
    strchan_send(a->ch, &msg); // ch <- "Hello from goroutine"
    printf("Goroutine: Sent data\n");
    rill_wg_done(a->done);
}

static void main_goroutine(void *arg)
{
    (void)arg;
    struct strchan ch = strchan_make(0); // ch := make(chan string)
    struct rill_waitgroup done = RILL_WAITGROUP_INIT;
    struct hello_args args = {ch.tx, &done};
    const char *message;

    rill_wg_add(&done, 1);
    rill_go(send_hello, &args, sizeof args); // go func() { ... }()

    printf("Main: About to receive\n");
    strchan_recv(ch.rx, &message); // message := <-ch
    printf("Main: Received: %s\n", message);

    rill_wg_wait(&done); // the goroutine no longer uses ch
    strchan_free(ch);
}

int main(void)
{
    return rill_run(main_goroutine, NULL, NULL) == 0 ? 0 : 1;
}
