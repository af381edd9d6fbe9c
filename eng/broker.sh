#!/usr/bin/env bash
# RabbitMQ nodes for RpcGen's demos, tests and benchmarks: a private single node and a three-node cluster, installed
# from Debian's packages when missing (as root only). ./build.sh broker|cluster calls this script; so do the tests
# (through ./build.sh) that kill, stop and restart nodes of their own.
#   eng/broker.sh start|stop|status|kill          the private node (RPCGEN_NODE, RPCGEN_PORT; default rpcgen@localhost:5672)
#                                                 (with the management API on RPCGEN_PORT + 10000 unless RPCGEN_MANAGEMENT=0)
#   eng/broker.sh ctl ARGS...                     rabbitmqctl against it
#   eng/broker.sh cluster start|stop [NODE]|status|uris   nodes c1..c3 on 5681..5683 (+RPCGEN_TEST_PORT_OFFSET), docs/cluster.md
#   eng/broker.sh cluster kill|restart|ctl NODE [ARGS...]  one node of it: kill -9, start again and rejoin, rabbitmqctl
#   eng/broker.sh pika                            installs python3-pika for the interop tests when missing
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# The private node. Override with the environment to run several side by side.
: "${RPCGEN_PORT:=5672}"
# Erlang refuses a second node of the same name on a host: a node on another port is named after it.
if [ "$RPCGEN_PORT" = 5672 ]; then : "${RPCGEN_NODE:=rpcgen@localhost}"; else : "${RPCGEN_NODE:=rpcgen-$RPCGEN_PORT@localhost}"; fi
: "${RPCGEN_DIST_PORT:=$((RPCGEN_PORT + 20000))}"
: "${RPCGEN_BROKER_DIR:=$ROOT/.broker/$RPCGEN_PORT}"

log() { printf '[broker] %s\n' "$*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure_rabbitmq_installed() {
  if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || command -v rabbitmq-server >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian's rabbitmq-server"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
    # The package may start its own node (rabbit@HOST on 5672); ours is private, so stop that node, by name only.
    (service rabbitmq-server stop || true) >/dev/null 2>&1
    (runuser -u rabbitmq -- env HOME=/var/lib/rabbitmq /usr/lib/rabbitmq/bin/rabbitmqctl -q stop || true) >/dev/null 2>&1
  else
    echo "RabbitMQ is not installed. Install it with: sudo apt-get install -y rabbitmq-server (or point RPCGEN_AMQP at a running broker)" >&2
    exit 1
  fi
}

ensure_pika_installed() {
  if /usr/bin/python3 -c 'import pika' 2>/dev/null; then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian's python3-pika"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pika >/dev/null
  else
    echo "python3-pika is missing. Install it with: sudo apt-get install -y python3-pika" >&2
    exit 1
  fi
}

# Runs a RabbitMQ script with the private node's environment, as the rabbitmq user when we are root.
rmq() {
  local script="$1"; shift
  local env=(RABBITMQ_NODENAME="$RPCGEN_NODE" RABBITMQ_NODE_PORT="$RPCGEN_PORT" RABBITMQ_DIST_PORT="$RPCGEN_DIST_PORT"
             RABBITMQ_MNESIA_BASE="$RPCGEN_BROKER_DIR/mnesia" RABBITMQ_LOG_BASE="$RPCGEN_BROKER_DIR/log"
             RABBITMQ_ENABLED_PLUGINS_FILE="$RPCGEN_BROKER_DIR/enabled_plugins"
             RABBITMQ_CONFIG_FILE="$RPCGEN_BROKER_DIR/rabbitmq" RABBITMQ_PID_FILE="$RPCGEN_BROKER_DIR/pid"
             RABBITMQ_ADVANCED_CONFIG_FILE="$RPCGEN_BROKER_DIR/advanced.config")
  if [ "$(id -u)" = 0 ]; then
    # runuser keeps no environment across the switch unless told; pass ours explicitly.
    runuser -u rabbitmq -- env HOME=/var/lib/rabbitmq "${env[@]}" "/usr/lib/rabbitmq/bin/$script" "$@"
  else
    env "${env[@]}" "/usr/lib/rabbitmq/bin/$script" "$@"
  fi
}

