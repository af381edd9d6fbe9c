// The RabbitMQ tutorials' work queue, topic and RPC programs in one file, on the RabbitMQ Java client (see ../README.md).
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.Delivery;
import com.rabbitmq.client.MessageProperties;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;

public final class Tutorial {
    private static int fib(int n) {
        int a = 0, b = 1;
        for (int i = 0; i < n; i++) { int t = a + b; a = b; b = t; }
        return a;
    }

    private static Connection connect(String uri) throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(uri);
        return factory.newConnection();
    }

    private static String text(byte[] body) {
        return new String(body, StandardCharsets.UTF_8);
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    private static void declareTaskQueue(Channel channel, String queue) throws Exception {
        channel.queueDeclare(queue, true, false, false, Map.of("x-queue-type", "quorum"));
    }

    private static void newTask(String uri, String queue, String[] messages) throws Exception {
        try (Connection connection = connect(uri); Channel channel = connection.createChannel()) {
            declareTaskQueue(channel, queue);
            for (String message : messages) {
                channel.basicPublish("", queue, MessageProperties.PERSISTENT_TEXT_PLAIN, message.getBytes(StandardCharsets.UTF_8));
            }
            say("sent " + messages.length);
        }
    }

    private static void worker(String uri, String queue, int count) throws Exception {
        CountDownLatch done = new CountDownLatch(count);
        try (Connection connection = connect(uri); Channel channel = connection.createChannel()) {
            declareTaskQueue(channel, queue);
            channel.basicQos(1);
            channel.basicConsume(queue, false, (tag, delivery) -> {
                say("received " + text(delivery.getBody()));
                channel.basicAck(delivery.getEnvelope().getDeliveryTag(), false);
                done.countDown();
            }, tag -> { });
            say("ready");
            done.await();
        }
    }

    private static void emitLogTopic(String uri, String exchange, String[] messages) throws Exception {
        try (Connection connection = connect(uri); Channel channel = connection.createChannel()) {
            channel.exchangeDeclare(exchange, "topic");
            say("declared");
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            for (String keyed : messages) {
                String[] parts = keyed.split("=", 2);
                channel.basicPublish(exchange, parts[0], null, parts[1].getBytes(StandardCharsets.UTF_8));
            }
            say("sent " + messages.length);
        }
    }

    private static void receiveLogsTopic(String uri, String exchange, int count, String[] keys) throws Exception {
        CountDownLatch done = new CountDownLatch(count);
        try (Connection connection = connect(uri); Channel channel = connection.createChannel()) {
            channel.exchangeDeclare(exchange, "topic");
            String queue = channel.queueDeclare().getQueue();
            for (String key : keys) channel.queueBind(queue, exchange, key);
            channel.basicConsume(queue, true, (tag, delivery) -> {
                say("received " + delivery.getEnvelope().getRoutingKey() + ":" + text(delivery.getBody()));
                done.countDown();
            }, tag -> { });
            say("ready");
            done.await();
        }
    }

    private static void rpcServer(String uri, String queue, int count) throws Exception {
        CountDownLatch done = new CountDownLatch(count);
        try (Connection connection = connect(uri); Channel channel = connection.createChannel()) {
            channel.queueDeclare(queue, false, false, false, null);
            channel.basicQos(1);
            channel.basicConsume(queue, false, (tag, delivery) -> {
                AMQP.BasicProperties reply = new AMQP.BasicProperties.Builder()
                    .correlationId(delivery.getProperties().getCorrelationId()).build();
                String answer = Integer.toString(fib(Integer.parseInt(text(delivery.getBody()))));
                channel.basicPublish("", delivery.getProperties().getReplyTo(), reply, answer.getBytes(StandardCharsets.UTF_8));
                channel.basicAck(delivery.getEnvelope().getDeliveryTag(), false);
                done.countDown();
            }, tag -> { });
            say("ready");
            done.await();
        }
    }

    private static void rpcClient(String uri, String queue, String[] numbers) throws Exception {
        try (Connection connection = connect(uri); Channel channel = connection.createChannel()) {
            String replyQueue = channel.queueDeclare().getQueue();
            BlockingQueue<Delivery> replies = new ArrayBlockingQueue<>(16);
            channel.basicConsume(replyQueue, true, (tag, delivery) -> replies.offer(delivery), tag -> { });
            for (String n : numbers) {
                String correlationId = UUID.randomUUID().toString();
                AMQP.BasicProperties request = new AMQP.BasicProperties.Builder().correlationId(correlationId).replyTo(replyQueue).build();
                channel.basicPublish("", queue, request, n.getBytes(StandardCharsets.UTF_8));
                while (true) {
                    Delivery reply = replies.take();
                    if (correlationId.equals(reply.getProperties().getCorrelationId())) {
                        say("fib(" + n + ")=" + text(reply.getBody()));
                        break;
                    }
                }
            }
        }
    }

    public static void main(String[] argv) throws Exception {
        String[] a = Arrays.copyOfRange(argv, 1, argv.length);
        switch (argv[0]) {
            case "new_task": newTask(a[0], a[1], Arrays.copyOfRange(a, 2, a.length)); break;
            case "worker": worker(a[0], a[1], Integer.parseInt(a[2])); break;
            case "emit_log_topic": emitLogTopic(a[0], a[1], Arrays.copyOfRange(a, 2, a.length)); break;
            case "receive_logs_topic": receiveLogsTopic(a[0], a[1], Integer.parseInt(a[2]), Arrays.copyOfRange(a, 3, a.length)); break;
            case "rpc_server": rpcServer(a[0], a[1], Integer.parseInt(a[2])); break;
            case "rpc_client": rpcClient(a[0], a[1], Arrays.copyOfRange(a, 2, a.length)); break;
            default: System.err.println("unknown role " + argv[0]); System.exit(2);
        }
        System.exit(0);
    }
}
