#!/usr/bin/env python3
"""Serves fib(n) over RabbitMQ with nothing but pika, in the shape of the RabbitMQ RPC tutorial.

An RpcGen client calls it through an interface such as
    [RpcService(Queue = "rpc_queue")] public interface IFib { Task<long> FibAsync(int n); }
The reply sets only `correlation_id`; a reply without an `rpc-status` header counts as success.

usage: fib_server.py [--amqp URL] [--queue NAME] [--requests N] [--seconds S]
Serves until N requests are answered or S seconds have passed (by default: until Ctrl+C).
Prints "serving QUEUE" once it consumes, then "fib(N) = RESULT" per request.
"""
import argparse
import os
import sys

import pika


def fib(n):
    previous, current = 1, 0
    for _ in range(n):
        previous, current = current, previous + current
    return current


def main():
    parser = argparse.ArgumentParser(description="Serve fib(n) with plain pika.")
    parser.add_argument("--amqp", default=os.environ.get("RPCGEN_AMQP", "amqp://guest:guest@localhost:5672/"))
    parser.add_argument("--queue", default="rpc_queue")
    parser.add_argument("--requests", type=int, default=0, help="stop after this many requests (0: no limit)")
    parser.add_argument("--seconds", type=float, default=0, help="stop after this many seconds (0: no limit)")
    args = parser.parse_args()

    connection = pika.BlockingConnection(pika.URLParameters(args.amqp))
    channel = connection.channel()
    channel.queue_declare(queue=args.queue)
    channel.basic_qos(prefetch_count=1)
    answered = 0

    def on_request(ch, method, properties, body):
        nonlocal answered
        n = int(body)
        result = fib(n)
        print(f"fib({n}) = {result}", flush=True)
        ch.basic_publish(
            exchange="",
            routing_key=properties.reply_to,
            properties=pika.BasicProperties(correlation_id=properties.correlation_id),
            body=str(result))
        ch.basic_ack(delivery_tag=method.delivery_tag)
        answered += 1
        if answered == args.requests:
            ch.stop_consuming()

    channel.basic_consume(queue=args.queue, on_message_callback=on_request)
    if args.seconds > 0:
        connection.call_later(args.seconds, channel.stop_consuming)
    print(f"serving {args.queue}", flush=True)
    try:
        channel.start_consuming()
    except KeyboardInterrupt:
        channel.stop_consuming()
    connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
