#!/usr/bin/env python3
"""A hostile server for the reply-trust tests (tests/Rpc.IntegrationTests/Security): it serves one queue with nothing
but pika and misbehaves on purpose.

--mode forge    answers the first request with "A:<n>", then predicts its caller's next correlation ids and sprays
                forged replies ("forged by A") for them to the caller's reply_to, every 10 ms, until --seconds pass.
                The prediction is the one that worked on RpcGen clients up to 2026-12: an id is a per-connection
                prefix and a hex counter ("3f9a...-1a"), so the next ones are prefix-1b, prefix-1c, ... (--ahead of
                them). An id without a "-" is taken as one hex number and counted up the same way.
                Prints "serving QUEUE", then "saw ID" for the first request.
--mode flood    answers each request as a streamed result that ignores the caller's credit: --items items in
                messages of --batch items each (header rpc-stream: items), then the end marker. Prints "serving QUEUE",
                then "window W" (the request's rpc-stream-window) and "sent N" per request.

usage: hostile_server.py --queue NAME --mode forge|flood [--amqp URL] [--seconds S] [--ahead N] [--items N] [--batch N]
"""
import argparse
import json
import os
import sys
import time

import pika


def predicted(correlation_id, ahead):
    prefix, _, counter = correlation_id.rpartition("-")
    try:
        n = int(counter, 16)
    except ValueError:
        n = 0
    for i in range(1, ahead + 1):
        text = format(n + i, "x")
        yield prefix + "-" + text if prefix else text.rjust(len(counter), "0")


def main():
    parser = argparse.ArgumentParser(description="A hostile RPC server.")
    parser.add_argument("--amqp", default=os.environ.get("RPCGEN_AMQP", "amqp://guest:guest@localhost:5672/"))
    parser.add_argument("--queue", required=True)
    parser.add_argument("--mode", choices=["forge", "flood"], required=True)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--ahead", type=int, default=64)
    parser.add_argument("--items", type=int, default=10000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()

    connection = pika.BlockingConnection(pika.URLParameters(args.amqp))
    channel = connection.channel()
    channel.queue_declare(queue=args.queue, durable=True)
    print(f"serving {args.queue}", flush=True)
    seen = None
    until = time.monotonic() + args.seconds
    for method, properties, body in channel.consume(args.queue, auto_ack=True, inactivity_timeout=0.01):
        if time.monotonic() > until:
            break
        if method is not None:
            if args.mode == "flood":
                flood(channel, properties, args)
                continue
            channel.basic_publish("", properties.reply_to, json.dumps("A:" + body.decode()).encode(),
                                  pika.BasicProperties(correlation_id=properties.correlation_id))
            if seen is None:
                seen = properties
                print(f"saw {properties.correlation_id}", flush=True)
        if seen is not None:
            for forged in predicted(seen.correlation_id, args.ahead):
                channel.basic_publish("", seen.reply_to, json.dumps("forged by A").encode(),
                                      pika.BasicProperties(correlation_id=forged))
    connection.close()
    return 0


def flood(channel, request, args):
    window = (request.headers or {}).get("rpc-stream-window")
    print(f"window {window}", flush=True)
    sent = 0
    while sent < args.items:
        count = min(args.batch, args.items - sent)
        channel.basic_publish("", request.reply_to, json.dumps(list(range(sent, sent + count))).encode(),
                              pika.BasicProperties(correlation_id=request.correlation_id, content_type="application/json",
                                                   headers={"rpc-stream": "items", "rpc-stream-seq": sent}))
        sent += count
    channel.basic_publish("", request.reply_to, b"",
                          pika.BasicProperties(correlation_id=request.correlation_id,
                                               headers={"rpc-stream": "end", "rpc-stream-seq": sent}))
    print(f"sent {sent}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
