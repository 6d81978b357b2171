#!/bin/sh
# setup.sh - install what rill needs to build, test and benchmark, on Debian 12 (bookworm).
#
# Idempotent and non-interactive: it asks dpkg which packages are missing, and only if some are
# runs `apt-get update` once and installs exactly those. On a machine that already has them all
# it changes nothing and needs no root. Otherwise it must run as root (or with sudo available).
# tools/test.sh and tools/bench.sh call it first.
#
#   required  cmake make gcc g++ libc6-dev clang pkg-config   build
#             liburing-dev libck-dev                         the library's dependencies
#             libhttp-parser-dev                             the network examples' HTTP parser
#             libbenchmark-dev golang-1.19-go gnuplot-nox    benchmarks against Go, and plots
#             python3 gdb                                    report tool, gdb extension
#   optional  linux-perf                                     tools/bench.sh --perf; a failure to
#                                                            install it is only a warning
#
# Go is installed as /usr/lib/go-1.19/bin/go (the golang-1.19-go package puts nothing on PATH).
set -eu

REQUIRED="cmake make gcc g++ libc6-dev clang pkg-config liburing-dev libck-dev libhttp-parser-dev
libbenchmark-dev golang-1.19-go gnuplot-nox python3 gdb"
OPTIONAL="linux-perf"

say() { printf 'setup.sh: %s\n' "$*"; }
die() { printf 'setup.sh: error: %s\n' "$*" >&2; exit 1; }

installed() {
    dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    say "not a Debian system; install these (or your distribution's equivalents) yourself:"
    # shellcheck disable=SC2086  # the lists are split on purpose, here and below
    say "  $(printf '%s ' $REQUIRED $OPTIONAL)"
    exit 0
fi

missing=""
for p in $REQUIRED; do
    installed "$p" || missing="$missing $p"
done
missing_opt=""
for p in $OPTIONAL; do
    installed "$p" || missing_opt="$missing_opt $p"
done

if [ -z "$missing$missing_opt" ]; then
    say "all packages present"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    die "missing packages:$missing$missing_opt; run this script as root"
fi

export DEBIAN_FRONTEND=noninteractive
APT_OPTS="-y -q --no-install-recommends"
APT_OPTS="$APT_OPTS -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"

say "apt-get update"
$SUDO apt-get update -q || die "apt-get update failed"

if [ -n "$missing" ]; then
    say "installing:$missing"
    # shellcheck disable=SC2086  # word splitting of the lists is intended
    $SUDO apt-get install $APT_OPTS $missing || die "apt-get install failed for:$missing"
fi
if [ -n "$missing_opt" ]; then
    say "installing (optional):$missing_opt"
    # shellcheck disable=SC2086
    $SUDO apt-get install $APT_OPTS $missing_opt ||
        say "warning: could not install$missing_opt; tools/bench.sh --perf will not work"
fi

for p in $missing; do
    installed "$p" || die "package $p is still not installed"
done
say "done"
