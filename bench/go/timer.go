package main

// Many concurrent sleeps, the peer of bench/timer_bench.cc.

import (
	"sort"
	"sync"
	"time"
)

func init() {
	register("timers", timers)
}

// n goroutines each sleep 1 ms and record their lateness; run once, unwarmed
// (BM_Timer_Sleep1ms).
func timers(cfg config) []result {
	n := pick(cfg.size, "timers")
	late := make([]int64, n)
	var wg sync.WaitGroup
	wg.Add(int(n))
	t0 := time.Now()
	for i := range late {
		go func(slot *int64) {
			start := time.Now()
			time.Sleep(time.Millisecond)
			*slot = int64(time.Since(start) - time.Millisecond)
			wg.Done()
		}(&late[i])
	}
	wg.Wait()
	wall := time.Since(t0)
	sort.Slice(late, func(i, j int) bool { return late[i] < late[j] })
	must(late[0] >= 0, "time.Sleep returned before its duration")
	pct := func(q float64) float64 { return float64(late[int(q*float64(n-1))]) * 1e-3 }
	return []result{
		{Workload: "timers_wall", Value: float64(wall.Nanoseconds()) * 1e-6, Unit: "ms", N: n, Batches: 1},
		{Workload: "timers_late_p50", Value: pct(0.50), Unit: "us", N: n, Batches: 1},
		{Workload: "timers_late_p99", Value: pct(0.99), Unit: "us", N: n, Batches: 1},
	}
}
