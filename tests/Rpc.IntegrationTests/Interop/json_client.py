#!/usr/bin/env python3
"""Calls any method of an RpcGen service with nothing but pika: the method name in `type`, JSON arguments in the
body, and the outcome read from the `rpc-status` header of the reply (docs/wire-format.md).

usage: json_client.py [--amqp URL] [--timeout SECONDS] QUEUE METHOD BODY [METHOD BODY ...]
  METHOD  the method's wire name, sent as `type` ("-" sends no `type`: fine for a service with one method)
  BODY    the request body as is: "" for no argument, the JSON value of a single argument (42, "text", [1, 2]),
          or a JSON object of named arguments ({"a": 1, "b": 2})
Prints one JSON line per call: {"ok": true, "result": ...} or {"ok": false, "type": ..., "message": ...}, plus
"data" when the error is a fault the method declares ([RpcFault]): the exception's properties by name.
Exit code 0 when every call was answered (successfully or not), 1 when one was not answered in time.
"""
import argparse
import json
import os
import sys
import time
import uuid

import pika


class RemoteError(Exception):
    """The server answered with rpc-status: error."""

    def __init__(self, error_type, message, data=None):
        super().__init__(f"{error_type}: {message}")
        self.type = error_type
        self.message = message
        # A declared fault ([RpcFault]) carries its exception's public properties, e.g. {"Sku": "pear", "Available": 5}.
        self.data = data


class RpcClient:
    def __init__(self, url, queue):
        self.queue = queue
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.channel.basic_consume(queue="amq.rabbitmq.reply-to", on_message_callback=self.on_reply, auto_ack=True)
        self.waiting = set()
        self.replies = {}

    def on_reply(self, channel, method, properties, body):
        # A late reply to a call that timed out is dropped: nobody waits for it any more.
        if properties.correlation_id in self.waiting:
            self.replies[properties.correlation_id] = (properties, body)

    def call(self, method, body, timeout=10.0):
        """Sends one request and returns the result's JSON value (None for a method without a result)."""
        correlation_id = str(uuid.uuid4())
        self.waiting.add(correlation_id)
        self.channel.basic_publish(
            exchange="",
            routing_key=self.queue,
            properties=pika.BasicProperties(
                reply_to="amq.rabbitmq.reply-to",
                correlation_id=correlation_id,
                type=method,
                content_type="application/json",
                # A request nobody waits for any more dies in the queue instead of being served late,
                expiration=str(int(timeout * 1000)),
                # and one that reaches a server after this moment (Unix ms, an integer) is refused unrun.
                headers={"rpc-deadline": int((time.time() + timeout) * 1000)}),
            body=body)
        deadline = time.monotonic() + timeout
        try:
            while correlation_id not in self.replies:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no reply to '{method}' from queue '{self.queue}' within {timeout} s")
                self.connection.process_data_events(time_limit=remaining)
        finally:
            self.waiting.discard(correlation_id)
        properties, reply = self.replies.pop(correlation_id)
        if (properties.headers or {}).get("rpc-status") == "error":
            error = json.loads(reply)
            raise RemoteError(error["type"], error["message"], error.get("data"))
        return json.loads(reply) if reply else None

    def close(self):
        self.connection.close()


def main():
    parser = argparse.ArgumentParser(description="Call an RpcGen service with plain pika.")
    parser.add_argument("--amqp", default=os.environ.get("RPCGEN_AMQP", "amqp://guest:guest@localhost:5672/"))
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each reply")
    parser.add_argument("queue")
    parser.add_argument("calls", nargs="+", metavar="METHOD BODY")
    args = parser.parse_args()
    if len(args.calls) % 2 != 0:
        parser.error("give each METHOD a BODY (use '' for an empty body)")

    client = RpcClient(args.amqp, args.queue)
    try:
        for method, body in zip(args.calls[0::2], args.calls[1::2]):
            try:
                result = client.call(None if method == "-" else method, body.encode("utf-8"), args.timeout)
                print(json.dumps({"ok": True, "result": result}), flush=True)
            except RemoteError as e:
                failure = {"ok": False, "type": e.type, "message": e.message}
                if e.data is not None:
                    failure["data"] = e.data
                print(json.dumps(failure), flush=True)
    except TimeoutError as e:
        print(e, file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
