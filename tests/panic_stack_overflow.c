/*
 * panic_stack_overflow.c - a goroutine that recurses without bound makes the process print
 * "goroutine N: stack overflow" on stderr and abort (SIGABRT), instead of silently corrupting a
 * neighbouring stack or dying on a bare SIGSEGV with no word of which goroutine.
 *
 * Each scenario runs in a child process (t_spawn_self); the parent checks the signal and the
 * text, where N is the id the child printed on stdout just before recursing.
 *
 * Under ASan/TSan the sanitizer owns SIGSEGV and the alternate stack and reports the overflow
 * itself, so the runtime's message cannot be expected: skipped (77) there.
 */
#include "helpers.h"

#include <sys/mman.h>
#include <sys/resource.h>

static volatile int recurse_limit = 1 << 30; /* volatile: the compiler cannot prove the recursion
                                                 ends or unbounded, so it emits real frames */

static __attribute__((noinline)) int recurse(volatile char *prev, int depth)
{
    volatile char frame[256];
    frame[0] = (char)depth;
    frame[255] = prev ? prev[0] : 0;
    int r = 0;
    if (depth < recurse_limit)
        r = recurse(frame, depth + 1);
    return r + frame[17]; /* use after the call: no tail call */
}

static void announce_and_overflow(void *unused)
{
    (void)unused;
    printf("id=%" PRIu64 "\n", rill_id());
    fflush(stdout);
    recurse(NULL, 0);
    printf("recursion returned\n");
}

static void no_core(void)
{
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl); /* an expected abort need not leave a core file */
}

/* Child: a spawned goroutine overflows while main waits. */
static void spawn_overflow_main(void *unused)
{
    (void)unused;
    struct rill_chan *never = rill_chan_make(0, 0);
    T_OK(rill_go(announce_and_overflow, NULL, 0));
    rill_chan_recv(never, NULL);
}

static int child_goroutine_overflow(void)
{
    no_core();
    int rc = rill_run(spawn_overflow_main, NULL, NULL);
    printf("rill_run returned %d\n", rc);
    return T_EXIT_PASS;
}

/* Child: the main goroutine itself overflows. */
static int child_main_overflow(void)
{
    no_core();
    int rc = rill_run(announce_and_overflow, NULL, NULL);
    printf("rill_run returned %d\n", rc);
    return T_EXIT_PASS;
}

/* Child: smallest stack, several workers busy elsewhere. */
static void busy(void *unused)
{
    (void)unused;
    for (;;)
        rill_sleep(RILL_US(100));
}

static void small_stack_main(void *unused)
{
    (void)unused;
    for (int i = 0; i < 4; i++)
        T_OK(rill_go(busy, NULL, 0));
    rill_sleep(RILL_MS(5));
    struct rill_chan *never = rill_chan_make(0, 0);
    T_OK(rill_go(announce_and_overflow, NULL, 0));
    rill_chan_recv(never, NULL);
}

static int child_small_stack_overflow(void)
{
    no_core();
    struct rill_config cfg = {.workers = t_workers(), .stack_size = RILL_STACK_MIN};
    int rc = rill_run(small_stack_main, NULL, &cfg);
    printf("rill_run returned %d\n", rc);
    return T_EXIT_PASS;
}

/* Child: so many goroutines parked first that the runtime has run out of guard pages (each guard
 * splits a mapping, and vm.max_map_count caps those), so the overflowing goroutine may sit on an
 * unguarded stack. The overflow must still be reported, not run into a neighbour's stack. */
static void parked_forever(void *arg)
{
    rill_chan_recv(arg, NULL);
}

static void many_then_overflow_main(void *unused)
{
    (void)unused;
    struct rill_chan *never = rill_chan_make(0, 0);
    long n = t_env_long("T_OVERFLOW_PARKED", 40000);
    for (long i = 0; i < n; i++)
        T_OK(rill_go(parked_forever, never, 0));
    rill_sleep(RILL_MS(50));
    T_OK(rill_go(announce_and_overflow, NULL, 0));
    rill_chan_recv(never, NULL);
}

static int child_overflow_after_guard_budget(void)
{
    no_core();
    int rc = rill_run(many_then_overflow_main, NULL, NULL);
    printf("rill_run returned %d\n", rc);
    return T_EXIT_PASS;
}

