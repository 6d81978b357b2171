/*
 * wrong_elem.c - sending a value of another type must not compile: intchan_send() takes a
 * const int *, and a const long * is an incompatible pointer (an error with -Werror, which
 * the test passes; gcc 14 and later reject it even without).
 *
 * examples/cmake/compile_fail.cmake compiles this file twice: without RILL_MISUSE it must
 * compile (so the file itself is sound), with RILL_MISUSE it must fail.
 */
#include <rill.h>

RILL_CHAN_DECLARE(intchan, int);

int send_one(struct intchan_send tx);

int send_one(struct intchan_send tx)
{
#ifdef RILL_MISUSE
    long v = 1;
#else
    int v = 1;
#endif
    return intchan_send(tx, &v);
}
