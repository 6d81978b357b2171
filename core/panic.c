/*
 * panic.c - fatal errors: rill_throw() for broken invariants, rill_panic()/rill_recover()
 * (Go's panic and recover), and the SIGSEGV handler that turns a hit on a goroutine's guard
 * page into "goroutine N: stack overflow".
 *
 * Recover is a sigsetjmp frame on the goroutine's own stack, linked from g->recover; a panic
 * siglongjmps to the innermost one. The jump never leaves the goroutine's stack, so it is
 * valid even if the goroutine moved to another worker thread in between (the jmp_buf holds
 * only registers and stack addresses; glibc's pointer guard is per process).
 * Design: docs/DESIGN.md "Stacks" (overflow).
 *
 * The handler runs on a per-worker sigaltstack (the faulting stack has no room left). If the
 * fault address is in the running G's guard page it prints the goroutine id, the address and
 * a backtrace with async-signal-safe calls (backtrace() is warmed up once at install so it
 * does not load libgcc inside the handler) and aborts. Any other fault is handed to the
 * handler that was installed before ours (a sanitizer's, say), or re-raised with the default
 * action, so rill never hides a crash that is not its business.
 */
#include <errno.h>
#include <execinfo.h>
#include <setjmp.h>
#include <signal.h>
#include <ucontext.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "sched/sched.h"

#define ALTSTACK_SIZE (64 * 1024)

/* The end of every fatal path: this thread's backtrace on stderr, then abort. */
__attribute__((noreturn)) static void backtrace_abort(void)
{
    void *pcs[64];
    int n = backtrace(pcs, 64);
    fflush(stderr);
    backtrace_symbols_fd(pcs, n, 2);
    abort();
}

void rilli_throw(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct rilli_g *g = rilli_cur_g();
    if (g)
        fprintf(stderr, "rill: fatal: %s [goroutine %llu]\n", msg, (unsigned long long)g->id);
    else
        fprintf(stderr, "rill: fatal: %s\n", msg);
    backtrace_abort();
}

static struct sigaction old_segv, old_bus;
static int installed;

static void put(const char *s)
{
    ssize_t r = write(2, s, strlen(s));
    (void)r;
}

static void put_u64(unsigned long long v)
{
    char buf[24];
    int i = sizeof(buf) - 1;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v && i > 0);
    put(buf + i);
}

static void chain(int sig, siginfo_t *si, void *uc)
{
    struct sigaction *old = sig == SIGBUS ? &old_bus : &old_segv;
    if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction) {
        old->sa_sigaction(sig, si, uc);
        return;
    }
    if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN && old->sa_handler) {
        old->sa_handler(sig);
        return;
    }
    signal(sig, SIG_DFL); /* returning re-executes the access and takes the default action */
}

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
    struct rilli_p *p = rilli_cur_p();
    struct rilli_g *g = p ? p->cur : NULL;
    /* A guard-page hit, or (unguarded stacks) a fault with the stack pointer already below
     * the G's stack: the overflow ran through the slots below until it met a guard page or
     * its chunk's floor (stack.c), at most a chunk's span below. */
#if defined(__x86_64__)
    const char *sp = (const char *)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RSP];
#else
    const char *sp = NULL; /* other ISAs: guard-page hits only */
#endif
    int below = g && g->slab && sp && sp < g->stack_lo &&
                (size_t)(g->stack_lo - sp) <= rilli_stack_chunk_span();
    if (!rilli_stack_in_guard(g, si->si_addr) && !below) {
        chain(sig, si, uc);
        return;
    }
    put("goroutine ");
    put_u64(g->id);
    put(below && !g->guarded ? ": stack overflow (beyond its unguarded stack; stack size "
                             : ": stack overflow (guard page hit; stack size ");
    put_u64(rilli_stack_size());
    put(" bytes)\n");
    void *pcs[48];
    int n = backtrace(pcs, 48);
    backtrace_symbols_fd(pcs, n, 2);
    signal(SIGABRT, SIG_DFL);
    abort();
}

void rilli_panic_install(void)
{
    if (installed)
        return;
    void *warm[2];
    backtrace(warm, 2); /* load the unwinder now, not inside a signal handler */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);
    installed = 1;
}

static __thread void *altstack_mem;

int rilli_altstack_init(void)
{
#ifdef RILL_ASAN
    return 0; /* ASan gives every thread its own alternate stack and owns SIGSEGV */
#endif
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE) && cur.ss_size >= 16384)
        return 0; /* the thread has one already (a sanitizer's, or the user's): keep it */
    altstack_mem = malloc(ALTSTACK_SIZE);
    if (!altstack_mem)
        return -1;
    stack_t ss = {.ss_sp = altstack_mem, .ss_size = ALTSTACK_SIZE, .ss_flags = 0};
    return sigaltstack(&ss, NULL);
}

void rilli_altstack_fini(void)
{
    if (!altstack_mem)
        return;
    stack_t ss = {.ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    free(altstack_mem);
    altstack_mem = NULL;
}

struct recover_frame {
    sigjmp_buf jb;
    struct recover_frame *prev;
    char *msg;
    size_t len;
};

int rill_recover(void (*fn)(void *), void *arg, char *msg, size_t len)
{
    if (!fn)
        return -EINVAL;
    struct rilli_g *g = rilli_cur_g();
    if (!g) {
        fn(arg);
        return 0;
    }
    struct recover_frame fr = {.prev = g->recover, .msg = msg, .len = len};
    if (sigsetjmp(fr.jb, 0) == 0) {
        g->recover = &fr;
        fn(arg);
        rilli_cur_g()->recover = fr.prev; /* re-read: the G may run on another thread now */
        return 0;
    }
    rilli_cur_g()->recover = fr.prev;
    return -ECANCELED;
}

void rill_panic(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    struct rilli_g *g = rilli_cur_g();
    struct recover_frame *fr = g ? g->recover : NULL;
    if (fr) {
        if (fr->msg && fr->len) {
            strncpy(fr->msg, buf, fr->len - 1);
            fr->msg[fr->len - 1] = 0;
        }
        siglongjmp(fr->jb, 1);
    }
    if (g)
        fprintf(stderr, "panic: %s\n\ngoroutine %llu [running]:\n", buf, (unsigned long long)g->id);
    else
        fprintf(stderr, "panic: %s\n\n", buf);
    backtrace_abort();
}
