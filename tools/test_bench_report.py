#!/usr/bin/env python3
"""Tests for tools/bench_report.py: parsing, statistics, ratio direction, the outputs' schema,
and one end-to-end run of the harness against fake benchmark binaries (no runtime needed).

Run: python3 tools/test_bench_report.py   (ctest runs it as the bench_report test)
"""

import json
import os
import re
import stat
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
import bench_report as br  # noqa: E402

# A trimmed google-benchmark 1.7.1 --benchmark_format=json document: one iteration entry with
# items_per_second and user counters, one error entry, one aggregate (to be ignored).
GBENCH_JSON = json.dumps({
    "context": {"date": "2026-01-01T00:00:00+00:00", "num_cpus": 2,
                "library_build_type": "release"},
    "benchmarks": [
        {"name": "BM_Chan_PingPong/workers:1/manual_time", "family_index": 0,
         "per_family_instance_index": 0, "run_name": "BM_Chan_PingPong/workers:1/manual_time",
         "run_type": "iteration", "repetitions": 1, "repetition_index": 0, "threads": 1,
         "iterations": 12, "real_time": 25000.0, "cpu_time": 24000.0, "time_unit": "us",
         "items_per_second": 4.0e6, "n": 100000},
        {"name": "BM_Sched_ParkedMinStack/workers:2/iterations:1/manual_time",
         "run_type": "iteration", "iterations": 1, "real_time": 1500.0, "cpu_time": 900.0,
         "time_unit": "ms", "rss_per_g": 4096.0, "spawn_ms": 800.5, "release_ms": 120.25,
         "n": 1000000},
        {"name": "BM_Sched_Skynet/workers:1/manual_time", "run_type": "iteration",
         "error_occurred": True, "error_message": "rill_run: Cannot allocate memory",
         "iterations": 0, "real_time": 0, "cpu_time": 0, "time_unit": "ms"},
        {"name": "BM_Chan_PingPong/workers:1/manual_time_mean", "run_type": "aggregate",
         "aggregate_name": "mean", "real_time": 1.0, "time_unit": "us"},
    ],
})

GO_OUTPUT = "\n".join([
    '{"workload":"pingpong","workers":1,"value":212.5,"unit":"ns/roundtrip","n":100000,'
    '"batches":9}',
    "some stray line",
    '{"not a result": true}',
    '{"workload":"parked_default_rss","workers":2,"value":2710.4,"unit":"B/goroutine","n":1000000}',
    "{broken json",
])


class ParsingTest(unittest.TestCase):
    def test_gbench_drops_aggregates(self):
        entries = br.parse_gbench_json(GBENCH_JSON)
        self.assertEqual(len(entries), 3)
        self.assertTrue(all(e["run_type"] == "iteration" for e in entries))

    def test_gbench_values(self):
        ping, parked, _ = br.parse_gbench_json(GBENCH_JSON)
        self.assertAlmostEqual(br.gbench_value(ping, "ns_per_item"), 250.0)
        self.assertAlmostEqual(br.gbench_value(ping, "mitems_per_s"), 4.0)
        self.assertAlmostEqual(br.gbench_value(ping, "ms_per_iter"), 25.0)  # 25000 us
        self.assertEqual(br.gbench_value(parked, "spawn_ms"), 800.5)
        self.assertEqual(br.gbench_value(parked, "rss_per_g"), 4096.0)
        self.assertAlmostEqual(br.gbench_value(parked, "ms_per_iter"), 1500.0)
        self.assertIsNone(br.gbench_value(parked, "items_per_second_missing"))
        self.assertIsNone(br.gbench_value(parked, "ns_per_item"))  # no items_per_second

    def test_go_lines(self):
        recs = br.parse_go_lines(GO_OUTPUT)
        self.assertEqual([r["workload"] for r in recs], ["pingpong", "parked_default_rss"])
        self.assertEqual(recs[0]["value"], 212.5)
        self.assertEqual(recs[0]["unit"], "ns/roundtrip")
        self.assertEqual(recs[1]["workers"], 2)

    def test_filter_selects_exactly_one_instance(self):
        job = br.find_job("spsc_cap1")
        rx = re.compile(job.filter(1))
        self.assertTrue(rx.search("BM_Chan_SPSC/workers:1/cap:1/manual_time"))
        self.assertFalse(rx.search("BM_Chan_SPSC/workers:1/cap:16/manual_time"))
        self.assertFalse(rx.search("BM_Chan_SPSC/workers:12/cap:1/manual_time"))
        self.assertFalse(rx.search("BM_Chan_MPSC/workers:1/cap:1/manual_time"))
        parked = re.compile(br.find_job("parked_minstack").filter(2))
        self.assertTrue(parked.search("BM_Sched_ParkedMinStack/workers:2/iterations:1/manual_time"))

    def test_find_job_by_any_name(self):
        self.assertEqual(br.find_job("timers_late_p99").name, "timers")
        self.assertEqual(br.find_job("BM_Chan_PingPong").name, "pingpong")
        self.assertEqual(br.find_job("tcp_echo_p99").name, "tcp_echo")
        self.assertIsNone(br.find_job("nonexistent"))