broker_start() {
  if port_open "$RPCGEN_PORT"; then log "a broker answers on port $RPCGEN_PORT; using it"; return 0; fi
  ensure_rabbitmq_installed
  mkdir -p "$RPCGEN_BROKER_DIR/mnesia" "$RPCGEN_BROKER_DIR/log"
  # The management API (rpcgen top reads it) on the AMQP port + 10000, so private nodes do not clash; RPCGEN_MANAGEMENT=0 leaves it off.
  if [ "${RPCGEN_MANAGEMENT:-1}" = 0 ]; then echo '[].'; else echo '[rabbitmq_management].'; fi > "$RPCGEN_BROKER_DIR/enabled_plugins"
  # A config file keeps our node's settings out of /etc/rabbitmq; extra lines may come from RPCGEN_BROKER_CONF.
  {
    echo "loopback_users = none"
    echo "listeners.tcp.default = $RPCGEN_PORT"
    # Rates refreshed every second rather than every 5 (rpcgen top redraws every second).
    [ "${RPCGEN_MANAGEMENT:-1}" = 0 ] || printf '%s\n' "management.tcp.port = $((RPCGEN_PORT + 10000))" "collect_statistics_interval = 1000"
    [ -n "${RPCGEN_BROKER_CONF:-}" ] && printf '%s\n' "$RPCGEN_BROKER_CONF"
  } > "$RPCGEN_BROKER_DIR/rabbitmq.conf"
  if [ "$(id -u)" = 0 ]; then chown -R rabbitmq:rabbitmq "$RPCGEN_BROKER_DIR"; chmod o+x "$ROOT" "$ROOT/.broker" 2>/dev/null || true; fi
  log "starting RabbitMQ node $RPCGEN_NODE on port $RPCGEN_PORT (data in $RPCGEN_BROKER_DIR)"
  nohup bash -c "$(declare -f rmq); RPCGEN_NODE='$RPCGEN_NODE' RPCGEN_PORT='$RPCGEN_PORT' RPCGEN_DIST_PORT='$RPCGEN_DIST_PORT' RPCGEN_BROKER_DIR='$RPCGEN_BROKER_DIR'; rmq rabbitmq-server" \
    > "$RPCGEN_BROKER_DIR/server.out" 2>&1 < /dev/null &
  # await_startup fails at once while the Erlang VM is still coming up, so ask again until a deadline.
  local deadline=$((SECONDS + 120)) ready=0
  while [ $SECONDS -lt $deadline ]; do
    if rmq rabbitmqctl -n "$RPCGEN_NODE" -q await_startup --timeout 30 >/dev/null 2>&1 && port_open "$RPCGEN_PORT"; then ready=1; break; fi
    sleep 1
  done
  if [ $ready = 0 ]; then
    echo "RabbitMQ node $RPCGEN_NODE did not start; see $RPCGEN_BROKER_DIR/server.out and $RPCGEN_BROKER_DIR/log" >&2
    tail -20 "$RPCGEN_BROKER_DIR/server.out" >&2 || true
    exit 1
  fi
  log "broker ready: amqp://guest:***@localhost:$RPCGEN_PORT/"
}

broker_stop() {
  if [ -d "$RPCGEN_BROKER_DIR" ]; then rmq rabbitmqctl -n "$RPCGEN_NODE" -q stop >/dev/null 2>&1 || true; fi
  log "broker $RPCGEN_NODE stopped"
}

# Kills the node's Erlang VM without a clean shutdown, as a crash or power loss would.
broker_kill() {
  local pid
  pid=$(cat "$RPCGEN_BROKER_DIR/pid" 2>/dev/null || true)
  if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null || true; fi
  local deadline=$((SECONDS + 20))
  while port_open "$RPCGEN_PORT" && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  log "broker $RPCGEN_NODE killed"
}

