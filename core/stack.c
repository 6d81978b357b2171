/*
 * stack.c - goroutine stacks: slabs, guard pages while the map budget lasts, canaries after,
 * per-P caches and a global pool that returns memory to the kernel. Design: docs/DESIGN.md
 * "Stacks".
 *
 * Layout. Stacks come in slabs of SLAB_STACKS slots, one mmap each (MAP_NORESERVE: untouched
 * pages cost nothing). A slot is one page plus the configured stack size:
 *
 *     [ guard page (PROT_NONE) or canary | usable stack ... grows down ... | top ]
 *
 * The struct rilli_g of each slot lives in the slab header (malloc'd), not on the stack, so a
 * free stack can be MADV_DONTNEED'd whole without losing the pool links.
 *
 * Policy. rill guards the first (max_map_count - 16384) / 2 stacks, then hands out canary
 * stacks: a known word just below the lowest usable address (in the top zone of the slot
 * below, a page resident anyway, so the canary costs no RSS), checked on every switch away
 * from the G. A guard-page overflow is caught at the faulting access by the SIGSEGV handler
 * (panic.c); a canary overflow is caught at the next switch (late, but never silent). A parked
 * G with a shallow stack costs one resident page plus its header.
 *
 * Guards. Where the kernel has MADV_GUARD_INSTALL (Linux 6.13), a guard is a page-table
 * marker: no VMA split, so it neither counts against vm.max_map_count nor slows later faults
 * and mmaps. Elsewhere it is an mprotect(PROT_NONE) page, which splits the mapping in two
 * (hence the budget). Either way a stack's guard is installed when the stack is first handed
 * out, one call per stack, not 64 calls when its slab is mapped: a slab's worth of mprotects
 * took 0.3-1.4 ms on a VM, a stall that every timer due meanwhile waited out.
 *
 * Pools: a P keeps up to CACHE_MAX free Gs with hot stacks (owner only, no lock). Beyond that
 * they go to the global pool (rilli_lock). A slab whose stacks are all free joins the empty
 * list, oldest first. Once it has stayed empty for SCAVENGE_AGE while the pool holds more than
 * HOT_MAX stacks, it is MADV_DONTNEED'd in one call, so a burst of a million goroutines does
 * not pin its memory after it ends. The age keeps a tree of goroutines that spawn and exit by
 * the hundred thousand (skynet) from zapping slabs it is about to fault back in: zapping each
 * slab the moment it emptied made skynet three times slower. Scavenging runs when a G's exit
 * hands a stack to the pool and when a worker is about to sleep, which also learns when the
 * next slab comes of age and wakes for it. munmap happens when rill_run returns.
 *
 * Invariants:
 *  1. A G is in exactly one of: a P cache, the global pool, or live use.
 *  2. Slabs are only appended while running and only unmapped at rill_run's end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/core.h"
#include "sched/sched.h"

#ifdef RILL_ASAN
#include <sanitizer/asan_interface.h>
#endif
#ifdef RILL_TSAN
#include <sanitizer/tsan_interface.h>
#endif

#define SLAB_STACKS 64
#define CACHE_MAX 64
#define CACHE_BATCH 32
#define HOT_MAX 16384 /* free stacks kept resident (~64 MiB at 4 KiB touched each) */
#define SCAVENGE_AGE 1000000000LL /* ns a wholly free slab stays resident beyond HOT_MAX */
#define SCAVENGE_BATCH 8 /* slabs zapped per call: bounds the stall (a zap is ~100 us) */
#define CANARY 0x52494c4c5354414bULL /* "RILLSTAK" */
#define CANARY_ZONE 64 /* top bytes of each slot: the canary of the slot above */
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13; older headers lack it */
#endif

struct rilli_slab {
    struct rilli_slab *next;
    char *base;
    size_t len;
    unsigned n;
    unsigned nfree; /* its Gs in the global pool; stk.lock */
    int cold;       /* its stacks were given back to the kernel and none was used since */
    int empty;      /* on the empty list; stk.lock */
    int64_t empty_since;                 /* when its last stack came back; stk.lock */
    struct rilli_slab *eprev, *enext;    /* empty list; stk.lock */
    struct rilli_g g[SLAB_STACKS];
};