class StatsTest(unittest.TestCase):
    def test_median(self):
        self.assertEqual(br.median([3.0, 1.0, 2.0]), 2.0)
        self.assertEqual(br.median([1.0, 2.0, 3.0, 10.0]), 2.5)
        self.assertIsNone(br.median([]))

    def test_spread(self):
        self.assertEqual(br.spread([2.0, 1.0, 1.5]), 2.0)
        self.assertIsNone(br.spread([5.0]))
        self.assertIsNone(br.spread([0.0, 1.0]))

    def test_ratio_direction(self):
        # costs: rill twice as fast -> 2; rill twice as slow -> 0.5
        self.assertEqual(br.ratio(100.0, 200.0, "ns/roundtrip"), 2.0)
        self.assertEqual(br.ratio(200.0, 100.0, "ns/op"), 0.5)
        self.assertEqual(br.ratio(2048.0, 4096.0, "B/goroutine"), 2.0)
        # throughputs: rill twice the items/s -> 2
        self.assertEqual(br.ratio(20.0, 10.0, "Mitems/s"), 2.0)
        self.assertEqual(br.ratio(10.0, 20.0, "Mitems/s"), 0.5)
        self.assertEqual(br.ratio(40000.0, 20000.0, "roundtrips/s"), 2.0)
        self.assertEqual(br.ratio(120.0, 60.0, "us"), 0.5)  # latencies are costs
        self.assertIsNone(br.ratio(None, 1.0, "ns/op"))
        self.assertIsNone(br.ratio(1.0, None, "ns/op"))
        self.assertIsNone(br.ratio(0.0, 1.0, "ns/op"))

    def test_row_flags_wide_spread(self):
        row = br.Row("pingpong", 1, "ns/roundtrip", [100.0, 150.0, 110.0], [200.0, 201.0])
        self.assertEqual(row.rill, 110.0)
        self.assertEqual(row.go, 200.5)
        self.assertEqual(row.wide(1.25), ["rill x1.50"])
        self.assertEqual(row.wide(2.0), [])


def sample_rows():
    return [
        br.Row("pingpong", 1, "ns/roundtrip", [100.0, 110.0, 90.0], [210.0, 200.0, 220.0]),
        br.Row("spsc_cap16", 2, "Mitems/s", [30.0, 31.0], [15.0, 16.0]),
        br.Row("floor_futex_pingpong", 1, "ns/roundtrip", [5000.0], [], has_go=False),
        br.Row("skynet", 1, "ms", [], [300.0], notes=["rill failed: timed out after 60 s"]),
    ]


