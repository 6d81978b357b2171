/*
 * perf_stacks_target.c - a workload for tests/perf_stacks.sh: goroutines that burn CPU in a
 * known leaf function and park on channels in between, so perf samples land both in
 * goroutine code and across context switches.
 */
#include <stdio.h>

#include "rill.h"

static volatile unsigned long sink;

__attribute__((noinline)) static void perf_tick(unsigned long x)
{
    sink = x;
}

/* Calls perf_tick inside its loop, so it sets up its frame pointer before the loop even in
 * builds that omit it in leaf functions, shrink-wrap the prologue or turn a final call into a
 * tail jump (-O3): the frame-pointer unwinder would otherwise skip its caller. */
__attribute__((noinline)) static void perf_leaf(void)
{
    unsigned long x = sink;
    for (int i = 0; i < 20000; i++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        if ((i & 4095) == 4095)
            perf_tick(x);
    }
}

__attribute__((noinline)) static void perf_goroutine(void *arg)
{
    struct rill_chan **c = arg;
    int v;
    while (rill_chan_recv(c[0], &v) == 0) {
        perf_leaf();
        rill_chan_send(c[1], &v);
    }
}

static void perf_main(void *unused)
{
    (void)unused;
    struct rill_chan *c[2] = {rill_chan_make(sizeof(int), 0), rill_chan_make(sizeof(int), 0)};
    rill_go(perf_goroutine, c, sizeof c);
    int64_t end = rill_now() + RILL_MS(800);
    for (int i = 0; rill_now() < end; i++) {
        rill_chan_send(c[0], &i);
        rill_chan_recv(c[1], &i);
    }
    rill_chan_close(c[0]);
    rill_sleep(RILL_MS(5));
    rill_chan_free(c[0]);
    rill_chan_free(c[1]);
}

int main(void)
{
    int rc = rill_run(perf_main, NULL, NULL);
    printf("sink=%lu\n", sink);
    return rc == 0 ? 0 : 1;
}
