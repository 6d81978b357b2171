/*
 * directions.c - the guide's "Channel Directions".
 *
 * RILL_CHAN_DECLARE(strchan, ...) gives struct strchan_send (Go's chan<- string) and struct
 * strchan_recv (<-chan string). A struct strchan holds both ends as ch.tx and ch.rx, and
 * passing one of them is Go's implicit conversion of a chan to a directional chan. Using an
 * end the wrong way does not compile: see tests/typed_chan_misuse/.
 *
 * main waits for the sender before it frees the channel (see unbuffered.c).
 */
#include <rill.h>
#include <stdio.h>

RILL_CHAN_DECLARE(strchan, const char *);

static struct rill_waitgroup done = RILL_WAITGROUP_INIT;

// sender(ch chan<- string)
static void sender(void *arg)
{
    struct strchan_send ch = *(struct strchan_send *)arg;
    const char *msg = "Hello";

    strchan_send(ch, &msg);
    // strchan_recv(ch, &msg); // compile error: ch is send-only
    rill_wg_done(&done);
}

// receiver(ch <-chan string)
static void receiver(struct strchan_recv ch)
{
    const char *message;

    strchan_recv(ch, &message);
    printf("Received: %s\n", message);
    // strchan_send(ch, &message); // compile error: ch is receive-only
}

static void main_goroutine(void *arg)
{
    (void)arg;
    struct strchan ch = strchan_make(0);

    rill_wg_add(&done, 1);
    rill_go(sender, &ch.tx, sizeof ch.tx); // go sender(ch): only the send end goes along
    receiver(ch.rx);                       // receiver(ch)

    rill_wg_wait(&done);
    strchan_free(ch);
}

int main(void)
{
    return rill_run(main_goroutine, NULL, NULL) == 0 ? 0 : 1;
}
