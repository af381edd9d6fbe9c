#!/usr/bin/env python3
"""Calls a Fibonacci service over RabbitMQ with nothing but pika, in the shape of the RabbitMQ RPC tutorial.

The service may be an RpcGen server (`dotnet run --project src/Samples.Fibonacci -- serve`, queue "Fibonacci")
or any server that follows docs/wire-format.md. The request carries no `type` and no `content_type`: the body is
the number as text, and the reply body is the result as text.

usage: fib_client.py [--amqp URL] [--queue NAME] [--direct-reply-to] [--timeout SECONDS] N [N ...]
Prints "N RESULT" per call. Exit code 0 when every call was answered, 1 when one was not answered in time.
"""
import argparse
import os
import sys
import time
import uuid

import pika


class FibonacciClient:
    def __init__(self, url, queue, direct_reply_to=False):
        self.queue = queue
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        if direct_reply_to:
            # RabbitMQ's pseudo-queue: nothing to declare, but it must be consumed (no-ack) before publishing.
            self.reply_to = "amq.rabbitmq.reply-to"
        else:
            # A private queue named by the broker; it goes away with this connection.
            self.reply_to = self.channel.queue_declare(queue="", exclusive=True).method.queue
        self.channel.basic_consume(queue=self.reply_to, on_message_callback=self.on_reply, auto_ack=True)
        self.expected_id = None
        self.reply = None

    def on_reply(self, channel, method, properties, body):
        # A late reply to an earlier call that timed out carries another correlation id.
        if properties.correlation_id == self.expected_id:
            self.reply = body

    def fib(self, n, timeout):
        self.expected_id = str(uuid.uuid4())
        self.reply = None
        self.channel.basic_publish(
            exchange="",
            routing_key=self.queue,
            properties=pika.BasicProperties(reply_to=self.reply_to, correlation_id=self.expected_id),
            body=str(n))
        deadline = time.monotonic() + timeout
        while self.reply is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no reply to fib({n}) from queue '{self.queue}' within {timeout} s")
            self.connection.process_data_events(time_limit=remaining)
        return int(self.reply)

    def close(self):
        self.connection.close()


def main():
    parser = argparse.ArgumentParser(description="Call a Fibonacci RPC service with plain pika.")
    parser.add_argument("--amqp", default=os.environ.get("RPCGEN_AMQP", "amqp://guest:guest@localhost:5672/"))
    parser.add_argument("--queue", default="Fibonacci")
    parser.add_argument("--direct-reply-to", action="store_true", help="use amq.rabbitmq.reply-to instead of a callback queue")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each reply")
    parser.add_argument("n", type=int, nargs="+")
    args = parser.parse_args()

    client = FibonacciClient(args.amqp, args.queue, args.direct_reply_to)
    try:
        for n in args.n:
            print(n, client.fib(n, args.timeout), flush=True)
    except TimeoutError as e:
        print(e, file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
