/*
 * loop_variable.c - the guide's "Anonymous Goroutines" and "Common Goroutine Pitfall: Loop
 * Variables".
 *
 * C has no closures: a goroutine gets one void * argument. Two ways to pass it:
 *   rill_go(fn, ptr, 0)          fn gets ptr itself: shared, like a Go closure capturing a
 *                                variable. Right for data that outlives the goroutine and does
 *                                not change (the message below).
 *   rill_go(fn, &x, sizeof x)    rill copies x onto the new goroutine's stack before rill_go
 *                                returns: like passing x as a parameter, go func(id int){}(i).
 * With the copy, the guide's wrong way and its correct way are the same line of C:
 * rill_go(print_id, &i, sizeof i) takes i's value now, so the loop going on to change i cannot
 * reach the goroutines. Passing &i with size 0 would be the pitfall (and a data race).
 *
 * The guide waits 100 ms for the goroutines to print; so do we.
 */
#include <rill.h>
#include <stdio.h>

static void print_message(void *arg)
{
    printf("%s\n", (const char *)arg);
}

static void print_goroutine(void *arg)
{
    printf("Goroutine %d\n", *(int *)arg);
}

static void print_correct(void *arg)
{
    printf("Correct: %d\n", *(int *)arg);
}

static void anonymous(void)
{
    static const char message[] = "Hello from closure";
    rill_go(print_message, message, 0); // shared, as the closure shares message

    for (int i = 0; i < 3; i++)
        rill_go(print_goroutine, &i, sizeof i); // go func(id int) {...}(i)

    rill_sleep(RILL_MS(500)); // naive wait, as in the guide; generous for slow builds
}

static void loop_variable(void)
{
    for (int i = 0; i < 3; i++)
        rill_go(print_correct, &i, sizeof i); // copies i: each goroutine sees its own value

    rill_sleep(RILL_MS(500)); // naive wait, as in the guide; generous for slow builds
}

static void main_goroutine(void *arg)
{
    (void)arg;
    anonymous();
    loop_variable();
}

int main(void)
{
    return rill_run(main_goroutine, NULL, NULL) == 0 ? 0 : 1;
}
