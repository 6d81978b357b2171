#!/usr/bin/env bash
# bench.sh - build rill's benchmarks and their Go peers, run them side by side, report ratios.
#
#   tools/bench.sh                 full run: every workload at 1 and 2 workers, rill and Go runs
#                                  alternating, 3 repetitions, medians (about 10-15 minutes)
#   tools/bench.sh --quick         2 repetitions at smaller sizes (under 3 minutes)
#   tools/bench.sh --smoke         smallest sizes, one run each; exits 1 unless every workload
#                                  produced a number (what CI and tools/test.sh run)
#   tools/bench.sh --perf NAME     run one rill benchmark under `perf record -g -e cpu-clock`
#                                  and print the head of `perf report --stdio`; NAME is a
#                                  workload (pingpong, skynet, spsc_cap16, ...; see --list) or
#                                  a BM_ name. Add --workers 2 for two workers. Needs linux-perf.
#   tools/bench.sh --list          list the workloads
#
# Steps: tools/setup.sh (installs missing Debian packages), a Release build in build/bench with
# -DRILL_BENCH=ON -DRILL_TESTS=OFF (which also builds the Go peers in bench/go with Go 1.19),
# then tools/bench_report.py, which writes bench-results/results.json, report.md and
# ratios.svg. ratio > 1 means rill is better than Go.
#
# Other options go to the harness (see python3 tools/bench_report.py --help): --reps N,
# --workers 1,2, --only REGEX, --min-time S, --out DIR, --heavy-reps N.
#   --no-setup                     skip tools/setup.sh
#   --no-build                     use build/bench as it is
# Environment: RILL_BENCH_BUILD_DIR overrides build/bench; RILL_BENCH_JOBS the build parallelism.
set -euo pipefail

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${RILL_BENCH_BUILD_DIR:-build/bench}
JOBS=${RILL_BENCH_JOBS:-$(nproc 2>/dev/null || echo 2)}

do_setup=1
do_build=1
harness_args=()
while [ $# -gt 0 ]; do
    case $1 in
    -h | --help) usage; exit 0 ;;
    --no-setup) do_setup=0 ;;
    --no-build) do_build=0 ;;
    --list) exec python3 tools/bench_report.py --list ;;
    *) harness_args+=("$1") ;;
    esac
    shift
done

say() { printf '==> bench.sh: %s\n' "$*"; }

if [ "$do_setup" -eq 1 ] && [ -f tools/setup.sh ]; then
    say "tools/setup.sh"
    sh tools/setup.sh
fi

if [ "$do_build" -eq 1 ]; then
    say "configure and build $BUILD (Release, RILL_BENCH=ON)"
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DRILL_BENCH=ON -DRILL_TESTS=OFF >/dev/null
    cmake --build "$BUILD" -j "$JOBS"
fi

say "running the harness (${harness_args[*]:-full run})"
exec python3 tools/bench_report.py --build-dir "$BUILD" "${harness_args[@]}"
