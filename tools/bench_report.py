#!/usr/bin/env python3
"""bench_report.py - run rill's benchmarks beside their Go peers and report the ratios.

Usually started by tools/bench.sh, which builds everything first. The harness takes a build
directory configured with -DRILL_BENCH=ON (bench/*_bench executables and bench/go/rillbench
inside it) and, for every workload and worker count, runs the rill benchmark and its Go peer
alternately (rill, Go, rill, Go, ...) --reps times, each run in a fresh process so that no run
inherits another's warm caches, stacks or heap. It takes the median of each side, flags rows
whose runs spread widely (max/min over --spread-flag), and prints one table:

    workload  workers  rill  Go  unit  ratio

ratio is how many times rill is better: Go/rill for times (ns/op, ms, us, bytes per goroutine),
rill/Go for throughputs (Mitems/s, roundtrips/s). ratio > 1 means rill is better.

Files written to --out (default bench-results/ beside tools/):
    results.json  [{"workload", "workers", "rill", "go", "unit", "ratio"}, ...]
    report.md     the table, the notes and the machine (CPU, cores, kernel, compilers, Go)
    ratios.svg    log-scale bar chart of the ratios around 1 (gnuplot; skipped without it)
    raw.json      every sample, spread and note, for digging into a row

Modes: default (3 reps, full sizes), --quick (2 reps, smaller sizes, shorter runs), --smoke (one
run at the smallest sizes; exit 1 unless every workload produced a number: for CI), and
--perf NAME (one rill benchmark under `perf record -g -e cpu-clock`, then the head of
`perf report --stdio`).

Python 3 standard library only. tools/test_bench_report.py tests the parsing and the reports.
"""

import argparse
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Units in which a bigger number is better; every other unit is a cost (time, bytes).
HIGHER_IS_BETTER = {"Mitems/s", "roundtrips/s"}

# The chart's axis covers ratios from 1/CHART_CLIP to CHART_CLIP.
CHART_CLIP = 100.0


@dataclass
class Metric:
    """One reported number of a job: its row name, its unit and where the C++ value comes from.

    source is one of:
      ns_per_item   1e9 / items_per_second (benchmarks that SetItemsProcessed)
      mitems_per_s  items_per_second / 1e6
      ms_per_iter   the manual time of one iteration, in ms
      anything else the name of a google-benchmark counter holding the value as is
    """

    workload: str
    unit: str
    source: str
    go_workload: Optional[str] = None  # the Go peer's name for it, when not the same

    @property
    def go_name(self) -> str:
        return self.go_workload or self.workload


@dataclass
class Job:
    """One C++ benchmark (binary + family + extra args) and its Go peer, run per worker count."""

    name: str  # also the Go peer's -run name
    binary: str  # executable in <build>/bench/
    bench: str  # google-benchmark family, BM_<Module>_<Op>
    metrics: List[Metric]
    args: List[Tuple[str, int]] = field(default_factory=list)  # named args after workers
    go: bool = True  # has a Go peer
    heavy: bool = False  # one run can take tens of seconds: repeated --heavy-reps times
    go_run: Optional[str] = None  # the Go peer's -run name, when not the job's name;
    # jobs sharing one go_run share its Go runs (one Go run per worker count and repetition)

    @property
    def go_name(self) -> str:
        return self.go_run or self.name

    def filter(self, workers: int) -> str:
        """The --benchmark_filter regex selecting exactly this job at this worker count."""
        parts = [self.bench, "workers:%d" % workers]
        parts += ["%s:%d" % (k, v) for k, v in self.args]
        return "^" + re.escape("/".join(parts)) + "(/|$)"


def _one(name, binary, bench, unit, source, **kw) -> Job:
    return Job(name, binary, bench, [Metric(name, unit, source)], **kw)


