#!/bin/sh
# perf_stacks.sh TARGET - `perf record -g -e cpu-clock` must unwind goroutine stacks through
# rill's context switch: every sample in the goroutine's leaf function must show the whole
# chain perf_leaf <- perf_goroutine <- rilli_g_main <- rilli_ctx_entry (99% of them: see below)
# and none may hold an [unknown] frame.
# Exit 77 (skip) where perf is missing or not allowed to record.
set -u
target=$1
command -v perf >/dev/null 2>&1 || { echo "perf not installed: skip"; exit 77; }
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
if ! perf record -q -g -e cpu-clock -o "$dir/perf.data" "$target" >"$dir/out" 2>"$dir/err"; then
    cat "$dir/err"
    echo "perf record failed: skip"
    exit 77
fi
perf script -i "$dir/perf.data" -F comm,ip,sym 2>/dev/null >"$dir/script" || { echo "perf script failed"; exit 1; }
# perf script prints one header line per sample (comm) and one line per frame, samples split by
# blank lines. Keep the samples whose first frame is perf_leaf.
awk -v RS= -v ORS='\n\n' '$0 ~ /\n[ \t]*[0-9a-f]+ perf_leaf/' "$dir/script" >"$dir/leaf"
n=$(grep -c 'perf_leaf' "$dir/leaf")
[ "$n" -ge 20 ] || { echo "only $n samples in perf_leaf"; exit 1; }
for f in perf_goroutine rilli_g_main rilli_ctx_entry; do
    k=$(awk -v RS= -v f="$f" 'index($0, f) { c++ } END { print c + 0 }' "$dir/leaf")
    # A sample that lands in perf_leaf's prologue or epilogue (frame not yet or no longer set
    # up) skips its caller under frame-pointer unwinding: allow 1% of those.
    if [ $((k * 100)) -lt $((n * 99)) ]; then
        echo "$f appears in $k of $n perf_leaf stacks"
        awk -v RS= 'NR <= 3' "$dir/leaf"
        exit 1
    fi
done
if grep -q 'unknown' "$dir/leaf"; then
    echo "[unknown] frames in goroutine stacks:"
    awk -v RS= '/unknown/ && NR <= 3' "$dir/leaf"
    exit 1
fi
echo "ok: $n perf_leaf samples, each unwound to rilli_ctx_entry with no [unknown] frame"
