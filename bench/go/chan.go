package main

// Channel workloads, the peers of bench/chan_bench.cc.

import (
	"fmt"
	"sync"
	"sync/atomic"
)

func init() {
	register("pingpong", pingPong)
	for _, c := range []int{1, 16, 1024} {
		capacity := c
		register(fmt.Sprintf("spsc_cap%d", c), func(cfg config) []result { return buffered(cfg, "spsc", capacity, 1, 1) })
		register(fmt.Sprintf("mpsc_cap%d", c), func(cfg config) []result { return buffered(cfg, "mpsc", capacity, 4, 1) })
		register(fmt.Sprintf("mpmc_cap%d", c), func(cfg config) []result { return buffered(cfg, "mpmc", capacity, 4, 4) })
	}
	register("contended_4x4", contended)
}

// Main sends on ping, a partner answers on pong; ns per round trip (BM_Chan_PingPong).
func pingPong(cfg config) []result {
	n := pick(cfg.size, "pingpong")
	ping, pong := make(chan int64), make(chan int64)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		wg.Done()
	}()
	r := perOp("pingpong", "ns/roundtrip", cfg, n, func() {
		var v int64
		for i := int64(0); i < n; i++ {
			ping <- i
			v = <-pong
		}
		must(v == n, "ping-pong last reply %d", v)
	})
	close(ping)
	wg.Wait()
	return r
}

// transfer moves n items (0..n-1 in contiguous ranges per producer) from producers to
// consumers through one channel of the given capacity; main closes it once the producers are
// done. The same shape as transfer() in chan_bench.cc.
func transfer(n int64, capacity, producers, consumers int) {
	c := make(chan int64, capacity)
	var sum, count int64
	var pwg, cwg sync.WaitGroup
	cwg.Add(consumers)
	for i := 0; i < consumers; i++ {
		go func() {
			var s, k int64
			for v := range c {
				s += v
				k++
			}
			atomic.AddInt64(&sum, s)
			atomic.AddInt64(&count, k)
			cwg.Done()
		}()
	}
	pwg.Add(producers)
	for p := 0; p < producers; p++ {
		lo, hi := n*int64(p)/int64(producers), n*int64(p+1)/int64(producers)
		go func() {
			for v := lo; v < hi; v++ {
				c <- v
			}
			pwg.Done()
		}()
	}
	pwg.Wait()
	close(c)
	cwg.Wait()
	must(count == n, "received %d items, want %d", count, n)
	must(sum == n*(n-1)/2, "sum of items %d", sum)
}

// Buffered SPSC / MPSC / MPMC; millions of items/s (BM_Chan_SPSC, _MPSC, _MPMC).
func buffered(cfg config, kind string, capacity, producers, consumers int) []result {
	n := pick(cfg.size, "buffered")
	return throughput(fmt.Sprintf("%s_cap%d", kind, capacity), cfg, n, func() {
		transfer(n, capacity, producers, consumers)
	})
}

// Four producers, four consumers, one unbuffered channel (BM_Chan_Contended4x4).
func contended(cfg config) []result {
	n := pick(cfg.size, "contended_4x4")
	return throughput("contended_4x4", cfg, n, func() { transfer(n, 0, 4, 4) })
}
