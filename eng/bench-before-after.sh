#!/usr/bin/env bash
# Compares the runtime's cost per call at two commits in one run: the benchmark is built at BEFORE and at HEAD, then
# the two builds run alternately (before, after, before, after, ...) against the same broker, so host noise falls on
# both alike. Prints each run's CPU-per-call rows for RpcGen, then the medians per build (eng/bench-summary.py).
#   eng/bench-before-after.sh BEFORE [PAIRS]     (default 3 pairs; the broker must be running: ./build.sh broker start)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BEFORE="${1:?usage: eng/bench-before-after.sh BEFORE_COMMIT [PAIRS]}"
PAIRS="${2:-3}"
WORK="${RPCGEN_BENCH_DIR:-$ROOT/artifacts/bench-before-after}"
rm -rf "$WORK"; mkdir -p "$WORK"
git -C "$ROOT" worktree remove --force "$WORK/src-before" 2>/dev/null || true
git -C "$ROOT" worktree add -q --detach "$WORK/src-before" "$BEFORE"
trap 'git -C "$ROOT" worktree remove --force "$WORK/src-before" 2>/dev/null || true' EXIT
dotnet build "$WORK/src-before/bench/Rpc.Benchmarks" -c Release -v q -o "$WORK/before" >/dev/null
dotnet build "$ROOT/bench/Rpc.Benchmarks" -c Release -v q -o "$WORK/after" >/dev/null
ARGS=(--contenders rpcgen,best-effort --payloads int,4k --in-flight 16,256 --rounds 5 --seconds 1 --offered-load none --pending 0)
for i in $(seq 1 "$PAIRS"); do
  for build in before after; do
    "$WORK/$build/Rpc.Benchmarks" "${ARGS[@]}" > "$WORK/$build-$i.md" 2>"$WORK/$build-$i.err"
    echo "== $build run $i"; grep -E '^\| (int|4 KB|4k)[^|]*\| (RpcGen|rpcgen)' "$WORK/$build-$i.md" | head -4 || true
  done
done
echo
python3 "$ROOT/eng/bench-summary.py" "$WORK"