def _jobs() -> List[Job]:
    jobs = [
        _one("yield", "sched_bench", "BM_Sched_Yield", "ns/switch", "ns_per_item"),
        _one("pingpong", "chan_bench", "BM_Chan_PingPong", "ns/roundtrip", "ns_per_item"),
        _one("spawn", "sched_bench", "BM_Sched_SpawnExit", "ns/spawn", "ns_per_item"),
        _one("skynet", "sched_bench", "BM_Sched_Skynet", "ms", "ms_per_iter"),
        _one("chain", "sched_bench", "BM_Sched_Chain", "ns/spawn", "ns_per_item"),
    ]
    for kind in ("spsc", "mpsc", "mpmc"):
        bench = "BM_Chan_" + kind.upper()
        for cap in (1, 16, 1024):
            jobs.append(_one("%s_cap%d" % (kind, cap), "chan_bench", bench, "Mitems/s",
                             "mitems_per_s", args=[("cap", cap)]))
    jobs += [
        _one("contended_4x4", "chan_bench", "BM_Chan_Contended4x4", "Mitems/s", "mitems_per_s"),
        _one("select2", "select_bench", "BM_Select_Recv", "ns/select", "ns_per_item",
             args=[("cases", 2)]),
        _one("select8", "select_bench", "BM_Select_Recv", "ns/select", "ns_per_item",
             args=[("cases", 8)]),
    ]
    # Go has one kind of goroutine stack, so both rill stack sizes are set beside one Go run.
    for name, bench in (("parked_default", "BM_Sched_ParkedDefaultStack"),
                        ("parked_minstack", "BM_Sched_ParkedMinStack")):
        jobs.append(Job(name, "sched_bench", bench, [
            Metric(name + "_rss", "B/goroutine", "rss_per_g", "parked_rss"),
            Metric(name + "_spawn", "ms", "spawn_ms", "parked_spawn"),
            Metric(name + "_release", "ms", "release_ms", "parked_release"),
        ], heavy=True, go_run="parked"))
    jobs += [
        Job("timers", "timer_bench", "BM_Timer_Sleep1ms", [
            Metric("timers_wall", "ms", "wall_ms"),
            Metric("timers_late_p50", "us", "late_p50_us"),
            Metric("timers_late_p99", "us", "late_p99_us"),
        ]),
        _one("pipeline", "patterns_bench", "BM_Patterns_Pipeline", "ns/item", "ns_per_item"),
        _one("workerpool", "patterns_bench", "BM_Patterns_WorkerPool", "ns/job", "ns_per_item"),
        _one("fanout_fanin", "patterns_bench", "BM_Patterns_FanOutFanIn", "ns/item",
             "ns_per_item"),
        # 64 loopback connections echoing 64-byte messages for a fixed window (io_bench.cc).
        Job("tcp_echo", "io_bench", "BM_IO_TcpEcho", [
            Metric("tcp_echo", "roundtrips/s", "roundtrips_per_s"),
            Metric("tcp_echo_p50", "us", "lat_p50_us"),
            Metric("tcp_echo_p99", "us", "lat_p99_us"),
        ]),
        # Floors: no Go peer. workers = CPUs the two threads are pinned to (see floor_bench.cc).
        _one("floor_condvar_pingpong", "floor_bench", "BM_Floor_CondvarPingPong",
             "ns/roundtrip", "ns_per_item", go=False),
        _one("floor_futex_pingpong", "floor_bench", "BM_Floor_FutexPingPong", "ns/roundtrip",
             "ns_per_item", go=False),
        _one("floor_selfyield", "floor_bench", "BM_Floor_SelfYield", "ns/yield", "ns_per_item",
             go=False),
        _one("floor_raw_switch", "floor_bench", "BM_Floor_RawSwitch", "ns/switch", "ns_per_item",
             go=False),
    ]
    return jobs


JOBS = _jobs()

# Per mode: size set, repetitions, seconds of timed batches per run, and seconds before a
# benchmark process is killed (its row then reads "timed out": the time limits of the modes
# hold even when one side is pathologically slow).
MODES = {
    "full": {"size": "full", "reps": 3, "min_time": 0.3, "timeout": 300},
    "quick": {"size": "quick", "reps": 2, "min_time": 0.1, "timeout": 60},
    "smoke": {"size": "smoke", "reps": 1, "min_time": 0.0, "timeout": 60},
}

# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------

_TIME_UNIT_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}


