using System.Text;
using System.Threading.Channels;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace RpcGen.IntegrationTests.Interop.Tutorials;

/// <summary>
/// The .NET tutorial peer: the same roles as the other languages' programs (README.md beside this file), on plain
/// RabbitMQ.Client, run as a task of the test process.
/// </summary>
internal static class DotNetTutorial
{
    private static readonly Dictionary<string, object?> s_quorum = new() { ["x-queue-type"] = "quorum" };

    public static TutorialPeer Start(string role, string[] a)
    {
        var peer = new TutorialPeer.InProcess(role, a);
        Func<Task> work = role switch
        {
            "new_task" => () => NewTaskAsync(peer, a[0], a[1], a[2..]),
            "worker" => () => WorkerAsync(peer, a[0], a[1], int.Parse(a[2])),
            "emit_log_topic" => () => EmitLogTopicAsync(peer, a[0], a[1], a[2..]),
            "receive_logs_topic" => () => ReceiveLogsTopicAsync(peer, a[0], a[1], int.Parse(a[2]), a[3..]),
            "rpc_server" => () => RpcServerAsync(peer, a[0], a[1], int.Parse(a[2])),
            "rpc_client" => () => RpcClientAsync(peer, a[0], a[1], a[2..]),
            _ => throw new ArgumentException($"unknown role {role}", nameof(role)),
        };
        peer.Run(work);
        return peer;
    }

    private static int Fib(int n)
    {
        int a = 0, b = 1;
        for (int i = 0; i < n; i++) (a, b) = (b, a + b);
        return a;
    }

    private static Task<IConnection> ConnectAsync(string uri) => new ConnectionFactory { Uri = new Uri(uri) }.CreateConnectionAsync();

    private static async Task NewTaskAsync(TutorialPeer.InProcess peer, string uri, string queue, string[] messages)
    {
        await using var connection = await ConnectAsync(uri);
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, s_quorum);
        foreach (var message in messages)
        {
            await channel.BasicPublishAsync("", queue, mandatory: false, new BasicProperties { Persistent = true }, Encoding.UTF8.GetBytes(message));
        }

        peer.Say($"sent {messages.Length}");
    }

    private static async Task WorkerAsync(TutorialPeer.InProcess peer, string uri, string queue, int count)
    {
        await using var connection = await ConnectAsync(uri);
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, s_quorum);
        await channel.BasicQosAsync(0, 1, false);
        await ConsumeAsync(peer, channel, queue, autoAck: false, count, async delivery =>
        {
            peer.Say("received " + Encoding.UTF8.GetString(delivery.Body.Span));
            await channel.BasicAckAsync(delivery.DeliveryTag, false);
        });
    }

    private static async Task EmitLogTopicAsync(TutorialPeer.InProcess peer, string uri, string exchange, string[] messages)
    {
        await using var connection = await ConnectAsync(uri);
        await using var channel = await connection.CreateChannelAsync();
        await channel.ExchangeDeclareAsync(exchange, ExchangeType.Topic);
        peer.Say("declared");
        await peer.ReadLineAsync();
        foreach (var keyed in messages)
        {
            var at = keyed.IndexOf('=');
            await channel.BasicPublishAsync(exchange, keyed[..at], Encoding.UTF8.GetBytes(keyed[(at + 1)..]));
        }

        peer.Say($"sent {messages.Length}");
    }

    private static async Task ReceiveLogsTopicAsync(TutorialPeer.InProcess peer, string uri, string exchange, int count, string[] keys)
    {
        await using var connection = await ConnectAsync(uri);
        await using var channel = await connection.CreateChannelAsync();
        await channel.ExchangeDeclareAsync(exchange, ExchangeType.Topic);
        var queue = (await channel.QueueDeclareAsync()).QueueName;
        foreach (var key in keys) await channel.QueueBindAsync(queue, exchange, key);
        await ConsumeAsync(peer, channel, queue, autoAck: true, count, delivery =>
        {
            peer.Say($"received {delivery.RoutingKey}:{Encoding.UTF8.GetString(delivery.Body.Span)}");
            return Task.CompletedTask;
        });
    }

    private static async Task RpcServerAsync(TutorialPeer.InProcess peer, string uri, string queue, int count)
    {
        await using var connection = await ConnectAsync(uri);
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync(queue, durable: false, exclusive: false, autoDelete: false);
        await channel.BasicQosAsync(0, 1, false);
        await ConsumeAsync(peer, channel, queue, autoAck: false, count, async delivery =>
        {
            var answer = Fib(int.Parse(Encoding.UTF8.GetString(delivery.Body.Span))).ToString();
            await channel.BasicPublishAsync("", delivery.BasicProperties.ReplyTo!, mandatory: false,
                new BasicProperties { CorrelationId = delivery.BasicProperties.CorrelationId }, Encoding.UTF8.GetBytes(answer));
            await channel.BasicAckAsync(delivery.DeliveryTag, false);
        });
    }

    private static async Task RpcClientAsync(TutorialPeer.InProcess peer, string uri, string queue, string[] numbers)
    {
        await using var connection = await ConnectAsync(uri);
        await using var channel = await connection.CreateChannelAsync();
        var replyQueue = (await channel.QueueDeclareAsync()).QueueName;
        var replies = Channel.CreateUnbounded<BasicDeliverEventArgs>();
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            replies.Writer.TryWrite(new BasicDeliverEventArgs(delivery.ConsumerTag, delivery.DeliveryTag, delivery.Redelivered, delivery.Exchange,
                delivery.RoutingKey, delivery.BasicProperties, delivery.Body.ToArray()));
            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(replyQueue, autoAck: true, consumer);
        foreach (var n in numbers)
        {
            var correlationId = Guid.NewGuid().ToString();
            await channel.BasicPublishAsync("", queue, mandatory: false, new BasicProperties { CorrelationId = correlationId, ReplyTo = replyQueue },
                Encoding.UTF8.GetBytes(n));
            while (true)
            {
                var reply = await replies.Reader.ReadAsync(peer.Stopping);
                if (reply.BasicProperties.CorrelationId != correlationId) continue;
                peer.Say($"fib({n})={Encoding.UTF8.GetString(reply.Body.Span)}");
                break;
            }
        }
    }

    /// <summary>Consumes until <paramref name="count"/> messages were handled; "ready" once the consumer is registered.</summary>
    private static async Task ConsumeAsync(TutorialPeer.InProcess peer, IChannel channel, string queue, bool autoAck, int count,
        Func<BasicDeliverEventArgs, Task> handle)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int left = count;
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            await handle(delivery);
            if (Interlocked.Decrement(ref left) == 0) done.TrySetResult();
        };
        await channel.BasicConsumeAsync(queue, autoAck, consumer);
        peer.Say("ready");
        await done.Task.WaitAsync(peer.Stopping);
    }
}