static void check_overflow_child(const char *child)
{
    static struct t_child c;
    t_spawn_self(child, 30000, &c);
    uint64_t id = 0;
    const char *p = strstr(c.out, "id=");
    if (p)
        id = strtoull(p + 3, NULL, 10);
    bool aborted = !c.timed_out && WIFSIGNALED(c.status) && WTERMSIG(c.status) == SIGABRT;
    char want[64];
    snprintf(want, sizeof want, "goroutine %" PRIu64 ": stack overflow", id);
    if (id == 0 || !aborted || !strstr(c.err, want)) {
        t_child_dump(&c);
        T_FAIL("%s: want SIGABRT and \"%s\" on stderr (aborted=%d)", child, want, aborted);
    }
}

static int goroutine_stack_overflow_aborts_with_message(void)
{
    if (T_SANITIZER)
        T_SKIP("sanitizer build: the sanitizer reports stack overflows itself");
    check_overflow_child("child_goroutine_overflow");
    return T_EXIT_PASS;
}

static int main_goroutine_stack_overflow_aborts_with_message(void)
{
    if (T_SANITIZER)
        T_SKIP("sanitizer build: the sanitizer reports stack overflows itself");
    check_overflow_child("child_main_overflow");
    return T_EXIT_PASS;
}

static int min_stack_overflow_aborts_with_message(void)
{
    if (T_SANITIZER)
        T_SKIP("sanitizer build: the sanitizer reports stack overflows itself");
    check_overflow_child("child_small_stack_overflow");
    return T_EXIT_PASS;
}

static int overflow_beyond_guard_page_budget_aborts_with_message(void)
{
    if (T_SANITIZER)
        T_SKIP("sanitizer build: the sanitizer reports stack overflows itself");
    check_overflow_child("child_overflow_after_guard_budget");
    return T_EXIT_PASS;
}

/* Lines of /proc/self/maps: one per mapping (VMA). */
static long count_mappings(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return -1;
    long n = 0;
    int ch;
    while ((ch = fgetc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

static long maps_before, maps_after;

static void guarded_many_main(void *unused)
{
    (void)unused;
    struct rill_chan *never = rill_chan_make(0, 0);
    maps_before = count_mappings();
    for (int i = 0; i < 2000; i++)
        T_OK(rill_go(parked_forever, never, 0));
    rill_sleep(RILL_MS(20)); /* every one has started, so every one has its guard */
    maps_after = count_mappings();
    rill_chan_close(never);
    rill_chan_free(never);
}

/* Where the kernel has lightweight guard pages (MADV_GUARD_INSTALL, Linux 6.13), a guard is a
 * page-table marker and 2000 guarded stacks add a handful of mappings, not two per stack (an
 * mprotect'd guard splits its mapping; those splits made mapping a slab stall for a
 * millisecond). Elsewhere the mprotect fallback is expected: skipped. So is TSan. */
static int light_guards_do_not_split_mappings(void)
{
    if (T_TSAN)
        T_SKIP("TSan maps memory of its own for every goroutine's fiber");
    long page = sysconf(_SC_PAGESIZE);
    char *probe = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
    T_CHECK(probe != MAP_FAILED);
    int light = madvise(probe, (size_t)page, 102 /* MADV_GUARD_INSTALL */) == 0;
    munmap(probe, (size_t)page);
    if (!light)
        T_SKIP("the kernel has no MADV_GUARD_INSTALL: guards are mprotect'd pages");
    T_OK(rill_run(guarded_many_main, NULL, &(struct rill_config){.workers = t_workers()}));
    T_CHECKF(maps_before > 0 && maps_after - maps_before < 200,
            "2000 guarded goroutines added %ld mappings (want < 200)", maps_after - maps_before);
    return T_EXIT_PASS;
}

T_MAIN(T_CASE(goroutine_stack_overflow_aborts_with_message),
       T_CASE(light_guards_do_not_split_mappings),
       T_CASE(overflow_beyond_guard_page_budget_aborts_with_message),
       T_CASE(main_goroutine_stack_overflow_aborts_with_message),
       T_CASE(min_stack_overflow_aborts_with_message),
       T_CHILD(child_goroutine_overflow),
       T_CHILD(child_main_overflow),
       T_CHILD(child_small_stack_overflow),
       T_CHILD(child_overflow_after_guard_budget))
