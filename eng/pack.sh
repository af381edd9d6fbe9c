#!/usr/bin/env bash
# Packs the RpcGen NuGet package (runtime for net8.0 and net10.0, source generator in analyzers/dotnet/cs, README,
# license, XML docs, symbols), its companion packages (RpcGen.Testing, RpcGen.PostgreSql, RpcGen.PostgreSql.EntityFrameworkCore)
# and the RpcGen.Cli tool package as a CI build: deterministic, with /_/ source paths in the PDBs.
#   eng/pack.sh [--version X.Y.Z] [--output DIR]      default output: artifacts/packages
# Prints the package files and their contents. Called by ./build.sh pack.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUTPUT="$ROOT/artifacts/packages"
VERSION_ARG=()
while [ $# -gt 0 ]; do
  case "$1" in
    --version) VERSION_ARG=("-p:PackageVersion=$2"); shift 2 ;;
    --output) OUTPUT="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    *) echo "usage: eng/pack.sh [--version X.Y.Z] [--output DIR]" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUTPUT"
dotnet pack src/Rpc.Runtime/Rpc.Runtime.csproj -c Release -o "$OUTPUT" -nologo \
  -p:ContinuousIntegrationBuild=true ${VERSION_ARG[@]+"${VERSION_ARG[@]}"}
# The companions: the in-memory broker and harness (docs/testing.md), the outbox and inbox (docs/outbox.md).
for project in src/Rpc.Testing/Rpc.Testing.csproj src/Rpc.PostgreSql/Rpc.PostgreSql.csproj \
               src/Rpc.PostgreSql.EntityFrameworkCore/Rpc.PostgreSql.EntityFrameworkCore.csproj; do
  dotnet pack "$project" -c Release -o "$OUTPUT" -nologo -p:ContinuousIntegrationBuild=true ${VERSION_ARG[@]+"${VERSION_ARG[@]}"}
done
# The rpcgen command-line tool (dotnet tool install RpcGen.Cli); docs/cli.md.
dotnet pack src/Rpc.Cli/Rpc.Cli.csproj -c Release -o "$OUTPUT" -nologo \
  -p:ContinuousIntegrationBuild=true ${VERSION_ARG[@]+"${VERSION_ARG[@]}"}
command -v unzip >/dev/null 2>&1 || exit 0
for package in "$OUTPUT"/RpcGen.*.nupkg; do
  echo "== $package"
  unzip -Z1 "$package" | grep -vE '^(_rels/|package/|\[Content_Types\])' | sed 's/^/   /'
done
