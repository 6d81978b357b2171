#!/usr/bin/env bash
# test.sh - run every test: the README's test command and what .ci/run calls.
#
#   tools/test.sh                 everything, in this order (stops at the first failure):
#     setup     tools/setup.sh (installs missing Debian packages; a no-op when all are there)
#     debug     preset debug: build with RILL_WERROR=ON, run ctest (the plain build)
#     epoll     the debug build's suite again on the epoll backend (RILL_IO=epoll); the io
#               tests are left out here because ctest already runs each of them on every
#               backend (io_*.w1.epoll, io_*.w1.uring-poll, ...)
#     asan      preset asan:  the same under AddressSanitizer + UndefinedBehaviorSanitizer
#     tsan      preset tsan:  the same under ThreadSanitizer
#     clang     preset clang: build the whole tree with clang, RILL_WERROR=ON (nothing is run)
#     consumer  install the debug build into a temporary prefix and build tests/consumer/ (C and
#               C++) against it via find_package(rill) and via pkg-config rill, then run them
#     bench     tools/bench.sh --smoke, if that script exists
#   tools/test.sh --quick         setup + debug only, for a quick check while developing
#   tools/test.sh STEP...         only the named steps (e.g. `tools/test.sh asan consumer`)
#   --no-setup                    skip tools/setup.sh
#
# Environment: RILL_TEST_JOBS (default 2) is the build parallelism and the ctest parallelism of
# the debug and asan runs; RILL_TEST_TSAN_JOBS (default 1) the ctest parallelism under TSan, where
# two suites at once on two cores slow each other enough to trip timeouts.
# Test output and sanitizer options come from the test presets in CMakePresets.json.
# Budget: the full run must stay under 20 minutes on a 2-core machine; each step prints its time.
set -euo pipefail

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

JOBS=${RILL_TEST_JOBS:-2}
TSAN_JOBS=${RILL_TEST_TSAN_JOBS:-1}
ALL_STEPS="debug epoll asan tsan clang consumer bench"
steps=""
do_setup=1
while [ $# -gt 0 ]; do
    case $1 in
    --quick) steps="$steps debug" ;;
    --no-setup) do_setup=0 ;;
    -h | --help) usage; exit 0 ;;
    debug | epoll | asan | tsan | clang | consumer | bench) steps="$steps $1" ;;
    *) printf 'tools/test.sh: unknown argument: %s\n\n' "$1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