broker_status() {
  if port_open "$RPCGEN_PORT"; then echo "a broker answers on port $RPCGEN_PORT"; else echo "no broker on port $RPCGEN_PORT"; return 1; fi
}

# The three-node cluster: node cN listens on 5680+N (5681..5683) and distributes on that +20000, both moved by
# RPCGEN_TEST_PORT_OFFSET, and its name carries the offset, so two checkouts can each run one. Each node keeps its data
# in .broker/PORT like the single node; they share the rabbitmq user's Erlang cookie, which is what lets them join.
: "${RPCGEN_TEST_PORT_OFFSET:=0}"
CLUSTER_NODES=(c1 c2 c3)

cluster_port() { echo $((5680 + ${1#c} + RPCGEN_TEST_PORT_OFFSET)); }
cluster_node_name() {
  local suffix=""; [ "$RPCGEN_TEST_PORT_OFFSET" = 0 ] || suffix="-$RPCGEN_TEST_PORT_OFFSET"
  echo "rpcgen-$1$suffix@localhost"
}

# Runs a command with the single-node variables pointed at cluster node $1, so broker_start/stop/kill and rmq serve both.
with_node() {
  local name="$1"; shift
  case "$name" in c1|c2|c3) ;; *) echo "unknown cluster node '$name'; the nodes are ${CLUSTER_NODES[*]}" >&2; exit 2 ;; esac
  local port; port=$(cluster_port "$name")
  ( RPCGEN_NODE=$(cluster_node_name "$name"); RPCGEN_PORT=$port; RPCGEN_DIST_PORT=$((port + 20000))
    RPCGEN_BROKER_DIR="$ROOT/.broker/$port"; RPCGEN_BROKER_CONF="${RPCGEN_CLUSTER_CONF:-}"; "$@" )
}

# The names of the nodes that node $1 sees running in its cluster, one a line (nothing when it does not answer).
cluster_running_nodes() {
  with_node "$1" rmq rabbitmqctl -n "$(cluster_node_name "$1")" -q cluster_status --formatter json 2>/dev/null \
    | /usr/bin/python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin).get("running_nodes", [])))' 2>/dev/null || true
}

# Joins node $1 to c1's cluster unless it is in it already. A fresh node has nothing to lose; a node whose data says
# it belongs to another cluster is reset first (its queues were that cluster's).
cluster_join() {
  local name="$1" seed; seed=$(cluster_node_name c1)
  if cluster_running_nodes c1 | grep -qx "$(cluster_node_name "$name")"; then return 0; fi
  log "joining $(cluster_node_name "$name") to $seed"
  with_node "$name" rmq rabbitmqctl -n "$(cluster_node_name "$name")" -q stop_app >/dev/null
  if ! with_node "$name" rmq rabbitmqctl -n "$(cluster_node_name "$name")" -q join_cluster "$seed" >/dev/null 2>&1; then
    with_node "$name" rmq rabbitmqctl -n "$(cluster_node_name "$name")" -q reset >/dev/null
    with_node "$name" rmq rabbitmqctl -n "$(cluster_node_name "$name")" -q join_cluster "$seed" >/dev/null
  fi
  with_node "$name" rmq rabbitmqctl -n "$(cluster_node_name "$name")" -q start_app >/dev/null
}

