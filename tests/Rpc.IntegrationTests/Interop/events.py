#!/usr/bin/env python3
"""The RabbitMQ tutorials' emit_log / receive_logs for fanout, direct and topic exchanges, with JSON bodies.

  events.py emit    --amqp URI --exchange logs --type fanout [--key KEY ...] --body '"hello"'
  events.py receive --amqp URI --exchange logs --type fanout [--key KEY ...] --count N [--seconds S]

emit publishes one persistent JSON message per --key (one with an empty key for fanout) and no 'type': an RpcGen
subscriber hands it to the interface's only event. receive binds an exclusive server-named queue with every --key,
prints 'ready', then one line per message: 'routing_key body', and exits after --count messages.
"""
import argparse
import sys

import pika

parser = argparse.ArgumentParser()
parser.add_argument("mode", choices=["emit", "receive"])
parser.add_argument("--amqp", required=True)
parser.add_argument("--exchange", required=True)
parser.add_argument("--type", required=True, choices=["fanout", "direct", "topic"])
parser.add_argument("--key", action="append", default=[])
parser.add_argument("--body", default='""')
parser.add_argument("--count", type=int, default=1)
parser.add_argument("--seconds", type=float, default=30)
args = parser.parse_args()

connection = pika.BlockingConnection(pika.URLParameters(args.amqp))
channel = connection.channel()
channel.exchange_declare(exchange=args.exchange, exchange_type=args.type, durable=True)

if args.mode == "emit":
    for key in args.key or [""]:
        channel.basic_publish(
            exchange=args.exchange,
            routing_key=key,
            body=args.body.encode("utf-8"),
            properties=pika.BasicProperties(delivery_mode=2, content_type="application/json"))
        print("sent " + key, flush=True)
    connection.close()
    sys.exit(0)

queue = channel.queue_declare(queue="", exclusive=True).method.queue
for key in args.key or [""]:
    channel.queue_bind(exchange=args.exchange, queue=queue, routing_key=key)
print("ready", flush=True)

received = 0


def on_message(ch, method, properties, body):
    global received
    received += 1
    print(method.routing_key + " " + body.decode("utf-8"), flush=True)
    ch.basic_ack(delivery_tag=method.delivery_tag)
    if received >= args.count:
        ch.stop_consuming()


def give_up():
    print("timed out after %d messages" % received, file=sys.stderr, flush=True)
    channel.stop_consuming()


connection.call_later(args.seconds, give_up)
channel.basic_consume(queue=queue, on_message_callback=on_message)
channel.start_consuming()
connection.close()
sys.exit(0 if received >= args.count else 1)
