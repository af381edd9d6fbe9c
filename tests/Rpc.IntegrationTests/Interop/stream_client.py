#!/usr/bin/env python3
"""Calls a streaming method of an RpcGen service (one returning IAsyncEnumerable<T>) with pika, granting credit as it
consumes, as docs/wire-format.md "Streaming results" describes.

usage: stream_client.py [--amqp URL] [--window N] [--take N] [--timeout SECONDS] QUEUE METHOD BODY
Prints one JSON line: {"ok": true, "items": [...]} after the end marker; {"ok": false, "items": [...], "type": ...,
"message": ...} after an error marker or a plain error reply (exit code 1 only when nothing ends the stream within
--timeout); with --take N it stops after N items, cancels the call
and prints {"ok": true, "items": [...], "cancelled": true}.
"""
import argparse
import json
import os
import sys
import time
import uuid

import pika


def main():
    parser = argparse.ArgumentParser(description="Consume a streamed result of an RpcGen method with plain pika.")
    parser.add_argument("--amqp", default=os.environ.get("RPCGEN_AMQP", "amqp://guest:guest@localhost:5672/"))
    parser.add_argument("--window", type=int, default=16, help="items the server may send ahead of this consumer")
    parser.add_argument("--take", type=int, default=-1, help="stop (and cancel) after this many items")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds the whole stream may take")
    parser.add_argument("queue")
    parser.add_argument("method")
    parser.add_argument("body")
    args = parser.parse_args()

    connection = pika.BlockingConnection(pika.URLParameters(args.amqp))
    channel = connection.channel()
    control = "rpc-control." + args.queue
    # Credit and cancel go to the service's fanout control exchange, which the servers declare; a passive declare
    # needs no configure permission and fails loudly (404) when no server runs.
    channel.exchange_declare(exchange=control, passive=True)
    correlation_id = str(uuid.uuid4())
    deadline_ms = int((time.time() + args.timeout) * 1000)
    state = {"items": [], "next": 0, "granted": args.window, "done": None}

    def grant(credit):
        # Absolute: the server may send the items whose sequence number is below `credit`.
        channel.basic_publish(exchange=control, routing_key="", body=b"", properties=pika.BasicProperties(
            type="credit", correlation_id=correlation_id, headers={"rpc-stream-credit": credit}))

    def on_message(ch, method, properties, body):
        if properties.correlation_id != correlation_id or state["done"]:
            return
        headers = properties.headers or {}
        kind = headers.get("rpc-stream")
        if kind is None:  # a plain reply: the server refused the request before streaming
            state["done"] = json.loads(body) if headers.get("rpc-status") == "error" else {"type": "no-stream", "message": ""}
            return
        if headers.get("rpc-stream-seq") != state["next"]:
            state["done"] = {"type": "out-of-order", "message": "sequence %s, expected %s" % (headers.get("rpc-stream-seq"), state["next"])}
            return
        if kind == "items":
            items = json.loads(body)
            state["items"].extend(items)
            state["next"] += len(items)
            # Half the window used: let the server send another half.
            if state["granted"] - state["next"] <= args.window // 2:
                state["granted"] = state["next"] + args.window
                grant(state["granted"])
        elif kind == "end":
            state["done"] = "end"
        elif kind == "error":
            state["done"] = json.loads(body)

    channel.basic_consume(queue="amq.rabbitmq.reply-to", auto_ack=True, on_message_callback=on_message)
    channel.basic_publish(
        exchange="",
        routing_key=args.queue,
        properties=pika.BasicProperties(
            reply_to="amq.rabbitmq.reply-to", correlation_id=correlation_id, type=args.method,
            content_type="application/json", expiration=str(int(args.timeout * 1000)),
            headers={"rpc-deadline": deadline_ms, "rpc-stream-window": args.window}),
        body=args.body.encode("utf-8"))

    until = time.monotonic() + args.timeout
    while state["done"] is None and time.monotonic() < until:
        if 0 <= args.take <= len(state["items"]):
            # Enough: tell the server to stop, as breaking out of `await foreach` does.
            channel.basic_publish(exchange=control, routing_key="", body=b"", properties=pika.BasicProperties(
                type="cancel", correlation_id=correlation_id, headers={"rpc-deadline": deadline_ms}))
            print(json.dumps({"ok": True, "items": state["items"][:args.take], "cancelled": True}), flush=True)
            connection.close()
            return 0
        connection.process_data_events(time_limit=0.05)
    connection.close()
    if state["done"] == "end":
        print(json.dumps({"ok": True, "items": state["items"]}), flush=True)
        return 0
    error = state["done"] or {"type": "no-reply", "message": ""}
    print(json.dumps({"ok": False, "items": state["items"], "type": error["type"], "message": error["message"]}), flush=True)
    return 1 if state["done"] is None else 0


if __name__ == "__main__":
    sys.exit(main())