# Waits until node $1 sees all three nodes running.
cluster_await() {
  local deadline=$((SECONDS + 120)) count=0
  while [ $SECONDS -lt $deadline ]; do
    count=$(cluster_running_nodes "$1" | grep -c . || true)
    [ "$count" = ${#CLUSTER_NODES[@]} ] && return 0
    sleep 1
  done
  echo "the cluster did not come up: $(cluster_node_name "$1") sees $count of ${#CLUSTER_NODES[@]} nodes running" >&2
  exit 1
}

cluster_start() {
  local started=$SECONDS pids=() name failed=0
  # In parallel: a node that was clustered before waits at boot for the peers it last saw, so one at a time could stall.
  for name in "${CLUSTER_NODES[@]}"; do with_node "$name" broker_start & pids+=($!); done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  [ $failed = 0 ] || { echo "a cluster node did not start; see .broker/PORT/server.out" >&2; exit 1; }
  for name in "${CLUSTER_NODES[@]:1}"; do cluster_join "$name"; done
  cluster_await c1
  log "cluster ready in $((SECONDS - started)) s: $(cluster_uris)"
}

cluster_stop() {
  local name
  for name in "${CLUSTER_NODES[@]}"; do with_node "$name" broker_stop & done
  wait
}

# Starts node $1 again (after kill or stop) and waits until it has rejoined and the cluster runs all three nodes.
cluster_restart() {
  local started=$SECONDS
  if with_node "$1" broker_status >/dev/null; then with_node "$1" broker_stop; fi
  with_node "$1" broker_start
  cluster_join "$1"
  cluster_await "$1"
  log "$(cluster_node_name "$1") back in the cluster after $((SECONDS - started)) s"
}

cluster_uris() {
  local name uris=()
  for name in "${CLUSTER_NODES[@]}"; do uris+=("amqp://guest:guest@localhost:$(cluster_port "$name")/"); done
  (IFS=,; echo "${uris[*]}")
}

cluster_status() {
  local name pid rss total=0 up=0
  for name in "${CLUSTER_NODES[@]}"; do
    pid=$(cat "$ROOT/.broker/$(cluster_port "$name")/pid" 2>/dev/null || true)
    if port_open "$(cluster_port "$name")"; then
      rss=$(ps -o rss= -p "$pid" 2>/dev/null | tr -d ' ' || true); rss=${rss:-0}; total=$((total + rss)); up=$((up + 1))
      echo "$name $(cluster_node_name "$name") port $(cluster_port "$name"): running, $((rss / 1024)) MB"
    else
      echo "$name $(cluster_node_name "$name") port $(cluster_port "$name"): down"
    fi
  done
  for name in "${CLUSTER_NODES[@]}"; do
    if port_open "$(cluster_port "$name")"; then
      echo "running in the cluster (as $name sees it): $(cluster_running_nodes "$name" | tr '\n' ' ')"; break
    fi
  done
  echo "memory (RSS of the running nodes): $((total / 1024)) MB"
  [ $up = ${#CLUSTER_NODES[@]} ]
}

cmd="${1:-}"; shift || true
case "$cmd" in
  start) broker_start ;; stop) broker_stop ;; status) broker_status ;; kill) broker_kill ;;
  ctl) rmq rabbitmqctl -n "$RPCGEN_NODE" "$@" ;;
  pika) ensure_pika_installed ;;
  cluster)
    case "${1:-}" in
      start) cluster_start ;;
      stop) if [ -n "${2:-}" ]; then with_node "$2" broker_stop; else cluster_stop; fi ;;
      status) cluster_status ;;
      uris) cluster_uris ;;
      kill) [ -n "${2:-}" ] || { echo "usage: eng/broker.sh cluster kill c1|c2|c3" >&2; exit 2; }; with_node "$2" broker_kill ;;
      restart) [ -n "${2:-}" ] || { echo "usage: eng/broker.sh cluster restart c1|c2|c3" >&2; exit 2; }; cluster_restart "$2" ;;
      ctl) [ -n "${2:-}" ] || { echo "usage: eng/broker.sh cluster ctl c1|c2|c3 ARGS..." >&2; exit 2; }
           node="$2"; shift 2; with_node "$node" rmq rabbitmqctl -n "$(cluster_node_name "$node")" "$@" ;;
      *) echo "usage: eng/broker.sh cluster start|stop [NODE]|status|uris|kill NODE|restart NODE|ctl NODE ARGS..." >&2; exit 2 ;;
    esac ;;
  *) echo "usage: eng/broker.sh start|stop|status|kill|ctl ARGS...|pika | cluster start|stop|status|uris|kill|restart|ctl" >&2; exit 2 ;;
esac
