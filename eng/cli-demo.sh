#!/usr/bin/env bash
# rpcgen against the Fibonacci sample's server, as ./build.sh demo shows it (docs/cli.md): the sample writes its
# AsyncAPI documents and serves; rpcgen describes the contracts, calls it and streams from it, over RPCGEN_AMQP.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
dotnet build src/Rpc.Cli -c Release -v q -nologo > /dev/null
dotnet build src/Samples.Fibonacci -c Release -v q -nologo > /dev/null
WORK="$(mktemp -d)"
dotnet src/Samples.Fibonacci/bin/Release/net10.0/Samples.Fibonacci.dll asyncapi "$WORK/asyncapi" > /dev/null
dotnet src/Samples.Fibonacci/bin/Release/net10.0/Samples.Fibonacci.dll serve > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do grep -q Serving "$WORK/server.log" && break; sleep 0.2; done
grep -q Serving "$WORK/server.log" || { cat "$WORK/server.log"; echo "the Fibonacci server did not start" >&2; exit 1; }

rpcgen() { dotnet src/Rpc.Cli/bin/Release/net10.0/RpcGen.Cli.dll --contract "$WORK/asyncapi" "$@"; }
echo "rpcgen, the command-line tool, against the Fibonacci sample's server (docs/cli.md):"
echo "\$ rpcgen describe"; rpcgen describe | sed '/^$/d'
echo "\$ rpcgen call Fibonacci.Fib 30"; rpcgen call Fibonacci.Fib 30
echo "\$ rpcgen stream FibonacciSequence.Sequence '{\"count\":10}' --window 4"; rpcgen stream FibonacciSequence.Sequence '{"count":10}' --window 4 2>&1 | paste -sd' '
echo "\$ rpcgen call Fibonacci.Fib 100"
if rpcgen call Fibonacci.Fib 100 2>&1; then echo "fib(100) should have failed" >&2; exit 1; else echo "(exit $?: a remote error, as it should)"; fi
