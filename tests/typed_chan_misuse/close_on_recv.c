/*
 * close_on_recv.c - closing a receive-only handle must not compile, as Go rejects close() on
 * a <-chan T ("cannot close receive-only channel"): only the sending side closes.
 *
 * examples/cmake/compile_fail.cmake compiles this file twice: without RILL_MISUSE it must
 * compile (so the file itself is sound), with RILL_MISUSE it must fail.
 */
#include <rill.h>

RILL_CHAN_DECLARE(intchan, int);

int drain(struct intchan_recv rx);

int drain(struct intchan_recv rx)
{
    int v;
    while (intchan_recv(rx, &v) == 0)
        ;
#ifdef RILL_MISUSE
    return intchan_close(rx); /* a struct intchan_recv where a struct intchan_send goes */
#else
    return 0;
#endif
}
