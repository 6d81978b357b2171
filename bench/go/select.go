package main

// Select over 2 and over 8 channels, the peer of bench/select_bench.cc.

import "sync"

func init() {
	register("select2", func(cfg config) []result { return selectBench(cfg, "select2", 2) })
	register("select8", func(cfg config) []result { return selectBench(cfg, "select8", 8) })
}

// k unbuffered channels, one sender per channel sending n/k items; main runs n selects with k
// receive cases. ns per select (BM_Select_Recv). Go needs a literal select statement per case
// count; reflect.Select would measure reflection instead.
func selectBench(cfg config, name string, k int) []result {
	n := pick(cfg.size, "select")
	return perOp(name, "ns/select", cfg, n, func() {
		cs := make([]chan int64, k)
		var wg sync.WaitGroup
		wg.Add(k)
		for i := range cs {
			cs[i] = make(chan int64)
			lo, hi := n*int64(i)/int64(k), n*int64(i+1)/int64(k)
			go func(c chan<- int64) {
				for x := lo; x < hi; x++ {
					c <- x
				}
				wg.Done()
			}(cs[i])
		}
		var sum int64
		if k == 2 {
			sum = select2(cs, n)
		} else {
			sum = select8(cs, n)
		}
		must(sum == n*(n-1)/2, "sum of selected items %d", sum)
		wg.Wait()
	})
}

func select2(cs []chan int64, n int64) (sum int64) {
	c0, c1 := cs[0], cs[1]
	for i := int64(0); i < n; i++ {
		var v int64
		select {
		case v = <-c0:
		case v = <-c1:
		}
		sum += v
	}
	return sum
}

func select8(cs []chan int64, n int64) (sum int64) {
	c0, c1, c2, c3, c4, c5, c6, c7 := cs[0], cs[1], cs[2], cs[3], cs[4], cs[5], cs[6], cs[7]
	for i := int64(0); i < n; i++ {
		var v int64
		select {
		case v = <-c0:
		case v = <-c1:
		case v = <-c2:
		case v = <-c3:
		case v = <-c4:
		case v = <-c5:
		case v = <-c6:
		case v = <-c7:
		}
		sum += v
	}
	return sum
}
