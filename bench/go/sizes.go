package main

// Batch sizes per workload for each size set (full, quick, smoke). Each entry must match the
// rb::pick(...) call of the same workload in bench/*_bench.cc: the harness compares the "n"
// both sides report and flags a mismatch.

type sizes struct{ full, quick, smoke int64 }

var workloadSizes = map[string]sizes{
	"yield":         {100000, 20000, 1000},
	"pingpong":      {100000, 20000, 1000},
	"spawn":         {10000, 10000, 1000},
	"skynet":        {1000000, 10000, 1000},
	"chain":         {100000, 100000, 1000},
	"buffered":      {1000000, 200000, 10000},
	"contended_4x4": {200000, 50000, 2000},
	"select":        {100000, 20000, 1000},
	"parked":        {1000000, 50000, 1000},
	"timers":        {100000, 20000, 1000},
	"pipeline":      {100000, 20000, 1000},
	"workerpool":    {100000, 20000, 1000},
	"fanout_fanin":  {100000, 20000, 1000},
	"tcp_echo":      {2000, 500, 150}, // the measured window in ms, not a batch size
}

// pick returns the batch size of a workload for the size set in use.
func pick(set, workload string) int64 {
	s, ok := workloadSizes[workload]
	if !ok {
		panic("no sizes for workload " + workload)
	}
	switch set {
	case "quick":
		return s.quick
	case "smoke":
		return s.smoke
	}
	return s.full
}
