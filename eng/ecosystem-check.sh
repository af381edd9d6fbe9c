#!/usr/bin/env bash
# The package and trimming checks on their own (./build.sh test runs them with everything else): packs RpcGen, builds
# a fresh net8.0/net10.0 consumer from the local feed with warnings as errors and calls over the broker, checks the
# package layout and the generator's references, then publishes the hosting sample trimmed and runs it.
# Needs the broker (RPCGEN_AMQP, or ./build.sh broker start).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
dotnet test tests/Rpc.Ecosystem.Tests -c Release -nologo \
  --filter "FullyQualifiedName~RpcGen.Ecosystem.Tests.PackageTests|FullyQualifiedName~RpcGen.Ecosystem.Tests.TrimmingTests" "$@"
