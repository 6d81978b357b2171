/*
 * panic_unrecovered.c - a panic nobody recovers ends the whole program, as in Go: rill prints
 * "panic: <message>", the goroutine and a backtrace to stderr, and aborts.
 *
 * The panic happens in a goroutine other than main, while main waits for it. Its test
 * (examples/cmake/expect_panic.cmake) expects SIGABRT and checks stderr against
 * examples/expected/panic_unrecovered.stderr.
 */
#include <rill.h>
#include <stdio.h>

static void faulty(void *arg)
{
    int index = *(int *)arg;
    int table[3] = {1, 2, 3};

    printf("goroutine %llu looks up index %d\n", (unsigned long long)rill_id(), index);
    fflush(stdout); // the abort will not flush stdio
    if (index >= 3)
        rill_panic("index out of range: %d with length 3", index);
    printf("%d\n", table[index]);
}

static void main_goroutine(void *arg)
{
    (void)arg;
    struct rill_waitgroup wg = RILL_WAITGROUP_INIT;
    int index = 7;

    rill_wg_add(&wg, 1);
    rill_go(faulty, &index, sizeof index);
    rill_wg_wait(&wg); // never returns: the panic ends the process first
    printf("not reached\n");
}

int main(void)
{
    return rill_run(main_goroutine, NULL, NULL) == 0 ? 0 : 1;
}
