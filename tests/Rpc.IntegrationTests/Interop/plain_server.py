#!/usr/bin/env python3
"""Serves fib(n) with nothing but pika, as a careful plain server would: a body it cannot read is answered with an
error reply (header rpc-status = error, docs/wire-format.md) to its correlation_id, and acked.

It shares a queue with RpcGen servers in the mixed-fleet tests: it must only ever see lone calls.

usage: plain_server.py [--amqp URL] [--queue NAME] [--seconds S]
Prints "serving QUEUE" once it consumes, "fib(N) = RESULT" per request and "unreadable: BODY" per body it cannot read.
"""
import argparse
import json
import os
import sys

import pika


def fib(n):
    previous, current = 1, 0
    for _ in range(n):
        previous, current = current, previous + current
    return current


def main():
    parser = argparse.ArgumentParser(description="Serve fib(n) with plain pika; refuse what it cannot read.")
    parser.add_argument("--amqp", default=os.environ.get("RPCGEN_AMQP", "amqp://guest:guest@localhost:5672/"))
    parser.add_argument("--queue", required=True)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()

    connection = pika.BlockingConnection(pika.URLParameters(args.amqp))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=1)

    def on_request(ch, method, properties, body):
        headers = None
        try:
            n = int(body)
            reply = str(fib(n))
            print(f"fib({n}) = {reply}", flush=True)
        except ValueError:
            print(f"unreadable: {body[:40]!r}", flush=True)
            reply = json.dumps({"type": "rpc:bad-request", "message": "this server reads an integer"})
            headers = {"rpc-status": "error"}
        if properties.reply_to:
            ch.basic_publish(exchange="", routing_key=properties.reply_to,
                             properties=pika.BasicProperties(correlation_id=properties.correlation_id, headers=headers), body=reply)
        ch.basic_ack(delivery_tag=method.delivery_tag)

    channel.basic_consume(queue=args.queue, on_message_callback=on_request)
    connection.call_later(args.seconds, channel.stop_consuming)
    print(f"serving {args.queue}", flush=True)
    channel.start_consuming()
    connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