/* Slabs are carved top-down out of chunks of CHUNK_SLABS slabs with one PROT_NONE page at
 * the bottom (the chunk's floor). An overflow running down through unguarded stacks then
 * stays in rill's own slabs and stops at a floor, instead of writing into whatever mapping
 * lies below (a worker's malloc arena, which crashed the overflow report). One floor per
 * chunk, not per slab: a floor splits a mapping, and 15625 of them (one per slab of a million
 * goroutines) made every fault and zap of the stack memory several times slower. */
#define CHUNK_SLABS 64

struct stack_chunk {
    struct stack_chunk *next;
    char *base;  /* the floor page; slabs above it */
    size_t len;
};

static struct {
    size_t page;
    size_t stack_size; /* usable bytes above the guard/canary page */
    int light_guards;  /* the kernel takes MADV_GUARD_INSTALL */
    long guard_budget; /* guarded stacks still allowed; lock */
    rilli_lock lock;
    struct rilli_g *free;        /* global pool; lock */
    unsigned nfree;              /* lock */
    struct rilli_slab *slabs;    /* lock */
    struct rilli_slab *empty_head, *empty_tail; /* wholly free warm slabs, oldest first; lock */
    struct stack_chunk *chunks;  /* lock */
    char *chunk_low;             /* lowest slab carved from the current chunk; lock */
    unsigned chunk_left;         /* slabs still to carve from it; lock */
} stk;

/* Make the page at addr fault on any access. 0 on success. */
static int guard_page(char *addr)
{
    if (stk.light_guards)
        return madvise(addr, stk.page, MADV_GUARD_INSTALL);
    return mprotect(addr, stk.page, PROT_NONE);
}

/* Memory for one slab of len bytes, from the current chunk (a new one when it is used up).
 * Called without the lock. NULL without memory. */
static char *slab_memory(size_t len)
{
    rilli_lock_acquire(&stk.lock);
    if (!stk.chunk_left) {
        rilli_lock_release(&stk.lock);
        struct stack_chunk *c = malloc(sizeof(*c));
        if (!c)
            return NULL;
        c->len = stk.page + (size_t)CHUNK_SLABS * len;
        c->base = mmap(NULL, c->len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
        if (c->base == MAP_FAILED) {
            free(c);
            return NULL;
        }
        guard_page(c->base); /* the floor; if it fails, no floor */
        rilli_lock_acquire(&stk.lock);
        c->next = stk.chunks;
        stk.chunks = c;
        stk.chunk_low = c->base + c->len;
        stk.chunk_left = CHUNK_SLABS;
    }
    stk.chunk_left--;
    stk.chunk_low -= len;
    char *m = stk.chunk_low;
    rilli_lock_release(&stk.lock);
    return m;
}

size_t rilli_stack_size(void)
{
    return stk.stack_size;
}

size_t rilli_stack_chunk_span(void)
{
    return stk.page + (size_t)CHUNK_SLABS * SLAB_STACKS * (stk.page + stk.stack_size);
}

static long guard_budget_default(void)
{
    long max = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%ld", &max) != 1)
            max = 65530;
        fclose(f);
    }
    long b = (max - 16384) / 2;
    return b > 0 ? b : 0;
}

