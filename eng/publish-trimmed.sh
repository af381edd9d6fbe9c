#!/usr/bin/env bash
# Publishes the hosting sample trimmed (self-contained, linux-x64, JsonSerializerContext, reflection-based JSON off)
# and fails on any warning. With --run, runs the trimmed binary against the broker (RPCGEN_AMQP): it serves
# ICalculator and calls it from a worker in the same host, then exits.
#   eng/publish-trimmed.sh [--run]      output: artifacts/trimmed/Samples.Hosting
# NativeAOT is src/Samples.NativeAot, published and run by NativeAotTests (docs/trimming-and-aot.md).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="$ROOT/artifacts/trimmed/Samples.Hosting"
LOG="$ROOT/artifacts/trimmed/publish.log"
mkdir -p "$(dirname "$OUT")"
rm -rf "$OUT"
# A separate artifacts path keeps the RID-specific restore out of the working tree's obj folders.
if ! dotnet publish src/Samples.Hosting/Samples.Hosting.csproj -c Release -r linux-x64 -nologo \
     --artifacts-path "$ROOT/artifacts/trimmed/build" -o "$OUT" > "$LOG" 2>&1; then
  cat "$LOG"; echo "trimmed publish failed" >&2; exit 1
fi
if grep -qiE '\bwarning\b' "$LOG"; then
  grep -iE '\bwarning\b' "$LOG"; echo "trimmed publish produced warnings" >&2; exit 1
fi
echo "published trimmed with 0 warnings: $OUT ($(du -sh "$OUT" | cut -f1), $(ls "$OUT" | wc -l) files)"
if [ "${1:-}" = "--run" ]; then
  RpcGen__Uri="${RPCGEN_AMQP:-amqp://guest:guest@localhost:5672/}" RpcGen__QueuePrefix="${RPCGEN_QUEUE_PREFIX:-trimmed-sample.}" "$OUT/Samples.Hosting"
fi
