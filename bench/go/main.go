// Command rillbench runs the Go peers of rill's benchmarks (bench/*_bench.cc): the same
// workloads with the same goroutine counts, channel capacities and work per item, so that the
// harness (tools/bench_report.py) can set each rill row beside its Go row.
//
// Usage:
//
//	rillbench -list
//	rillbench -version
//	rillbench -run NAME|all -workers W [-size full|quick|smoke] [-min-time SECONDS]
//
// GOMAXPROCS is set to -workers. Each result is one JSON line on stdout:
//
//	{"workload":"pingpong","workers":1,"value":212.3,"unit":"ns/roundtrip","n":100000,"batches":24}
//
// Timing mirrors bench_common.h: one untimed warm-up batch of n operations, then timed batches
// until -min-time seconds have passed (at least one), reported as the mean over those batches.
// Workloads that build a million goroutines or time their own events run once, unwarmed, on
// both sides.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"
)

// result is one output line.
type result struct {
	Workload string  `json:"workload"`
	Workers  int     `json:"workers"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	N        int64   `json:"n"`
	Batches  int     `json:"batches"`
}

// config is what every workload gets.
type config struct {
	size    string        // full, quick or smoke
	minTime time.Duration // how long to keep running timed batches
}

type workload func(cfg config) []result

var workloads = map[string]workload{}

// register adds a workload under its harness name; called from init functions.
func register(name string, w workload) {
	if _, dup := workloads[name]; dup {
		panic("duplicate workload " + name)
	}
	workloads[name] = w
}

// timed runs batch (n operations) once to warm up, then until minTime has passed, and returns
// the mean wall-clock nanoseconds per operation and the number of timed batches.
func timed(cfg config, n int64, batch func()) (nsPerOp float64, batches int) {
	batch()
	var total time.Duration
	for batches == 0 || total < cfg.minTime {
		t0 := time.Now()
		batch()
		total += time.Since(t0)
		batches++
	}
	return float64(total.Nanoseconds()) / float64(n) / float64(batches), batches
}

// perOp builds the one result of a timed workload reported as ns per operation.
func perOp(name, unit string, cfg config, n int64, batch func()) []result {
	ns, b := timed(cfg, n, batch)
	return []result{{Workload: name, Value: ns, Unit: unit, N: n, Batches: b}}
}

// throughput builds the one result of a timed workload reported in millions of items/s.
func throughput(name string, cfg config, n int64, batch func()) []result {
	ns, b := timed(cfg, n, batch)
	return []result{{Workload: name, Value: 1e3 / ns, Unit: "Mitems/s", N: n, Batches: b}}
}

func must(ok bool, format string, args ...interface{}) {
	if !ok {
		panic(fmt.Sprintf(format, args...))
	}
}

func main() {
	list := flag.Bool("list", false, "list the workloads and exit")
	version := flag.Bool("version", false, "print the Go version this was built with and exit")
	run := flag.String("run", "", "workload to run, or all")
	workers := flag.Int("workers", 1, "GOMAXPROCS")
	size := flag.String("size", os.Getenv("RILL_BENCH_SIZE"), "size set: full, quick or smoke")
	minTime := flag.Float64("min-time", 0.5, "seconds of timed batches per workload")
	flag.Parse()

	names := make([]string, 0, len(workloads))
	for name := range workloads {
		names = append(names, name)
	}
	sort.Strings(names)
	if *version {
		fmt.Println(runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH)
		return
	}
	if *list {
		fmt.Println(strings.Join(names, "\n"))
		return
	}
	if *size == "" {
		*size = "full"
	}
	if *size != "full" && *size != "quick" && *size != "smoke" {
		fmt.Fprintf(os.Stderr, "rillbench: unknown size %q\n", *size)
		os.Exit(2)
	}
	if *workers < 1 {
		fmt.Fprintln(os.Stderr, "rillbench: -workers must be at least 1")
		os.Exit(2)
	}
	selected := []string{*run}
	if *run == "all" {
		selected = names
	} else if _, ok := workloads[*run]; !ok {
		fmt.Fprintf(os.Stderr, "rillbench: unknown workload %q (try -list)\n", *run)
		os.Exit(2)
	}

	runtime.GOMAXPROCS(*workers)
	cfg := config{size: *size, minTime: time.Duration(*minTime * float64(time.Second))}
	out := json.NewEncoder(os.Stdout)
	for _, name := range selected {
		for _, r := range workloads[name](cfg) {
			r.Workers = *workers
			if err := out.Encode(r); err != nil {
				fmt.Fprintln(os.Stderr, "rillbench:", err)
				os.Exit(1)
			}
		}
	}
}