class OutputTest(unittest.TestCase):
    def test_results_json_schema(self):
        with tempfile.TemporaryDirectory() as d:
            br.write_outputs(sample_rows(), d, {"cpu": "test cpu"}, {"mode": "test"}, 1.25)
            with open(os.path.join(d, "results.json")) as f:
                data = json.load(f)
        self.assertIsInstance(data, list)
        self.assertEqual(len(data), 4)
        for obj in data:
            self.assertEqual(set(obj), {"workload", "workers", "rill", "go", "unit", "ratio"})
            self.assertIsInstance(obj["workload"], str)
            self.assertIsInstance(obj["workers"], int)
            self.assertIsInstance(obj["unit"], str)
            for k in ("rill", "go", "ratio"):
                self.assertTrue(obj[k] is None or isinstance(obj[k], float), (k, obj))
        ping, spsc, floor, sky = data
        self.assertEqual((ping["rill"], ping["go"], ping["ratio"]), (100.0, 210.0, 2.1))
        self.assertGreater(spsc["ratio"], 1)  # rill has the higher throughput
        self.assertIsNone(floor["go"])
        self.assertIsNone(floor["ratio"])
        self.assertIsNone(sky["rill"])
        self.assertIsNone(sky["ratio"])

    def test_report_md(self):
        machine = {"cpu": "Test CPU 9000", "cores": "2", "kernel": "Linux 6.0",
                   "c compiler": "cc 12", "c++ compiler": "c++ 12", "go": "go1.19.8"}
        with tempfile.TemporaryDirectory() as d:
            br.write_outputs(sample_rows(), d, machine, {"mode": "quick"}, 1.25)
            with open(os.path.join(d, "report.md")) as f:
                md = f.read()
            with open(os.path.join(d, "raw.json")) as f:
                raw = json.load(f)
        self.assertIn("| workload | workers | rill | Go | unit | ratio | note |", md)
        self.assertIn("| pingpong | 1 | 100 | 210 | ns/roundtrip | 2.10x |", md)
        self.assertIn("(floor)", md)
        self.assertIn("rill failed: timed out", md)
        for v in machine.values():
            self.assertIn(v, md)
        self.assertIn("- mode: quick", md)
        self.assertEqual(raw["rows"][0]["rill_samples"], [100.0, 110.0, 90.0])

    def test_text_table_marks_spread(self):
        rows = [br.Row("yield", 1, "ns/switch", [40.0, 80.0], [41.0, 42.0])]
        text = br.render_text(rows, 1.25)
        self.assertIn("spread rill x2.00", text)
        self.assertIn("ratio", text.splitlines()[0])

    @unittest.skipUnless(br.shutil.which("gnuplot"), "gnuplot not installed")
    def test_chart_clips_wild_ratios(self):
        rows = [br.Row("pingpong", 1, "ns/op", [1.0], [2.0]),
                br.Row("timers_late_p50", 1, "us", [1e6], [1.0])]  # ratio 1e-6
        with tempfile.TemporaryDirectory() as d:
            self.assertTrue(br.write_chart(rows, d))
            with open(os.path.join(d, "ratios.dat")) as f:
                lines = f.read().splitlines()
            with open(os.path.join(d, "ratios.svg")) as f:
                self.assertIn("<svg", f.read())
        self.assertIn('"pingpong w1" 2 ', lines[0])
        self.assertIn('"timers_late_p50 w1" %g ' % (1 / br.CHART_CLIP), lines[1])
        self.assertIn('"1e-06x"', lines[1])

    def test_smoke_failures(self):
        bad = br.smoke_failures(sample_rows())
        self.assertEqual(len(bad), 1)
        self.assertIn("skynet w=1: no rill value", bad[0])


FAKE_GBENCH = r'''#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as f:
    f.write("rill " + " ".join(args) + "\n")
flt = [a.split("=", 1)[1] for a in args if a.startswith("--benchmark_filter=")][0]
size = os.environ.get("RILL_BENCH_SIZE")
count = len(open(os.environ["FAKE_LOG"]).read().splitlines())
ns = 100.0 + count  # changes from run to run, so the median is visible
print(json.dumps({"context": {}, "benchmarks": [{
    "name": flt.strip("^").split("(")[0].replace("\\", "") + "/manual_time",
    "run_type": "iteration", "iterations": 5, "real_time": 1.0, "time_unit": "us",
    "items_per_second": 1e9 / ns, "n": 1000 if size == "smoke" else 7,
    "rss_per_g": 4096.0, "spawn_ms": 10.0, "release_ms": 1.0}]}))
'''

FAKE_GO = r'''#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as f:
    f.write("go " + " ".join(args) + "\n")
name = args[args.index("-run") + 1]
workers = int(args[args.index("-workers") + 1])
assert os.environ["GOMAXPROCS"] == str(workers)
names = ["parked_rss", "parked_spawn", "parked_release"] if name == "parked" else [name]
for w in names:
    print(json.dumps({"workload": w, "workers": workers, "value": 300.0, "unit": "x", "n": 1000}))
'''