void rilli_stack_global_init(size_t stack_size, unsigned flags)
{
    memset(&stk, 0, sizeof(stk));
    stk.page = (size_t)sysconf(_SC_PAGESIZE);
    stk.stack_size = (stack_size + stk.page - 1) & ~(stk.page - 1);
    stk.guard_budget = (flags & RILL_CONFIG_NO_GUARD) ? 0 : guard_budget_default();
    /* Probe, do not guess from the kernel version: EINVAL where the advice is unknown. */
    char *probe = mmap(NULL, stk.page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (probe != MAP_FAILED) {
        stk.light_guards = madvise(probe, stk.page, MADV_GUARD_INSTALL) == 0;
        munmap(probe, stk.page);
    }
}

/* Map a new slab and link its Gs into a chain. Called without the lock. */
static struct rilli_g *slab_new(void)
{
    size_t slot = stk.page + stk.stack_size;
    struct rilli_slab *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->n = SLAB_STACKS;
    s->len = slot * SLAB_STACKS;
    s->base = slab_memory(s->len);
    if (!s->base) {
        free(s);
        return NULL;
    }
    rilli_lock_acquire(&stk.lock);
    long guards = stk.guard_budget < SLAB_STACKS ? stk.guard_budget : SLAB_STACKS;
    stk.guard_budget -= guards;
    rilli_lock_release(&stk.lock);
    for (unsigned i = 0; i < SLAB_STACKS; i++) {
        struct rilli_g *g = &s->g[i];
        char *lo = s->base + i * slot;
        g->slab = s;
        g->stack_hi = lo + slot - CANARY_ZONE;
        g->guarded = 0;
        g->guard_todo = (long)i < guards; /* installed at first use (stack_prepare) */
        g->stack_lo = g->guard_todo ? lo + stk.page : lo;
        if (!g->guard_todo) {
            /* The canary sits where an overflow lands first: the top zone of the slot below,
             * a page that is resident anyway; slot 0 has none below and keeps its own. */
            if (i > 0) {
                g->canary = (uint64_t *)(void *)(lo - sizeof(uint64_t));
            } else {
                g->canary = (uint64_t *)(void *)lo;
                g->stack_lo = lo + CANARY_ZONE;
            }
        }
        g->next = i + 1 < SLAB_STACKS ? &s->g[i + 1] : NULL;
    }
    rilli_lock_acquire(&stk.lock);
    s->next = stk.slabs;
    stk.slabs = s;
    rilli_lock_release(&stk.lock);
    return &s->g[0];
}

/* First use of a stack that gets a guard page. If the kernel refuses (mprotect's ENOMEM past
 * the map limit), the stack gets a canary at the top of that page instead. */
static void guard_install(struct rilli_g *g)
{
    g->guard_todo = 0;
    char *guard = g->stack_lo - stk.page;
    if (guard_page(guard) == 0) {
        g->guarded = 1;
        return;
    }
    g->canary = (uint64_t *)(void *)(g->stack_lo - sizeof(uint64_t));
}

static void stack_prepare(struct rilli_g *g)
{
    if (rill_unlikely(g->guard_todo))
        guard_install(g);
#ifdef RILL_TSAN
    /* A TSan fiber costs about as much as a thread context: made on first use, then kept
     * with the G across spawns. */
    if (!g->tsan_fiber)
        g->tsan_fiber = __tsan_create_fiber(0);
#endif
    if (g->canary)
        *g->canary = CANARY;
    g->next = NULL;
}

/* Refill P's cache (or get one G for a thread without a P) from the global pool or a slab. */
/* Global pool: a doubly linked list of free Gs (lock). Unlinking a whole slab is O(slab). */
static void pool_link(struct rilli_g *g)
{
    g->prev = NULL;
    g->next = stk.free;
    if (stk.free)
        stk.free->prev = g;
    stk.free = g;
    stk.nfree++;
    g->slab->nfree++;
}

static void empty_remove(struct rilli_slab *s)
{
    if (s->eprev)
        s->eprev->enext = s->enext;
    else
        stk.empty_head = s->enext;
    if (s->enext)
        s->enext->eprev = s->eprev;
    else
        stk.empty_tail = s->eprev;
    s->eprev = s->enext = NULL;
    s->empty = 0;
}

static void empty_append(struct rilli_slab *s, int64_t now)
{
    s->empty = 1;
    s->empty_since = now;
    s->enext = NULL;
    s->eprev = stk.empty_tail;
    if (stk.empty_tail)
        stk.empty_tail->enext = s;
    else
        stk.empty_head = s;
    stk.empty_tail = s;
}

static void pool_unlink(struct rilli_g *g)
{
    if (g->slab->empty)
        empty_remove(g->slab);
    if (g->prev)
        g->prev->next = g->next;
    else
        stk.free = g->next;
    if (g->next)
        g->next->prev = g->prev;
    stk.nfree--;
    g->slab->nfree--;
    g->slab->cold = 0;
}

/* Refill P's cache (or get one G for a thread without a P) from the global pool or a slab. */
static struct rilli_g *stack_get_slow(struct rilli_p *p)
{
    struct rilli_g *chain = NULL;
    unsigned want = p ? CACHE_BATCH : 1, got = 0;
    rilli_lock_acquire(&stk.lock);
    while (got < want && stk.free) {
        struct rilli_g *g = stk.free;
        pool_unlink(g);
        g->next = chain;
        chain = g;
        got++;
    }
    rilli_lock_release(&stk.lock);
    if (!chain && !(chain = slab_new()))
        return NULL;
    struct rilli_g *g = chain;
    chain = g->next;
    if (p) {
        while (chain) {
            struct rilli_g *n = chain->next;
            chain->next = p->stacks.head;
            p->stacks.head = chain;
            p->stacks.n++;
            chain = n;
        }
    } else if (chain) {
        rilli_lock_acquire(&stk.lock); /* a fresh slab for a thread without a P */
        while (chain) {
            struct rilli_g *n = chain->next;
            pool_link(chain);
            chain = n;
        }
        rilli_lock_release(&stk.lock);
    }
    stack_prepare(g);
    return g;
}

struct rilli_g *rilli_stack_get(struct rilli_p *p)
{
    if (p && p->stacks.head) {
        struct rilli_g *g = p->stacks.head;
        p->stacks.head = g->next;
        p->stacks.n--;
        stack_prepare(g);
        return g;
    }
    return stack_get_slow(p);
}

/* A slab to zap: the oldest empty one, if it has been empty for SCAVENGE_AGE while the pool
 * is over HOT_MAX. lock held. */
static struct rilli_slab *scavenge_next(int64_t now)
{
    struct rilli_slab *s = stk.empty_head;
    if (!s || stk.nfree <= HOT_MAX || now - s->empty_since < SCAVENGE_AGE)
        return NULL;
    return s;
}

/*
 * Give up to SCAVENGE_BATCH old empty slabs back to the kernel, one MADV_DONTNEED each: one
 * call (and one TLB shootdown, which costs ~100 us on a VM) per 64 stacks instead of one per
 * stack. The slab's Gs are unlinked meanwhile, so nobody can be handed a stack that is being
 * zapped. Called with the lock held; returns with it released, and tells when the next
 * empty slab comes of age (INT64_MAX: none will while the pool is within HOT_MAX).
 */
static int64_t scavenge_locked(int64_t now)
{
    for (int n = 0; n < SCAVENGE_BATCH; n++) {
        struct rilli_slab *s = scavenge_next(now);
        if (!s)
            break;
        for (unsigned i = 0; i < SLAB_STACKS; i++)
            pool_unlink(&s->g[i]); /* also takes s off the empty list */
        rilli_lock_release(&stk.lock);
        /* Page-aligned, or madvise fails (EINVAL): slot 0 of a canary slab starts its stack
         * 64 bytes into the slab, and its first page, which holds its canary, stays. */
        size_t skip = ((size_t)(s->g[0].stack_lo - s->base) + stk.page - 1) & ~(stk.page - 1);
        if (madvise(s->base + skip, s->len - skip, MADV_DONTNEED) != 0)
            rill_throw("stacks: MADV_DONTNEED of a free slab failed: %s", strerror(errno));
        rilli_lock_acquire(&stk.lock);
        for (unsigned i = 0; i < SLAB_STACKS; i++)
            pool_link(&s->g[i]);
        s->cold = 1;
    }
    int64_t when = INT64_MAX; /* when the next empty slab comes of age */
    if (stk.empty_head && stk.nfree > HOT_MAX)
        when = stk.empty_head->empty_since + SCAVENGE_AGE;
    rilli_lock_release(&stk.lock);
    return when;
}

int64_t rilli_stack_scavenge(int64_t now)
{
    rilli_lock_acquire(&stk.lock);
    return scavenge_locked(now);
}

/* Return a G to the global pool; a slab it completes joins the empty list. */
static void stack_put_global(struct rilli_g *g)
{
    struct rilli_slab *s = g->slab;
    rilli_lock_acquire(&stk.lock);
    pool_link(g);
    if (s->nfree == SLAB_STACKS && !s->cold) {
        int64_t now = rill_now();
        empty_append(s, now);
        scavenge_locked(now);
        return;
    }
    rilli_lock_release(&stk.lock);
}

/*
 * ASan: a G whose frames never return keeps their redzones poisoned in ASan's shadow, which
 * is cleared only as each function returns. Two such cases: a G that exits (rilli_goexit
 * switches away for good, from inside its own frame), and a G that rill_run abandons
 * (blocked, or queued). The next G on the same stack, or the next run's mmap landing on the
 * same addresses, then hits stale redzones (a stack-buffer-underflow report, or a CHECK
 * failure in ASan's frame lookup). Clear the part those frames occupy, sp up to the top:
 * below sp every call has returned. A free G (G_IDLE) has no frames. Its fake stack
 * (detect_stack_use_after_return) can only be freed from inside the fiber, so it stays where
 * ASan mapped it, unreused.
 */
#ifdef RILL_ASAN
static void stack_unpoison_frames(struct rilli_g *g)
{
    char *sp = g->sp;
    if (g->status != G_IDLE && sp >= g->stack_lo && sp < g->stack_hi)
        __asan_unpoison_memory_region(sp, (size_t)(g->stack_hi - sp));
}
#endif

void rilli_stack_put(struct rilli_p *p, struct rilli_g *g)
{
#ifdef RILL_ASAN
    stack_unpoison_frames(g); /* an exited G: rilli_goexit's frame never returned */
#endif
    rill_store_relaxed(&g->status, G_IDLE); /* relaxed: only the report reads it racily */
    if (p && p->stacks.n < CACHE_MAX) {
        g->next = p->stacks.head;
        p->stacks.head = g;
        p->stacks.n++;
        return;
    }
    stack_put_global(g);
}

void rilli_stack_cache_flush(struct stack_cache *c)
{
    while (c->head) {
        struct rilli_g *g = c->head;
        c->head = g->next;
        stack_put_global(g);
    }
    c->n = 0;
}

int rilli_stack_in_guard(const struct rilli_g *g, const void *addr)
{
    const char *a = addr;
    return g && g->slab && g->guarded && a >= g->stack_lo - stk.page && a < g->stack_lo;
}

void rilli_stack_check(const struct rilli_g *g)
{
    if (rill_unlikely(*g->canary != CANARY))
        rill_throw("goroutine %llu: stack overflow (canary at %p overwritten; stack size %zu)",
                   (unsigned long long)g->id, (void *)g->canary, stk.stack_size);
}

void rilli_stack_foreach_g(void (*fn)(struct rilli_g *, void *), void *arg)
{
    for (struct rilli_slab *s = stk.slabs; s; s = s->next)
        for (unsigned i = 0; i < s->n; i++)
            fn(&s->g[i], arg);
}

void rilli_stack_global_fini(void)
{
    struct rilli_slab *s = stk.slabs;
    while (s) {
        struct rilli_slab *n = s->next;
#ifdef RILL_ASAN
        for (unsigned i = 0; i < s->n; i++)
            stack_unpoison_frames(&s->g[i]);
#endif
#ifdef RILL_TSAN
        for (unsigned i = 0; i < s->n; i++)
            if (s->g[i].tsan_fiber)
                __tsan_destroy_fiber(s->g[i].tsan_fiber);
#endif
        free(s);
        s = n;
    }
    stk.slabs = NULL;
    while (stk.chunks) {
        struct stack_chunk *c = stk.chunks;
        stk.chunks = c->next;
        munmap(c->base, c->len);
        free(c);
    }
    stk.chunk_low = NULL;
    stk.chunk_left = 0;
    stk.empty_head = stk.empty_tail = NULL;
    stk.free = NULL;
    stk.nfree = 0;
}