steps=${steps:-$ALL_STEPS}
steps=${steps# }

current="start"
tmp=""
ctest_passed=0 ctest_failed=0 ctest_skipped=0

fail() {
    printf '\n*** tools/test.sh: FAILED in step "%s": %s\n' "$current" "$*" >&2
    [ -n "$tmp" ] && printf '*** scratch files kept in %s\n' "$tmp" >&2
    exit 1
}

# Run a command, echoing it first; on failure stop the whole script naming the step.
run() {
    printf '+ %s\n' "$*"
    "$@" || fail "exit $?: $*"
}

step_start() {
    current=$1
    step_t0=$SECONDS
    printf '\n==> [%s] %s\n' "$1" "$2"
}

step_end() {
    printf '==> [%s] ok (%ds)\n' "$current" $((SECONDS - step_t0))
}

build() { # preset
    run cmake --preset "$1" -DRILL_WERROR=ON
    run cmake --build --preset "$1" -j "$JOBS"
}

# ctest with the preset's settings; its summary is added to the totals printed at the end.
run_ctest() { # preset jobs [extra ctest args]
    local preset=$1 jobs=$2 log="build/$1/ctest-last${RILL_IO:+-$RILL_IO}.log" status
    shift 2
    printf '+ ctest --preset %s -j %s %s\n' "$preset" "$jobs" "$*"
    set +e
    ctest --preset "$preset" -j "$jobs" "$@" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    set -e
    [ "$status" -eq 0 ] || fail "ctest --preset $preset exited $status (log: $log)"
    local total failed skipped
    total=$(sed -n 's/.* tests failed out of \([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
    failed=$(sed -n 's/.* \([0-9][0-9]*\) tests failed out of.*/\1/p' "$log" | tail -n 1)
    skipped=$(grep -c '(Skipped)$' "$log" || true)
    [ -n "$total" ] || fail "could not read the ctest summary in $log"
    ctest_passed=$((ctest_passed + total - failed - skipped))
    ctest_failed=$((ctest_failed + failed))
    ctest_skipped=$((ctest_skipped + skipped))
}

step_suite() { # preset jobs title
    step_start "$1" "$3"
    build "$1"
    run_ctest "$1" "$2"
    step_end
}

step_clang() {
    step_start clang "build everything with clang, warnings as errors"
    command -v clang >/dev/null || fail "clang not found (tools/setup.sh installs it)"
    build clang
    step_end
}

# Fail unless binary $1 does ($2 = yes) or does not ($2 = no) load librill.so at run time.
check_needs_shared() {
    local needed=no
    readelf -d "$1" | grep -q 'NEEDED.*\[librill\.so' && needed=yes
    [ "$needed" = "$2" ] || fail "$1: expected librill.so needed=$2, got $needed"
}

# Build tests/consumer/ one way and run what it built. Args: a folder name, then cmake options.
consumer_cmake() {
    local dir="$tmp/$1" bin
    shift
    run cmake -S tests/consumer -B "$dir" -DCMAKE_BUILD_TYPE=Debug "$@"
    run cmake --build "$dir" -j "$JOBS"
    for bin in consumer_c consumer_cxx consumer_c_shared; do
        [ -x "$dir/$bin" ] && run "$dir/$bin"
    done
    return 0
}

step_consumer() {
    step_start consumer "install into a temporary prefix, build and run tests/consumer/ against it"
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/rill-consumer.XXXXXX")
    local prefix="$tmp/prefix" pc pcdir cflags libs
    run cmake --preset debug -DRILL_WERROR=ON
    run cmake --build --preset debug -j "$JOBS" --target rill_static rill_shared
    run cmake --install build/debug --prefix "$prefix"
    [ -f "$prefix/include/rill.h" ] || fail "rill.h was not installed under $prefix/include"
    pc=$(find "$prefix" -name rill.pc -print -quit)
    [ -n "$pc" ] || fail "rill.pc was not installed under $prefix"
    pcdir=$(dirname "$pc")

    # find_package(rill), with gcc and with clang: rill::rill (static) and rill::shared.
    consumer_cmake package-gcc -DCMAKE_PREFIX_PATH="$prefix" -DRILL_CONSUMER_VIA=package \
        -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++
    check_needs_shared "$tmp/package-gcc/consumer_c" no
    check_needs_shared "$tmp/package-gcc/consumer_c_shared" yes
    if command -v clang >/dev/null; then
        consumer_cmake package-clang -DCMAKE_PREFIX_PATH="$prefix" -DRILL_CONSUMER_VIA=package \
            -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
    fi

    # pkg-config rill through CMake's pkg_check_modules (links librill.so).
    export PKG_CONFIG_PATH="$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    consumer_cmake pkgconfig -DRILL_CONSUMER_VIA=pkgconfig

    # pkg-config --static by hand: the archive plus Libs.private and Requires.private must be
    # a complete link line. -l:librill.a makes the linker take the archive over librill.so.
    local got
    got=$(pkg-config --variable=includedir rill)
    [ "$(cd "$got" && pwd -P)" = "$(cd "$prefix/include" && pwd -P)" ] ||
        fail "pkg-config rill resolves to $got, not to the temporary prefix"
    cflags=$(pkg-config --cflags rill) || fail "pkg-config --cflags rill"
    libs=$(pkg-config --static --libs rill) || fail "pkg-config --static --libs rill"
    libs=$(printf '%s\n' "$libs" | sed 's/\(^\| \)-lrill\( \|$\)/\1-l:librill.a\2/')
    mkdir -p "$tmp/pkgconfig-static"
    # shellcheck disable=SC2086  # flags from pkg-config are meant to be split
    run gcc -std=c11 -Wall -Wextra -Wpedantic -Werror $cflags tests/consumer/consumer.c \
        -o "$tmp/pkgconfig-static/consumer_c" $libs
    # shellcheck disable=SC2086
    run g++ -std=c++17 -Wall -Wextra -Wpedantic -Werror $cflags tests/consumer/consumer.cc \
        -o "$tmp/pkgconfig-static/consumer_cxx" $libs
    check_needs_shared "$tmp/pkgconfig-static/consumer_c" no
    run "$tmp/pkgconfig-static/consumer_c"
    run "$tmp/pkgconfig-static/consumer_cxx"

    rm -rf "$tmp"
    tmp=""
    step_end
}

step_bench() {
    step_start bench "benchmark harness smoke check"
    if [ -f tools/bench.sh ]; then
        run bash tools/bench.sh --smoke --no-setup # the setup step ran already (or was skipped)
    else
        printf 'tools/bench.sh not present; nothing to check\n'
    fi
    step_end
}

t0=$SECONDS
if [ "$do_setup" -eq 1 ]; then
    step_start setup "tools/setup.sh"
    run sh tools/setup.sh
    step_end
fi

for s in $ALL_STEPS; do
    case " $steps " in *" $s "*) ;; *) continue ;; esac
    case $s in
    debug) step_suite debug "$JOBS" "plain debug build, RILL_DEBUG checks on" ;;
    epoll)
        step_start epoll "the debug suite on the epoll backend (RILL_IO=epoll)"
        build debug
        RILL_IO=epoll run_ctest debug "$JOBS" -LE io
        step_end
        ;;
    asan) step_suite asan "$JOBS" "AddressSanitizer + UndefinedBehaviorSanitizer" ;;
    tsan) step_suite tsan "$TSAN_JOBS" "ThreadSanitizer" ;;
    clang) step_clang ;;
    consumer) step_consumer ;;
    bench) step_bench ;;
    esac
done

current="summary"
printf '\n==> tools/test.sh: all steps passed (%s) in %ds\n' "$steps" $((SECONDS - t0))
if [ $((ctest_passed + ctest_failed + ctest_skipped)) -gt 0 ]; then
    printf 'ctest: %d passed, %d failed, %d skipped\n' \
        "$ctest_passed" "$ctest_failed" "$ctest_skipped"
fi