class EndToEndTest(unittest.TestCase):
    """run_all against fake binaries: alternation, medians, size check, errors."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        d = self.tmp.name
        os.makedirs(os.path.join(d, "bench", "go"))
        self.log = os.path.join(d, "calls.log")
        os.environ["FAKE_LOG"] = self.log
        for path, text in ((os.path.join(d, "bench", "chan_bench"), FAKE_GBENCH),
                           (os.path.join(d, "bench", "sched_bench"), FAKE_GBENCH),
                           (os.path.join(d, "bench", "go", "rillbench"), FAKE_GO)):
            with open(path, "w") as f:
                f.write(text.replace("/usr/bin/env python3", sys.executable, 1))
            os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)

    def tearDown(self):
        os.environ.pop("FAKE_LOG", None)
        self.tmp.cleanup()

    def run_jobs(self, names, mode_name, reps, heavy_reps=1):
        mode = dict(br.MODES[mode_name])
        jobs = [br.find_job(n) for n in names]
        with open(os.devnull, "w") as devnull:
            return br.run_all(jobs, [1, 2], self.tmp.name, mode, reps, heavy_reps, 30,
                              log=devnull)

    def run_pingpong(self, mode_name, reps):
        return self.run_jobs(["pingpong", "select2"], mode_name, reps)

    def test_alternates_and_takes_medians(self):
        rows = self.run_pingpong("smoke", 3)
        with open(self.log) as f:
            calls = [line.split()[0] for line in f]
        # pingpong at w=1 and w=2: rill, go, rill, go, ... for every repetition
        self.assertEqual(calls[:12], ["rill", "go"] * 6)
        ping1 = rows[0]
        self.assertEqual((ping1.workload, ping1.workers), ("pingpong", 1))
        self.assertEqual(len(ping1.rill_samples), 3)
        self.assertEqual(ping1.rill, sorted(ping1.rill_samples)[1])
        self.assertEqual(ping1.go, 300.0)
        self.assertAlmostEqual(ping1.ratio, 300.0 / ping1.rill)
        self.assertEqual(ping1.notes, [])
        # select2 has no chan_bench/select_bench here: the rill side reports the missing binary
        sel = rows[2]
        self.assertEqual(sel.workload, "select2")
        self.assertIsNone(sel.rill)
        self.assertIn("rill failed: select_bench not built", sel.notes)
        self.assertEqual(br.smoke_failures(rows[:2]), [])

    def test_parked_rows_share_one_go_run(self):
        rows = self.run_jobs(["parked_default", "parked_minstack"], "smoke", 3, heavy_reps=2)
        with open(self.log) as f:
            calls = [line.split()[0] for line in f]
        # 2 jobs x 2 worker counts x 2 heavy reps of rill; Go only for the first job's runs
        self.assertEqual(calls.count("rill"), 8)
        self.assertEqual(calls.count("go"), 4)
        by_name = {(r.workload, r.workers): r for r in rows}
        self.assertEqual(len(rows), 12)
        for stack in ("default", "minstack"):
            row = by_name[("parked_%s_rss" % stack, 2)]
            self.assertEqual(row.rill_samples, [4096.0, 4096.0])
            self.assertEqual(row.go_samples, [300.0, 300.0])
            self.assertAlmostEqual(row.ratio, 300.0 / 4096.0)
            self.assertEqual(by_name[("parked_%s_spawn" % stack, 1)].rill, 10.0)

    def test_size_mismatch_is_flagged(self):
        rows = self.run_pingpong("quick", 1)  # fake C++ reports n=7 outside smoke, Go n=1000
        self.assertTrue(any("size mismatch" in n for n in rows[0].notes), rows[0].notes)


class ConsistencyTest(unittest.TestCase):
    """The job table against the sources it names."""

    ROOT = os.path.dirname(HERE)

    def test_every_benchmark_family_exists(self):
        for job in br.JOBS:
            path = os.path.join(self.ROOT, "bench", job.binary.replace("_bench", "_bench.cc"))
            with open(path) as f:
                src = f.read()
            self.assertRegex(src, r"BENCHMARK\(%s\)" % re.escape(job.bench), job.name)

    def test_every_go_peer_is_registered(self):
        src = ""
        godir = os.path.join(self.ROOT, "bench", "go")
        for name in os.listdir(godir):
            if name.endswith(".go"):
                with open(os.path.join(godir, name)) as f:
                    src += f.read()
        for job in br.JOBS:
            if not job.go:
                continue
            m = re.match(r"(spsc|mpsc|mpmc)_cap\d+$", job.go_name)
            needle = 'register(fmt.Sprintf("%s_cap%%d"' % m.group(1) if m else \
                'register("%s"' % job.go_name
            self.assertIn(needle, src, job.name)

    def test_units_and_names_unique(self):
        names = [m.workload for j in br.JOBS for m in j.metrics]
        self.assertEqual(len(names), len(set(names)))
        for j in br.JOBS:
            for m in j.metrics:
                self.assertTrue(m.unit, m.workload)


if __name__ == "__main__":
    unittest.main(verbosity=2)
