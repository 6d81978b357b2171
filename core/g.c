/*
 * g.c - goroutines: creation, the C side of the context switch, entry and the blocked report.
 * Design: docs/DESIGN.md "Goroutines" and "Context switch".
 *
 * Invariants:
 *  1. A G's saved sp is non-NULL exactly while the G is suspended and nobody has started to
 *     enter it. The thread leaving a G publishes sp as the last access to its stack
 *     (switch.S); the thread entering it waits until sp is non-NULL, then clears it. So a G
 *     that another thread readies before it has finished switching out is never entered
 *     early. The wait runs after the leaving context is published, on the worker's spin
 *     stack, so two workers that each enter the G the other is leaving cannot wait on each
 *     other.
 *  2. A new G's stack holds its copied argument at the top and, below it, a save area shaped
 *     exactly like the one rilli_ctx_switch() leaves, returning into rilli_ctx_entry.
 *  3. A G_DEAD G is still on its stack until the switch away from it completes; the landing
 *     context recycles it (rilli_sched_after_switch), never the G itself.
 *
 * Rejected: ucontext (saves the signal mask with a syscall per switch); switching every G
 * through the scheduler stack as Go's mcall does (two switches per handoff instead of one;
 * the spin of invariant 1 makes the direct switch safe).
 */
#include <errno.h>
#include <execinfo.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/arch/ctx.h"
#include "core/core.h"
#include "sched/sched.h"

#ifdef RILL_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef RILL_TSAN
#include <sanitizer/tsan_interface.h>
#endif

_Static_assert(RILL_CTX_FRAME % 16 == 0, "ctx save area must keep 16-byte stack alignment");
_Static_assert(RILL_CTX_OFF_RET + 8 == RILL_CTX_FRAME, "return address ends the save area");

struct rilli_g *rilli_g_new(struct rilli_p *p, void (*fn)(void *), const void *arg,
                            size_t arg_size, int *err)
{
    if (arg_size > rilli_stack_size() / 4) {
        *err = -EINVAL;
        return NULL;
    }
    struct rilli_g *g = rilli_stack_get(p);
    if (!g) {
        *err = -ENOMEM;
        return NULL;
    }
    /* relaxed: ids only need to be unique, not ordered with anything. */
    g->id = rill_faa_relaxed(&rilli_sched.next_id, 1);
    g->fn = fn;
    g->main = 0;
    g->recover = NULL;
    g->ctx = NULL;
    g->wait_reason = NULL;
    g->wait_obj = NULL;
    g->asan_fake = NULL;
    char *top = g->stack_hi;
    if (arg_size > 0) {
        top -= (arg_size + 15) & ~(size_t)15;
        memcpy(top, arg, arg_size);
        g->arg = top;
    } else {
        g->arg = (void *)arg;
    }
    char *sp = top - RILL_CTX_FRAME;
    uint32_t mxcsr = RILL_CTX_MXCSR_DEFAULT;
    uint16_t fpucw = RILL_CTX_FPUCW_DEFAULT;
    void *entry = (void *)rilli_ctx_entry;
    memset(sp, 0, RILL_CTX_FRAME);
    memcpy(sp + RILL_CTX_OFF_MXCSR, &mxcsr, sizeof(mxcsr));
    memcpy(sp + RILL_CTX_OFF_FPUCW, &fpucw, sizeof(fpucw));
    memcpy(sp + RILL_CTX_OFF_R12, &g, sizeof(g));
    memcpy(sp + RILL_CTX_OFF_RET, &entry, sizeof(entry));
    g->sp = sp; /* published to other threads by the run-queue push (release) */
    g->status = G_RUNNABLE;
    return g;
}

void rilli_g_main(struct rilli_g *g, struct rilli_p *p)
{
    rilli_sched_after_switch(g, p);
    g->fn(g->arg);
    rilli_goexit();
    __builtin_unreachable();
}

/* Walk a parked G's frame-pointer chain from its save area. Runtime stopped. */
static int g_backtrace(const struct rilli_g *g, void **pcs, int max)
{
    const char *sp = g->sp;
    int n = 0;
    if (!sp || sp < g->stack_lo || sp >= g->stack_hi)
        return 0;
    const uintptr_t *fp;
    memcpy(&pcs[n++], sp + RILL_CTX_OFF_RET, sizeof(void *));
    memcpy(&fp, sp + RILL_CTX_OFF_RBP, sizeof(fp));
    while (n < max && (const char *)fp >= g->stack_lo && (const char *)fp < g->stack_hi - 16) {
        if (!fp[1])
            break;
        pcs[n++] = (void *)fp[1];
        if ((const uintptr_t *)fp[0] <= fp)
            break;
        fp = (const uintptr_t *)fp[0];
    }
    return n;
}

static void g_report_one(struct rilli_g *g, void *arg)
{
    int *count = arg;
    /* relaxed: all Ps idle; a stale status only mislabels */
    if (rill_load_relaxed(&g->status) != G_WAITING)
        return;
    void *pcs[32];
    char **sym = backtrace_symbols((void *[]){(void *)g->fn}, 1);
    fprintf(stderr, "goroutine %llu [%s %p]: started at %s\n", (unsigned long long)g->id,
            g->wait_reason ? g->wait_reason : "waiting", g->wait_obj, sym ? sym[0] : "?");
    free(sym);
    int n = g_backtrace(g, pcs, 32);
    fflush(stderr);
    if (n > 0)
        backtrace_symbols_fd(pcs, n, 2);
    (*count)++;
}

int rilli_g_report_blocked(void)
{
    int count = 0;
    rilli_stack_foreach_g(g_report_one, &count);
    return count;
}
