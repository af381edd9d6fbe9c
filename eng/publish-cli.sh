#!/usr/bin/env bash
# Publishes rpcgen as one NativeAOT binary (linux-x64 by default) and fails on any warning; docs/cli.md.
#   eng/publish-cli.sh [RID]      output: artifacts/cli/RID/rpcgen
# The .NET tool is the other way to install it: ./build.sh pack, then dotnet tool install RpcGen.Cli.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RID="${1:-linux-x64}"
OUT="$ROOT/artifacts/cli/$RID"
LOG="$ROOT/artifacts/cli/publish-$RID.log"
mkdir -p "$OUT"
rm -f "$OUT/rpcgen" "$OUT/RpcGen.Cli"
# NativeAOT needs clang and zlib's headers to link; installed from Debian's packages when missing (as root).
if ! command -v clang >/dev/null 2>&1 || [ ! -f /usr/include/zlib.h ]; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq clang zlib1g-dev >/dev/null; fi
fi
# A separate artifacts path keeps the RID-specific restore out of the working tree's obj folders.
if ! dotnet publish src/Rpc.Cli/Rpc.Cli.csproj -c Release -r "$RID" -nologo \
     --artifacts-path "$ROOT/artifacts/cli/build" -o "$OUT" > "$LOG" 2>&1; then
  cat "$LOG"; echo "rpcgen NativeAOT publish failed" >&2; exit 1
fi
if grep -qiE '\bwarning\b' "$LOG"; then
  grep -iE '\bwarning\b' "$LOG"; echo "rpcgen NativeAOT publish produced warnings" >&2; exit 1
fi
# The assembly is RpcGen.Cli (assembly names ignore case, and the runtime's is RpcGen); the command is rpcgen.
mv "$OUT/RpcGen.Cli" "$OUT/rpcgen"
echo "published rpcgen (NativeAOT, $RID): $OUT/rpcgen ($(du -h "$OUT/rpcgen" | cut -f1))"
