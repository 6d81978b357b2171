/*
 * hello.c - the guide's first goroutine ("Your First Goroutine").
 *
 * main starts say_hello("Goroutine") on a new goroutine and runs say_hello("Main") itself,
 * so the two interleave. The guide sleeps 100 ms between lines; we sleep 10 ms.
 *
 * As in Go, returning from the main goroutine ends the program whether or not other
 * goroutines are done: the goroutine's last line and "Program ended" race, so the goroutine's
 * third line may be missing (the guide's "Main Goroutine Termination").
 */
#include <rill.h>
#include <stdio.h>

static void say_hello(void *arg)
{
    const char *name = arg;
    for (int i = 0; i < 3; i++) {
        printf("Hello from %s (%d)\n", name, i);
        rill_sleep(RILL_MS(10));
    }
}

static void main_goroutine(void *arg)
{
    (void)arg;
    printf("Starting program\n");

    rill_go(say_hello, "Goroutine", 0); // go sayHello("Goroutine"): the string is shared

    say_hello("Main"); // this runs in the main goroutine

    printf("Program ended\n");
}

int main(void)
{
    return rill_run(main_goroutine, NULL, NULL) == 0 ? 0 : 1;
}