def parse_gbench_json(text: str) -> List[dict]:
    """The per-run entries of google-benchmark's --benchmark_format=json output (aggregates
    such as _mean/_median from --benchmark_repetitions are dropped: the harness repeats by
    process)."""
    doc = json.loads(text)
    return [b for b in doc.get("benchmarks", []) if b.get("run_type", "iteration") == "iteration"]


def gbench_value(entry: dict, source: str) -> Optional[float]:
    """One metric of a google-benchmark entry (see Metric.source), or None if absent."""
    if source in ("ns_per_item", "mitems_per_s"):
        ips = entry.get("items_per_second")
        if not ips:
            return None
        return 1e9 / ips if source == "ns_per_item" else ips / 1e6
    if source == "ms_per_iter":
        t = entry.get("real_time")
        scale = _TIME_UNIT_MS.get(entry.get("time_unit", "ns"))
        return None if t is None or scale is None else t * scale
    v = entry.get(source)
    return float(v) if isinstance(v, (int, float)) else None


def parse_go_lines(text: str) -> List[dict]:
    """The JSON result lines of bench/go/rillbench; other lines (none expected) are skipped."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and "workload" in rec and "value" in rec:
            out.append(rec)
    return out


# ---------------------------------------------------------------------------------------------
# Statistics and rows
# ---------------------------------------------------------------------------------------------


def median(values: List[float]) -> Optional[float]:
    return statistics.median(values) if values else None


def spread(values: List[float]) -> Optional[float]:
    """max/min over the runs: 1.0 is perfectly steady. None with fewer than two positive runs."""
    vals = [v for v in values if v is not None]
    if len(vals) < 2 or min(vals) <= 0:
        return None
    return max(vals) / min(vals)


def ratio(rill: Optional[float], go: Optional[float], unit: str) -> Optional[float]:
    """How many times rill is better than Go (> 1: rill better)."""
    if rill is None or go is None or rill <= 0 or go <= 0:
        return None
    return rill / go if unit in HIGHER_IS_BETTER else go / rill


@dataclass
class Row:
    workload: str
    workers: int
    unit: str
    rill_samples: List[float] = field(default_factory=list)
    go_samples: List[float] = field(default_factory=list)
    has_go: bool = True
    notes: List[str] = field(default_factory=list)
    n: Dict[str, float] = field(default_factory=dict)  # side -> operations per batch

    @property
    def rill(self) -> Optional[float]:
        return median(self.rill_samples)

    @property
    def go(self) -> Optional[float]:
        return median(self.go_samples)

    @property
    def ratio(self) -> Optional[float]:
        return ratio(self.rill, self.go, self.unit)

    def wide(self, limit: float) -> List[str]:
        """Sides whose runs spread over limit, e.g. ['rill x1.41']."""
        out = []
        for side, samples in (("rill", self.rill_samples), ("go", self.go_samples)):
            s = spread(samples)
            if s is not None and s > limit:
                out.append("%s x%.2f" % (side, s))
        return out


def _round(v: Optional[float], digits: int = 4) -> Optional[float]:
    """Round to a few significant digits for the JSON, keeping None."""
    if v is None or not math.isfinite(v):
        return None
    if v == 0:
        return 0.0
    return round(v, max(0, digits - 1 - int(math.floor(math.log10(abs(v))))))


def results_json(rows: List[Row]) -> List[dict]:
    """results.json: one object per row with exactly the keys the README documents."""
    return [{
        "workload": r.workload,
        "workers": r.workers,
        "rill": _round(r.rill),
        "go": _round(r.go),
        "unit": r.unit,
        "ratio": _round(r.ratio, 3),
    } for r in rows]


def fmt_num(v: Optional[float]) -> str:
    if v is None:
        return "-"
    a = abs(v)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    return "%.2f" % v


def fmt_ratio(v: Optional[float]) -> str:
    return "-" if v is None else "%.2fx" % v


def table_cells(rows: List[Row], limit: float) -> List[List[str]]:
    header = ["workload", "workers", "rill", "Go", "unit", "ratio", "note"]
    cells = [header]
    for r in rows:
        note = list(r.notes)
        w = r.wide(limit)
        if w:
            note.append("spread " + ", ".join(w))
        cells.append([r.workload, str(r.workers), fmt_num(r.rill),
                      fmt_num(r.go) if r.has_go else "(floor)", r.unit, fmt_ratio(r.ratio),
                      "; ".join(note)])
    return cells


def render_text(rows: List[Row], limit: float) -> str:
    cells = table_cells(rows, limit)
    widths = [max(len(c[i]) for c in cells) for i in range(len(cells[0]) - 1)]
    right = {1, 2, 3, 5}
    lines = []
    for c in cells:
        parts = [c[i].rjust(widths[i]) if i in right else c[i].ljust(widths[i])
                 for i in range(len(widths))]
        lines.append("  ".join(parts) + ("  " + c[-1] if c[-1] else ""))
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def render_markdown_table(rows: List[Row], limit: float) -> str:
    cells = table_cells(rows, limit)
    out = ["| " + " | ".join(cells[0]) + " |",
           "|" + "|".join(["---", "---:", "---:", "---:", "---", "---:", "---"]) + "|"]
    for c in cells[1:]:
        out.append("| " + " | ".join(x.replace("|", "\\|") for x in c) + " |")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Machine description
# ---------------------------------------------------------------------------------------------


def _first_line(cmd: List[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def _cmake_cache(build_dir: str, key: str) -> Optional[str]:
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return None


def machine_info(build_dir: str) -> Dict[str, str]:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "unknown"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = "%.1f GiB" % (kb / 1048576)
    except (OSError, ValueError, IndexError):
        pass
    info = {
        "cpu": cpu,
        "cores": "%d online, %d usable by this process" % (os.cpu_count() or 0,
                                                           len(os.sched_getaffinity(0))),
        "memory": mem,
        "kernel": "%s %s" % (platform.system(), platform.release()),
    }
    for lang, key in (("c compiler", "CMAKE_C_COMPILER"), ("c++ compiler", "CMAKE_CXX_COMPILER")):
        path = _cmake_cache(build_dir, key)
        info[lang] = _first_line([path, "--version"]) if path else "unknown"
    info["build type"] = _cmake_cache(build_dir, "CMAKE_BUILD_TYPE") or "unknown"
    gobin = go_binary(build_dir)
    info["go"] = _first_line([gobin, "-version"]) if os.path.exists(gobin) else "not built"
    return info


# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------


def report_markdown(rows: List[Row], machine: Dict[str, str], settings: Dict[str, object],
                    limit: float, chart: bool) -> str:
    out = ["# rill vs Go benchmark report", ""]
    out.append("Generated by `tools/bench.sh` (tools/bench_report.py) on %s." %
               time.strftime("%Y-%m-%d %H:%M:%S %Z"))
    out += ["", "**ratio** = how many times rill is better than Go: Go/rill for times and "
            "sizes, rill/Go for throughputs (Mitems/s, roundtrips/s). Above 1 means rill is "
            "better. Each value is the median of the runs; rill and Go runs alternate, each in a "
            "fresh process. *workers* is the number of rill workers and Go's GOMAXPROCS (for the "
            "thread floors: the number of CPUs their two threads are pinned to).", ""]
    out.append(render_markdown_table(rows, limit))
    out.append("")
    if chart:
        out += ["![ratios](ratios.svg)", ""]
    out += ["## Settings", ""]
    for k, v in settings.items():
        out.append("- %s: %s" % (k, v))
    out += ["", "## Machine", ""]
    for k, v in machine.items():
        out.append("- %s: %s" % (k, v))
    out += ["", "## Workloads", "",
            "The sources are `bench/*_bench.cc` (rill) and `bench/go/*.go` (Go); each C++ "
            "benchmark's comment names its Go peer. Sizes per run are in bench/go/sizes.go and "
            "the matching `rb::pick` calls. The parked_* and timers rows come from one "
            "measurement per run (no warm-up, one process each), and the tcp_echo rows from one "
            "fixed window per run (64 connections, 64-byte messages, after a warm-up of a tenth "
            "of the window; p50/p99 are round-trip latencies); Go has one kind of goroutine "
            "stack, so one Go run per worker count and repetition stands beside both "
            "parked_default and parked_minstack. The floors have no Go peer.",
            ""]
    return "\n".join(out)


def write_chart(rows: List[Row], out_dir: str) -> bool:
    """ratios.svg via gnuplot: one bar per row from 1 to its ratio on a log axis, green where
    rill is better, red where Go is. The axis stops at CHART_CLIP either way so that one wild
    row cannot flatten the rest; a clipped bar carries its true value as a label. Returns
    whether the chart was drawn."""
    pts = [(r, r.ratio) for r in rows if r.ratio is not None]
    gnuplot = shutil.which("gnuplot")
    if not pts or not gnuplot:
        return False
    clip_lo, clip_hi = 1.0 / CHART_CLIP, CHART_CLIP
    dat = os.path.join(out_dir, "ratios.dat")
    with open(dat, "w") as f:
        for i, (r, q) in enumerate(pts):
            shown = min(max(q, clip_lo), clip_hi)
            color = 0x2E7D32 if q >= 1 else 0xC62828
            label = ("%.3gx" % q) if shown != q else ""
            label_y = shown * 1.5 if q >= 1 else shown / 1.5  # just beyond the bar's end
            f.write('%d "%s w%d" %.6g %d "%s" %.6g\n' % (i, r.workload, r.workers, shown, color,
                                                        label, label_y))
    shown_all = [min(max(q, clip_lo), clip_hi) for _, q in pts]
    ymin = 10 ** math.floor(math.log10(min(min(shown_all), 1.0) / 2.5))
    ymax = 10 ** math.ceil(math.log10(max(max(shown_all), 1.0) * 2.5))
    width = max(900, 24 * len(pts) + 160)
    script = os.path.join(out_dir, "ratios.gp")
    with open(script, "w") as f:
        f.write("\n".join([
            "set terminal svg size %d,560 dynamic noenhanced font 'sans,10' "
            "background rgb 'white'" % width,
            "set output '%s'" % os.path.join(out_dir, "ratios.svg").replace("'", "''"),
            "set title 'rill vs Go: how many times rill is better (above 1: rill better)'",
            "set logscale y",
            "set format y '%g'",
            "set yrange [%g:%g]" % (ymin, ymax),
            "set ylabel 'ratio (log scale)'",
            "set xrange [-0.8:%g]" % (len(pts) - 0.2),
            "set xtics rotate by -60 nomirror font ',8'",
            "set grid ytics",
            "set style fill solid 0.85 noborder",
            "unset key",
            "set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 1.5 lc rgb 'black'",
            # x y xlow xhigh ylow yhigh: each bar spans from 1 to the ratio
            "plot '%s' using 1:3:($1-0.38):($1+0.38):($3<1?$3:1):($3<1?1:$3):4:xtic(2) "
            "with boxxyerror lc rgb variable, \\" % dat.replace("'", "''"),
            "     '' using 1:6:5 with labels font ',7'",
            "",
        ]))
    res = subprocess.run([gnuplot, script], capture_output=True, text=True)
    if res.returncode != 0:
        print("bench_report: gnuplot failed: %s" % res.stderr.strip(), file=sys.stderr)
        return False
    return True


def write_outputs(rows: List[Row], out_dir: str, machine: Dict[str, str],
                  settings: Dict[str, object], limit: float) -> None:
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(results_json(rows), f, indent=1)
        f.write("\n")
    raw = {"settings": settings, "machine": machine, "rows": [{
        "workload": r.workload, "workers": r.workers, "unit": r.unit,
        "rill_samples": r.rill_samples, "go_samples": r.go_samples,
        "rill_spread": spread(r.rill_samples), "go_spread": spread(r.go_samples),
        "n": r.n, "notes": r.notes} for r in rows]}
    with open(os.path.join(out_dir, "raw.json"), "w") as f:
        json.dump(raw, f, indent=1)
        f.write("\n")
    chart = write_chart(rows, out_dir)
    with open(os.path.join(out_dir, "report.md"), "w") as f:
        f.write(report_markdown(rows, machine, settings, limit, chart))
        f.write("\n")


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


def go_binary(build_dir: str) -> str:
    return os.path.join(build_dir, "bench", "go", "rillbench")


def cxx_binary(build_dir: str, job: Job) -> str:
    return os.path.join(build_dir, "bench", job.binary)


@dataclass
class RunResult:
    values: Dict[str, float]  # workload -> value
    n: Optional[float] = None  # operations per batch, as the benchmark reported it
    error: Optional[str] = None


def _tail(text: str, lines: int = 3) -> str:
    return " | ".join(text.strip().splitlines()[-lines:])


def _run(cmd: List[str], env: Dict[str, str], timeout: float) -> Tuple[Optional[str], str]:
    """(stdout, error) of one benchmark process; stdout is None on failure."""
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timed out after %.0f s" % timeout
    except OSError as e:
        return None, str(e)
    if res.returncode != 0:
        how = ("killed by signal %d" % -res.returncode if res.returncode < 0
               else "exit %d" % res.returncode)
        return None, "%s: %s" % (how, _tail(res.stderr) or "no message")
    return res.stdout, ""


def run_cxx(job: Job, workers: int, build_dir: str, mode: dict, timeout: float) -> RunResult:
    exe = cxx_binary(build_dir, job)
    if not os.path.exists(exe):
        return RunResult({}, error="%s not built" % job.binary)
    env = dict(os.environ, RILL_BENCH_SIZE=mode["size"])
    env.pop("RILL_WORKERS", None)  # cfg.workers decides; keep the environment out of it
    cmd = [exe, "--benchmark_filter=" + job.filter(workers), "--benchmark_format=json",
           "--benchmark_min_time=%g" % mode["min_time"]]
    out, err = _run(cmd, env, timeout)
    if out is None:
        return RunResult({}, error=err)
    try:
        entries = parse_gbench_json(out)
    except ValueError as e:
        return RunResult({}, error="bad JSON from %s: %s" % (job.binary, e))
    if not entries:
        return RunResult({}, error="no benchmark matched %s" % job.filter(workers))
    entry = entries[0]
    if entry.get("error_occurred"):
        return RunResult({}, error=entry.get("error_message", "error"))
    values = {}
    for m in job.metrics:
        v = gbench_value(entry, m.source)
        if v is not None and math.isfinite(v):
            values[m.workload] = v
    return RunResult(values, n=entry.get("n"))


def run_go(job: Job, workers: int, build_dir: str, mode: dict, timeout: float) -> RunResult:
    exe = go_binary(build_dir)
    if not os.path.exists(exe):
        return RunResult({}, error="bench/go/rillbench not built")
    env = dict(os.environ, GOMAXPROCS=str(workers), RILL_BENCH_SIZE=mode["size"])
    cmd = [exe, "-run", job.go_name, "-workers", str(workers), "-size", mode["size"],
           "-min-time", "%g" % mode["min_time"]]
    out, err = _run(cmd, env, timeout)
    if out is None:
        return RunResult({}, error=err)
    values, n = {}, None
    for rec in parse_go_lines(out):
        values[rec["workload"]] = float(rec["value"])
        n = rec.get("n", n)
    if not values:
        return RunResult({}, error="no result lines from rillbench")
    return RunResult(values, n=n)


def _note_once(row: Row, note: str) -> None:
    if note not in row.notes:
        row.notes.append(note)


def _show(res: RunResult, job: Job, side: str) -> str:
    if res.error:
        return "error"
    m = job.metrics[0]
    v = res.values.get(m.workload if side == "rill" else m.go_name)
    return "%s %s" % (fmt_num(v), m.unit) if v is not None else "missing"


def run_all(jobs: List[Job], workers_list: List[int], build_dir: str, mode: dict, reps: int,
            heavy_reps: int, timeout: float, log=sys.stderr) -> List[Row]:
    rows: Dict[Tuple[str, int], Row] = {}
    order: List[Tuple[str, int]] = []
    for job in jobs:
        for w in workers_list:
            for m in job.metrics:
                rows[(m.workload, w)] = Row(m.workload, w, m.unit, has_go=job.go)
                order.append((m.workload, w))
    total = sum(len(workers_list) * (min(reps, heavy_reps) if j.heavy else reps) for j in jobs)
    go_runs: Dict[Tuple[str, int, int], RunResult] = {}  # (go_run, workers, rep) -> result
    done = 0
    t_start = time.monotonic()
    for job in jobs:
        for w in workers_list:
            job_reps = min(reps, heavy_reps) if job.heavy else reps
            for rep in range(job_reps):
                done += 1
                shown = []
                res = run_cxx(job, w, build_dir, mode, timeout)
                shown.append("rill " + _show(res, job, "rill"))
                _record(rows, job, w, "rill", res)
                if job.go:
                    key = (job.go_name, w, rep)
                    shared = key in go_runs
                    if not shared:
                        go_runs[key] = run_go(job, w, build_dir, mode, timeout)
                    res = go_runs[key]
                    shown.append("go " + _show(res, job, "go") + (" (shared)" if shared else ""))
                    _record(rows, job, w, "go", res)
                print("[%3d/%d %5.0fs] %-24s w=%d rep %d/%d: %s" % (
                    done, total, time.monotonic() - t_start, job.name, w, rep + 1, job_reps,
                    ", ".join(shown)), file=log, flush=True)
    return [rows[k] for k in order]


def _record(rows: Dict[Tuple[str, int], Row], job: Job, w: int, side: str,
            res: RunResult) -> None:
    for m in job.metrics:
        row = rows[(m.workload, w)]
        if res.error:
            _note_once(row, "%s failed: %s" % (side, res.error))
            continue
        v = res.values.get(m.workload if side == "rill" else m.go_name)
        if v is None:
            _note_once(row, "%s gave no value" % side)
            continue
        (row.rill_samples if side == "rill" else row.go_samples).append(v)
        if res.n is not None:
            row.n[side] = float(res.n)
        if len(set(row.n.values())) > 1:
            _note_once(row, "size mismatch: rill n=%g, go n=%g" % (row.n["rill"], row.n["go"]))


def smoke_failures(rows: List[Row]) -> List[str]:
    """Rows lacking a number on a side that should have one."""
    bad = []
    for r in rows:
        if r.rill is None:
            bad.append("%s w=%d: no rill value (%s)" % (r.workload, r.workers,
                                                         "; ".join(r.notes) or "?"))
        if r.has_go and r.go is None:
            bad.append("%s w=%d: no Go value (%s)" % (r.workload, r.workers,
                                                       "; ".join(r.notes) or "?"))
    return bad


def find_job(name: str) -> Optional[Job]:
    for job in JOBS:
        if name in (job.name, job.bench) or name in [m.workload for m in job.metrics]:
            return job
    return None


def run_perf(name: str, workers: int, build_dir: str, mode: dict, out_dir: str,
             lines: int) -> int:
    job = find_job(name)
    if job is None:
        print("bench_report: no workload named %r; choose from: %s" % (
            name, ", ".join(j.name for j in JOBS)), file=sys.stderr)
        return 2
    perf = shutil.which("perf")
    if not perf:
        print("bench_report: perf not found (Debian package linux-perf)", file=sys.stderr)
        return 1
    exe = cxx_binary(build_dir, job)
    if not os.path.exists(exe):
        print("bench_report: %s not built" % exe, file=sys.stderr)
        return 1
    os.makedirs(out_dir, exist_ok=True)
    data = os.path.join(out_dir, "perf-%s-w%d.data" % (job.name, workers))
    env = dict(os.environ, RILL_BENCH_SIZE=mode["size"])
    rec = [perf, "record", "-g", "-e", "cpu-clock", "-o", data, "--", exe,
           "--benchmark_filter=" + job.filter(workers),
           "--benchmark_min_time=%g" % max(mode["min_time"], 1.0)]
    print("+ " + " ".join(rec), file=sys.stderr)
    if subprocess.run(rec, env=env).returncode != 0:
        return 1
    rep = subprocess.run([perf, "report", "--stdio", "--no-children", "-i", data],
                         capture_output=True, text=True)
    print("\n".join(rep.stdout.splitlines()[:lines]))
    print("\n(full profile: perf report -i %s)" % data)
    return rep.returncode


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def parse_args(argv: List[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Run rill's benchmarks against their Go peers and report the ratios.")
    p.add_argument("--build-dir", default=os.path.join(ROOT, "build", "bench"),
                   help="build directory configured with -DRILL_BENCH=ON (default build/bench)")
    p.add_argument("--out", default=os.path.join(ROOT, "bench-results"),
                   help="where to write results.json, report.md, ratios.svg "
                   "(default bench-results)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="2 reps, smaller sizes (under 3 minutes)")
    g.add_argument("--smoke", action="store_true",
                   help="1 rep, smallest sizes; exit 1 unless every workload gave a number")
    p.add_argument("--perf", metavar="NAME",
                   help="profile one rill benchmark with perf record -g -e cpu-clock (sizes "
                   "from --quick/--smoke if given; the first of --workers)")
    p.add_argument("--reps", type=int, help="repetitions per side (default by mode: 3/2/1)")
    p.add_argument("--heavy-reps", type=int, default=1,
                   help="repetitions for the million-goroutine rows (default 1; capped by --reps)")
    p.add_argument("--min-time", type=float, help="seconds of timed batches per run")
    p.add_argument("--workers", default="1,2", help="worker counts, comma-separated (default 1,2)")
    p.add_argument("--only", metavar="REGEX", help="only the workloads whose name matches")
    p.add_argument("--timeout", type=float,
                   help="seconds per benchmark process (default by mode: 300/60/60)")
    p.add_argument("--spread-flag", type=float, default=1.25,
                   help="flag rows whose runs spread more than this max/min (default 1.25)")
    p.add_argument("--perf-lines", type=int, default=60, help="lines of perf report to print")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    return p.parse_args(argv)


def main(argv: List[str]) -> int:
    args = parse_args(argv)
    if args.list:
        for job in JOBS:
            print("%-24s %s/%s%s" % (job.name, job.binary, job.bench,
                                     "" if job.go else "  (floor, no Go peer)"))
        return 0
    mode_name = "smoke" if args.smoke else "quick" if args.quick else "full"
    mode = dict(MODES[mode_name])
    if args.min_time is not None:
        mode["min_time"] = args.min_time
    reps = args.reps or mode["reps"]
    workers_list = [int(w) for w in args.workers.split(",") if w.strip()]
    build_dir = os.path.abspath(args.build_dir)

    if args.perf:
        return run_perf(args.perf, workers_list[0], build_dir, mode, args.out, args.perf_lines)

    jobs = [j for j in JOBS if not args.only or re.search(args.only, j.name)]
    if not jobs:
        print("bench_report: --only %r matches no workload" % args.only, file=sys.stderr)
        return 2
    t0 = time.monotonic()
    timeout = args.timeout or mode["timeout"]
    rows = run_all(jobs, workers_list, build_dir, mode, reps, args.heavy_reps, timeout)
    elapsed = time.monotonic() - t0
    settings = {
        "mode": mode_name,
        "sizes": mode["size"] + " (RILL_BENCH_SIZE)",
        "repetitions per side": "%d (million-goroutine rows: %d)" % (
            reps, min(reps, args.heavy_reps)),
        "timed seconds per run": mode["min_time"],
        "spread flag": "max/min over %.2f" % args.spread_flag,
        "harness time": "%.0f s" % elapsed,
    }
    write_outputs(rows, args.out, machine_info(build_dir), settings, args.spread_flag)
    print()
    print(render_text(rows, args.spread_flag))
    print("\nratio > 1: rill better. Wrote %s/{results.json,report.md,ratios.svg} in %.0f s." %
          (args.out, elapsed))
    if args.smoke:
        bad = smoke_failures(rows)
        if bad:
            print("\nsmoke check FAILED:\n  " + "\n  ".join(bad), file=sys.stderr)
            return 1
        print("smoke check passed: %d rows, every workload produced a number" % len(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
