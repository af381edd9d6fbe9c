#!/usr/bin/env bash
# Measures whether a single-node RabbitMQ keeps confirmed work through `kill -9`, for a classic and for a quorum queue
# declared as RpcGen declares them (docs/reliability.md, "Durable work and kill -9"). Each run: declare a fresh durable
# queue, publish MESSAGES persistent messages, each confirmed, kill -9 the node at once (the window in which RabbitMQ
# 3.x can lose a just-declared queue), boot it, and count what the queue holds. Classic and quorum runs alternate on one
# private node, so both series meet the same host load. Prints one line per run and the totals.
#   RUNS=20 MESSAGES=10 eng/kill-durability.sh      AGE=190: wait that many seconds between the sends and the kill
# The node listens on 5698 + RPCGEN_TEST_PORT_OFFSET, its data in .broker/PORT; it is stopped at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${RUNS:=20}" "${MESSAGES:=10}" "${AGE:=0}" "${RPCGEN_TEST_PORT_OFFSET:=0}"
PORT=$((5698 + RPCGEN_TEST_PORT_OFFSET))
SUFFIX=""; [ "$RPCGEN_TEST_PORT_OFFSET" = 0 ] || SUFFIX="-$RPCGEN_TEST_PORT_OFFSET"
export RPCGEN_PORT=$PORT RPCGEN_NODE="rpcgen-kill$SUFFIX@localhost"
unset RPCGEN_DIST_PORT RPCGEN_BROKER_DIR
broker() { "$ROOT/build.sh" broker "$@" 2>/dev/null; }

# send TYPE QUEUE: declares the queue as RpcGen does (quorum: its dead-letter queue first, the delivery limit and the
# dead-letter target) and publishes MESSAGES persistent messages, each confirmed before the next.
# count QUEUE: the queue's ready messages, waiting up to 15 s for a quorum queue to come back; "gone" when NOT_FOUND.
py() {
  /usr/bin/python3 - "$@" <<'PY'
import sys, time, pika
cmd, queue = sys.argv[1], sys.argv[2]
port, messages = int(sys.argv[3]), int(sys.argv[4])
params = pika.ConnectionParameters(host="localhost", port=port, credentials=pika.PlainCredentials("guest", "guest"))
def connect():
    return pika.BlockingConnection(params)
if cmd == "send":
    kind = sys.argv[5]
    conn = connect(); ch = conn.channel(); ch.confirm_delivery()
    args = None
    if kind == "quorum":
        ch.queue_declare(queue + ".dead-letter", durable=True, arguments={"x-queue-type": "quorum"})
        args = {"x-queue-type": "quorum", "x-delivery-limit": 5, "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": queue + ".dead-letter"}
    ch.queue_declare(queue, durable=True, arguments=args)
    for i in range(messages):
        ch.basic_publish("", queue, str(i).encode(), pika.BasicProperties(delivery_mode=2), mandatory=True)
    conn.close()
elif cmd == "count":
    deadline = time.time() + 15
    while True:
        conn = connect(); ch = conn.channel()
        try:
            n = ch.queue_declare(queue, passive=True).method.message_count
        except pika.exceptions.ChannelClosedByBroker as e:
            if e.reply_code == 404: print("gone"); sys.exit(0)
            raise
        finally:
            if conn.is_open: conn.close()
        if n >= messages or time.time() > deadline: print(n); sys.exit(0)
        time.sleep(0.5)
elif cmd == "delete":
    conn = connect(); ch = conn.channel()
    ch.queue_delete(queue); ch.queue_delete(queue + ".dead-letter"); conn.close()
PY
}

declare -A runs=([classic]=0 [quorum]=0) gone=([classic]=0 [quorum]=0) short=([classic]=0 [quorum]=0)
broker start
started=$(date -u +%FT%TZ)
for ((i = 1; i <= RUNS; i++)); do
  for kind in classic quorum; do
    queue="kill-$kind-$i-$RANDOM"
    py send "$queue" "$PORT" "$MESSAGES" "$kind"
    sleep "$AGE"
    broker kill
    broker start
    result=$(py count "$queue" "$PORT" "$MESSAGES")
    runs[$kind]=$((runs[$kind] + 1))
    if [ "$result" = gone ]; then gone[$kind]=$((gone[$kind] + 1))
    elif [ "$result" -lt "$MESSAGES" ]; then short[$kind]=$((short[$kind] + 1))
    fi
    echo "run $i $kind: $result (of $MESSAGES confirmed)"
    [ "$result" = gone ] || py delete "$queue" "$PORT" "$MESSAGES"
  done
done
broker stop
echo "from $started to $(date -u +%FT%TZ), RabbitMQ $(dpkg-query -W -f='${Version}' rabbitmq-server 2>/dev/null || echo '?'), $MESSAGES messages a run, kill $AGE s after the last confirm"
for kind in classic quorum; do
  echo "$kind: ${runs[$kind]} runs, queue gone in ${gone[$kind]}, messages missing in ${short[$kind]}"
done
