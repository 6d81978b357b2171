package main

// The concurrency guide's patterns, the peers of bench/patterns_bench.cc: the guide's own
// code shapes, minus its prints and sleeps, with the sum of squares checked.

import "sync"

func init() {
	register("pipeline", pipeline)
	register("workerpool", workerPool)
	register("fanout_fanin", fanOutFanIn)
}

func sumOfSquares(n int64) int64 { return n * (n + 1) * (2*n + 1) / 6 }

// generate sends 1..n on a new unbuffered channel and closes it.
func generate(n int64, wg *sync.WaitGroup) <-chan int64 {
	out := make(chan int64)
	go func() {
		for i := int64(1); i <= n; i++ {
			out <- i
		}
		close(out)
		wg.Done()
	}()
	return out
}

// square squares every value of in onto out, closing out at the end when closeOut is set.
func square(in <-chan int64, out chan<- int64, closeOut bool, wg *sync.WaitGroup) {
	go func() {
		for v := range in {
			out <- v * v
		}
		if closeOut {
			close(out)
		}
		wg.Done()
	}()
}

func drain(c <-chan int64) (sum int64) {
	for v := range c {
		sum += v
	}
	return sum
}

// generator -> square -> main; ns per item (BM_Patterns_Pipeline).
func pipeline(cfg config) []result {
	n := pick(cfg.size, "pipeline")
	return perOp("pipeline", "ns/item", cfg, n, func() {
		var wg sync.WaitGroup
		wg.Add(2)
		squares := make(chan int64)
		square(generate(n, &wg), squares, true, &wg)
		sum := drain(squares)
		must(sum == sumOfSquares(n), "pipeline sum %d", sum)
		wg.Wait()
	})
}

// A feeder, 4 workers, jobs and results channels of capacity 100; ns per job
// (BM_Patterns_WorkerPool).
func workerPool(cfg config) []result {
	n := pick(cfg.size, "workerpool")
	const workers, capacity = 4, 100
	return perOp("workerpool", "ns/job", cfg, n, func() {
		var wg sync.WaitGroup
		wg.Add(1 + workers)
		jobs := make(chan int64, capacity)
		results := make(chan int64, capacity)
		go func() {
			for i := int64(1); i <= n; i++ {
				jobs <- i
			}
			close(jobs)
			wg.Done()
		}()
		for w := 0; w < workers; w++ {
			square(jobs, results, false, &wg)
		}
		var sum int64
		for i := int64(0); i < n; i++ {
			sum += <-results
		}
		must(sum == sumOfSquares(n), "worker pool sum %d", sum)
		wg.Wait()
	})
}

// generator -> 3 square workers -> merge -> main; ns per item (BM_Patterns_FanOutFanIn).
func fanOutFanIn(cfg config) []result {
	n := pick(cfg.size, "fanout_fanin")
	const fan = 3
	return perOp("fanout_fanin", "ns/item", cfg, n, func() {
		var stages, fwd sync.WaitGroup
		stages.Add(1 + fan + 1)
		nums := generate(n, &stages)
		merged := make(chan int64)
		fwd.Add(fan)
		for i := 0; i < fan; i++ {
			out := make(chan int64)
			square(nums, out, true, &stages)
			go func(in <-chan int64) {
				for v := range in {
					merged <- v
				}
				fwd.Done()
			}(out)
		}
		go func() {
			fwd.Wait()
			close(merged)
			stages.Done()
		}()
		sum := drain(merged)
		must(sum == sumOfSquares(n), "fan-in sum %d", sum)
		stages.Wait()
	})
}
