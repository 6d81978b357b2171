/*
 * select_default.c - the guide's "Select with Default Case".
 *
 * Go's default case is a deadline of 0: rill_select() then never blocks and returns -EAGAIN
 * when no case is ready. Nobody sends on ch, so that is what happens here.
 */
#include <errno.h>
#include <rill.h>
#include <stdio.h>

RILL_CHAN_DECLARE(strchan, const char *);

static void main_goroutine(void *arg)
{
    (void)arg;
    struct strchan ch = strchan_make(0);
    const char *message;

    struct rill_case cases[] = {strchan_recv_case(ch.rx, &message)};
    switch (rill_select(cases, 1, 0)) {
    case 0: // case message := <-ch
        printf("Received: %s\n", message);
        break;
    case -EAGAIN: // default
        printf("No message available\n");
        break;
    }

    strchan_free(ch);
}

int main(void)
{
    return rill_run(main_goroutine, NULL, NULL) == 0 ? 0 : 1;
}
