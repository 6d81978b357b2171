package main

// Scheduler workloads, the peers of bench/sched_bench.cc.

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

func init() {
	register("yield", yield)
	register("spawn", spawnExit)
	register("skynet", skynetBench)
	register("chain", chain)
	// Go has one kind of goroutine stack: the harness sets both rill stack sizes
	// (BM_Sched_ParkedDefaultStack and BM_Sched_ParkedMinStack) beside this one workload.
	register("parked", parked)
}

// Two goroutines per P each yield n times; ns per yield from the wall time (BM_Sched_Yield).
func yield(cfg config) []result {
	n := pick(cfg.size, "yield")
	gs := 2 * runtime.GOMAXPROCS(0)
	return perOp("yield", "ns/switch", cfg, int64(gs)*n, func() {
		var wg sync.WaitGroup
		wg.Add(gs)
		for g := 0; g < gs; g++ {
			go func() {
				for i := int64(0); i < n; i++ {
					runtime.Gosched()
				}
				wg.Done()
			}()
		}
		wg.Wait()
	})
}

// Spawn n goroutines that mark a WaitGroup done, wait for all; ns per spawn (BM_Sched_SpawnExit).
func spawnExit(cfg config) []result {
	n := pick(cfg.size, "spawn")
	return perOp("spawn", "ns/spawn", cfg, n, func() {
		var wg sync.WaitGroup
		wg.Add(int(n))
		for i := int64(0); i < n; i++ {
			go func() { wg.Done() }()
		}
		wg.Wait()
	})
}

// skynet: fan-out 10 over unbuffered channels; leaves send their number, inner nodes the sum.
func skynet(out chan<- int64, num, size int64) {
	if size == 1 {
		out <- num
		return
	}
	c := make(chan int64)
	step := size / 10
	for i := int64(0); i < 10; i++ {
		go skynet(c, num+i*step, step)
	}
	var sum int64
	for i := 0; i < 10; i++ {
		sum += <-c
	}
	out <- sum
}

// Milliseconds per tree (BM_Sched_Skynet).
func skynetBench(cfg config) []result {
	leaves := pick(cfg.size, "skynet")
	root := make(chan int64)
	ns, b := timed(cfg, 1, func() {
		go skynet(root, 0, leaves)
		sum := <-root
		must(sum == leaves*(leaves-1)/2, "skynet sum %d", sum)
	})
	return []result{{Workload: "skynet", Value: ns * 1e-6, Unit: "ms", N: leaves, Batches: b}}
}

// Goroutine k starts goroutine k+1 and exits; the last signals done (BM_Sched_Chain).
func chainLink(done chan<- struct{}, left int64) {
	if left == 0 {
		done <- struct{}{}
		return
	}
	go chainLink(done, left-1)
}

func chain(cfg config) []result {
	n := pick(cfg.size, "chain")
	done := make(chan struct{})
	return perOp("chain", "ns/spawn", cfg, n, func() {
		go chainLink(done, n-1)
		<-done
	})
}

// rssBytes reads the resident set size from /proc/self/statm, as rb::rss_bytes does.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	must(err == nil, "read statm: %v", err)
	f := strings.Fields(string(b))
	must(len(f) >= 2, "short statm")
	pages, err := strconv.ParseInt(f[1], 10, 64)
	must(err == nil, "parse statm: %v", err)
	return pages * int64(os.Getpagesize())
}

// n goroutines park on a receive from one gate channel until main closes it
// (BM_Sched_Parked*). Run once, unwarmed, like the C++ side.
func parked(cfg config) []result {
	n := pick(cfg.size, "parked")
	gate := make(chan struct{})
	var ready, exited sync.WaitGroup
	ready.Add(int(n))
	exited.Add(int(n))
	rss0 := rssBytes()
	t0 := time.Now()
	for i := int64(0); i < n; i++ {
		go func() {
			ready.Done() // just before parking: main counts us as parked
			_, ok := <-gate
			must(!ok, "a parked receive ended other than by the close")
			exited.Done()
		}()
	}
	ready.Wait()
	t1 := time.Now()
	rss1 := rssBytes()
	close(gate)
	exited.Wait()
	t2 := time.Now()
	return []result{
		{Workload: "parked_rss", Value: float64(rss1-rss0) / float64(n), Unit: "B/goroutine", N: n, Batches: 1},
		{Workload: "parked_spawn", Value: float64(t1.Sub(t0).Nanoseconds()) * 1e-6, Unit: "ms", N: n, Batches: 1},
		{Workload: "parked_release", Value: float64(t2.Sub(t1).Nanoseconds()) * 1e-6, Unit: "ms", N: n, Batches: 1},
	}
}
