/*
 * buffered.c - the guide's "Buffered Channels (Asynchronous)".
 *
 * Two sends fit in a buffer of two without a receiver. The guide only comments out the third
 * send ("Would deadlock!"); we try it with strchan_try_send(), which says -EAGAIN instead of
 * blocking. (A blocking third send would hang main, and rill_run() would return -EDEADLK,
 * Go's "all goroutines are asleep".)
 */
#include <errno.h>
#include <rill.h>
#include <stdio.h>

RILL_CHAN_DECLARE(strchan, const char *);

static void main_goroutine(void *arg)
{
    (void)arg;
    struct strchan ch = strchan_make(2); // buffer size 2
    const char *first = "First", *second = "Second", *third = "Third", *got;

    // These sends don't block because the buffer has space.
    strchan_send(ch.tx, &first);
    strchan_send(ch.tx, &second);
    printf("Sent two messages\n");

    if (strchan_try_send(ch.tx, &third) == -EAGAIN)
        printf("Third would block: buffer full (len %zu, cap %zu)\n", strchan_len(ch),
               strchan_cap(ch));

    strchan_recv(ch.rx, &got);
    printf("Received: %s\n", got); // "First"
    strchan_recv(ch.rx, &got);
    printf("Received: %s\n", got); // "Second"

    strchan_free(ch);
}

int main(void)
{
    return rill_run(main_goroutine, NULL, NULL) == 0 ? 0 : 1;
}
