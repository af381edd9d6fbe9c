#!/usr/bin/env python3
"""Calls a method of an RpcGen service with pika, then cancels the call: the server running it sees its handler's
CancellationToken fire, and a server that has not started it yet never runs it (docs/wire-format.md, "Cancelling a call").

usage: cancel_client.py [--amqp URL] [--after SECONDS] [--timeout SECONDS] QUEUE METHOD BODY
Sends the request, waits --after seconds, publishes the cancel, then prints the reply as one JSON line
({"ok": ..., ...} as json_client.py does), or {"ok": false, "type": "no-reply"} when none comes within --timeout.
"""
import argparse
import json
import os
import sys
import time
import uuid

import pika


def main():
    parser = argparse.ArgumentParser(description="Call an RpcGen method with plain pika, then cancel it.")
    parser.add_argument("--amqp", default=os.environ.get("RPCGEN_AMQP", "amqp://guest:guest@localhost:5672/"))
    parser.add_argument("--after", type=float, default=0.5, help="seconds between the request and the cancel")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the reply after the cancel")
    parser.add_argument("queue")
    parser.add_argument("method")
    parser.add_argument("body")
    args = parser.parse_args()

    connection = pika.BlockingConnection(pika.URLParameters(args.amqp))
    channel = connection.channel()
    replies = {}
    channel.basic_consume(queue="amq.rabbitmq.reply-to", auto_ack=True,
                          on_message_callback=lambda ch, m, p, body: replies.setdefault(p.correlation_id, (p, body)))

    correlation_id = str(uuid.uuid4())
    deadline_ms = int((time.time() + args.after + args.timeout) * 1000)
    channel.basic_publish(
        exchange="",
        routing_key=args.queue,
        properties=pika.BasicProperties(
            reply_to="amq.rabbitmq.reply-to", correlation_id=correlation_id, type=args.method,
            content_type="application/json", headers={"rpc-deadline": deadline_ms}),
        body=args.body.encode("utf-8"))
    connection.process_data_events(time_limit=args.after)

    # The cancel: one message to the service's fanout control exchange, naming the call by its correlation id.
    # Servers declare the exchange; it exists while one runs. A passive declare needs no configure permission and
    # fails loudly (404, closing this channel) when none does, where a publish to a missing exchange would too.
    control = "rpc-control." + args.queue
    channel.exchange_declare(exchange=control, passive=True)
    channel.basic_publish(
        exchange=control,
        routing_key="",
        properties=pika.BasicProperties(type="cancel", correlation_id=correlation_id,
                                        headers={"rpc-deadline": deadline_ms}),
        body=b"")

    until = time.monotonic() + args.timeout
    while correlation_id not in replies and time.monotonic() < until:
        connection.process_data_events(time_limit=max(0.0, until - time.monotonic()))
    connection.close()
    if correlation_id not in replies:
        print(json.dumps({"ok": False, "type": "no-reply"}), flush=True)
        return 1
    properties, body = replies[correlation_id]
    if (properties.headers or {}).get("rpc-status") == "error":
        error = json.loads(body)
        print(json.dumps({"ok": False, "type": error["type"], "message": error["message"]}), flush=True)
    else:
        print(json.dumps({"ok": True, "result": json.loads(body) if body else None}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
