/*
 * recv_on_send.c - receiving on a send-only handle must not compile, as Go rejects "<-ch" on
 * a chan<- T ("cannot receive from send-only channel").
 *
 * examples/cmake/compile_fail.cmake compiles this file twice: without RILL_MISUSE it must
 * compile (so the file itself is sound), with RILL_MISUSE it must fail.
 */
#include <rill.h>

RILL_CHAN_DECLARE(intchan, int);

int sender(struct intchan_send tx);

int sender(struct intchan_send tx)
{
    int v = 1;
#ifdef RILL_MISUSE
    return intchan_recv(tx, &v); /* a struct intchan_send where a struct intchan_recv goes */
#else
    return intchan_send(tx, &v);
#endif
}
