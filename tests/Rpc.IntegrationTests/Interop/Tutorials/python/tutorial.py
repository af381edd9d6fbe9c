"""The RabbitMQ tutorials' work queue, topic and RPC programs in one file, on pika (see ../README.md)."""
import sys
import uuid

import pika


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def connect(uri):
    connection = pika.BlockingConnection(pika.URLParameters(uri))
    return connection, connection.channel()


def say(line):
    print(line, flush=True)


def new_task(uri, queue, *messages):
    connection, channel = connect(uri)
    channel.queue_declare(queue=queue, durable=True, arguments={"x-queue-type": "quorum"})
    for message in messages:
        channel.basic_publish(exchange="", routing_key=queue, body=message.encode(),
                              properties=pika.BasicProperties(delivery_mode=2))
    say(f"sent {len(messages)}")
    connection.close()


def worker(uri, queue, count):
    connection, channel = connect(uri)
    channel.queue_declare(queue=queue, durable=True, arguments={"x-queue-type": "quorum"})
    channel.basic_qos(prefetch_count=1)
    left = [int(count)]

    def on_message(ch, method, properties, body):
        say("received " + body.decode())
        ch.basic_ack(delivery_tag=method.delivery_tag)
        left[0] -= 1
        if left[0] == 0:
            ch.stop_consuming()

    channel.basic_consume(queue=queue, on_message_callback=on_message)
    say("ready")
    channel.start_consuming()
    connection.close()


def emit_log_topic(uri, exchange, *messages):
    connection, channel = connect(uri)
    channel.exchange_declare(exchange=exchange, exchange_type="topic")
    say("declared")
    sys.stdin.readline()
    for keyed in messages:
        key, message = keyed.split("=", 1)
        channel.basic_publish(exchange=exchange, routing_key=key, body=message.encode())
    say(f"sent {len(messages)}")
    connection.close()


def receive_logs_topic(uri, exchange, count, *keys):
    connection, channel = connect(uri)
    channel.exchange_declare(exchange=exchange, exchange_type="topic")
    queue = channel.queue_declare(queue="", exclusive=True).method.queue
    for key in keys:
        channel.queue_bind(exchange=exchange, queue=queue, routing_key=key)
    left = [int(count)]

    def on_message(ch, method, properties, body):
        say(f"received {method.routing_key}:{body.decode()}")
        left[0] -= 1
        if left[0] == 0:
            ch.stop_consuming()

    channel.basic_consume(queue=queue, on_message_callback=on_message, auto_ack=True)
    say("ready")
    channel.start_consuming()
    connection.close()


def rpc_server(uri, queue, count):
    connection, channel = connect(uri)
    channel.queue_declare(queue=queue)
    channel.basic_qos(prefetch_count=1)
    left = [int(count)]

    def on_request(ch, method, properties, body):
        reply = str(fib(int(body)))
        ch.basic_publish(exchange="", routing_key=properties.reply_to, body=reply.encode(),
                         properties=pika.BasicProperties(correlation_id=properties.correlation_id))
        ch.basic_ack(delivery_tag=method.delivery_tag)
        left[0] -= 1
        if left[0] == 0:
            ch.stop_consuming()

    channel.basic_consume(queue=queue, on_message_callback=on_request)
    say("ready")
    channel.start_consuming()
    connection.close()


def rpc_client(uri, queue, *numbers):
    connection, channel = connect(uri)
    callback = channel.queue_declare(queue="", exclusive=True).method.queue
    replies = {}

    def on_reply(ch, method, properties, body):
        replies[properties.correlation_id] = body

    channel.basic_consume(queue=callback, on_message_callback=on_reply, auto_ack=True)
    for n in numbers:
        correlation_id = str(uuid.uuid4())
        channel.basic_publish(exchange="", routing_key=queue, body=n.encode(),
                              properties=pika.BasicProperties(reply_to=callback, correlation_id=correlation_id))
        while correlation_id not in replies:
            connection.process_data_events(time_limit=None)
        say(f"fib({n})={replies.pop(correlation_id).decode()}")
    connection.close()


ROLES = {f.__name__: f for f in (new_task, worker, emit_log_topic, receive_logs_topic, rpc_server, rpc_client)}

if __name__ == "__main__":
    ROLES[sys.argv[1]](*sys.argv[2:])
