/*
 * send_on_recv.c - sending on a receive-only handle must not compile, as Go rejects
 * "ch <- v" on a <-chan T ("cannot send to receive-only channel").
 *
 * examples/cmake/compile_fail.cmake compiles this file twice: without RILL_MISUSE it must
 * compile (so the file itself is sound), with RILL_MISUSE it must fail.
 */
#include <rill.h>

RILL_CHAN_DECLARE(intchan, int);

int receiver(struct intchan_recv rx);

int receiver(struct intchan_recv rx)
{
    int v = 1;
#ifdef RILL_MISUSE
    return intchan_send(rx, &v); /* a struct intchan_recv where a struct intchan_send goes */
#else
    return intchan_recv(rx, &v);
#endif
}
