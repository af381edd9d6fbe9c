#!/usr/bin/env bash
# RpcGen developer entry point. See README.md.
#   ./build.sh                            restore, build (Release), then the tests that need no broker; no install, no node
#   ./build.sh test [ARGS]                broker start (installs RabbitMQ and python3-pika as root when missing), then
#                                         every test; last line "N passed, N failed, N skipped" (eng/test.sh)
#   ./build.sh demo [ARGS]                broker start, then the Fibonacci and Shop samples end to end, then rpcgen
#   ./build.sh reliability [ARGS]         broker start, then the fault, load and poison-input tests at full size
#   ./build.sh bench [SCENARIO] [ARGS]    broker start (and the cluster for cluster-scale), then bench/Rpc.Benchmarks
#                                         (outbox: PostgreSQL too, then bench/Rpc.Outbox.Benchmarks)
#   ./build.sh pack [--version X.Y.Z] [--output DIR]   the NuGet package (eng/pack.sh)
#   ./build.sh format [ARGS]              applies .editorconfig's code style, then builds with it enforced (eng/format.sh)
#   ./build.sh broker start|stop|status|kill|ctl ARGS...           the private node (eng/broker.sh)
#   ./build.sh postgres start|stop|status|url                      the private PostgreSQL cluster (eng/postgres.sh)
#   ./build.sh cluster start|stop [NODE]|status|uris               three clustered nodes c1..c3 (docs/cluster.md)
#   ./build.sh cluster kill|stop|restart|ctl NODE [ARGS...]        one node of it: kill -9, graceful stop, start
#                                                                  again and rejoin, rabbitmqctl
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# The node the broker verbs start and the tests use; eng/broker.sh reads the same variables.
: "${RPCGEN_PORT:=5672}"
export RPCGEN_AMQP="${RPCGEN_AMQP:-amqp://guest:guest@localhost:$RPCGEN_PORT/}"

broker() { bash "$ROOT/eng/broker.sh" "$@"; }
# The private PostgreSQL cluster of the outbox tests and the shop demo (eng/postgres.sh); RPCGEN_POSTGRES is its connection string.
postgres() {
  if [ -z "${RPCGEN_POSTGRES:-}" ]; then RPCGEN_POSTGRES="$(bash "$ROOT/eng/postgres.sh" start)"; export RPCGEN_POSTGRES; fi
}

cmd="${1:-}"; shift || true
case "$cmd" in
  "")
    # dotnet build restores first; eng/test.sh builds the solution, then runs the broker-free projects.
    exec bash eng/test.sh --broker-free ;;
  broker)
    case "${1:-}" in
      start|stop|status|kill|ctl) broker "$@" ;;
      *) echo "usage: ./build.sh broker start|stop|status|kill|ctl ARGS..." >&2; exit 2 ;;
    esac ;;
  cluster)
    broker cluster "$@" ;;
  postgres)
    exec bash eng/postgres.sh "$@" ;;
  demo)
    broker start
    postgres
    dotnet run --project src/Samples.Fibonacci -c Release -- "$@"
    # The shop (RPC, events, a late subscriber) after it; with arguments the Fibonacci sample alone runs as asked.
    # --postgres: its orders in PostgreSQL, announced through the outbox (docs/outbox.md).
    if [ $# -eq 0 ]; then dotnet run --project src/Samples.Shop -c Release -- --postgres "$RPCGEN_POSTGRES"; fi
    if [ $# -eq 0 ]; then bash eng/cli-demo.sh; fi ;;
  pack)
    exec bash eng/pack.sh "$@" ;;
  format)
    exec bash eng/format.sh "$@" ;;
  bench)
    broker start
    # One node against the three-node cluster: docs/performance.md, "Cluster".
    if [ "${1:-}" = cluster-scale ]; then broker cluster start; fi
    # The outbox against publishing directly and Wolverine's outbox: docs/performance.md, "Outbox".
    if [ "${1:-}" = outbox ]; then postgres; shift; exec dotnet run -c Release --project bench/Rpc.Outbox.Benchmarks -- "$@"; fi
    dotnet run -c Release --project bench/Rpc.Benchmarks -- "$@" ;;
  test)
    broker start
    postgres
    broker pika
    bash tests/Rpc.IntegrationTests/Interop/Tutorials/install-peers.sh
    # rpcgen's terminal tests (tests/Rpc.Cli.Tests) run top and stream in tmux.
    command -v tmux >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq tmux >/dev/null; }
    exec bash eng/test.sh "$@" ;;
  reliability)
    # The fault, load and poison-input scenarios at full size (CI runs them scaled down); figures in docs/reliability.md.
    broker start
    postgres
    # The outbox's crash and outage tests at full size: 40 kills, a 30 s outage (docs/outbox.md).
    dotnet test tests/Rpc.PostgreSql.Tests -c Release --filter "Category=Heavy" --logger "console;verbosity=detailed"
    RPCGEN_FULL=1 dotnet test tests/Rpc.IntegrationTests -c Release --filter "FullyQualifiedName~Reliability|FullyQualifiedName~Security" \
      --logger "console;verbosity=detailed" "$@" ;;
  *)
    echo "usage: ./build.sh [test|demo|reliability|bench|pack|format] | broker start|stop|status|kill|ctl | cluster start|stop|status|uris|kill|restart|ctl" >&2
    exit 2 ;;
esac
