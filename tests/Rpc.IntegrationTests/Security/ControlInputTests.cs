using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using Xunit;

namespace RpcGen.IntegrationTests.Security;

/// <summary>
/// A pika peer (RabbitMQ.Client cannot send bytes that are not UTF-8 in a short string) publishes control messages
/// whose correlation id, type and headers are not text or not numbers, to a running server's control exchange.
/// </summary>
public sealed class ControlInputTests
{
    private const string Hostile = """
        import sys, pika
        amqp, exchange, queue = sys.argv[1], sys.argv[2], sys.argv[3]
        connection = pika.BlockingConnection(pika.URLParameters(amqp))
        channel = connection.channel()
        bad = b'\xff\xfe\xc0'
        for props in [
            pika.BasicProperties(type='cancel', correlation_id=bad, headers={'rpc-deadline': 9999999999999}),
            pika.BasicProperties(type='cancel', correlation_id=bad + b'x' * 200, headers={'rpc-deadline': b'\xff'}),
            pika.BasicProperties(type='credit', correlation_id=bad, headers={'rpc-credit': b'\xff\xfe'}),
            pika.BasicProperties(type='credit', correlation_id='c', headers={'rpc-credit': -5}),
            pika.BasicProperties(type=bad, correlation_id=bad, message_id=bad, reply_to=bad, content_type=bad),
            pika.BasicProperties(type='cancel', correlation_id=bad, headers={bad.decode('latin-1'): bad}),
        ]:
            channel.basic_publish(exchange, '', b'\xff' * 10, props)
        # The same odd properties on a request to the work queue (no reply_to: nobody to answer).
        channel.basic_publish('', queue, b'{"a":1,"b":2}', pika.BasicProperties(type=bad, correlation_id=bad, content_type=bad))
        channel.confirm_delivery()
        channel.basic_publish(exchange, '', b'', pika.BasicProperties(type='cancel', correlation_id='last'))
        print('sent', flush=True)
        connection.close()
        """;

    [Fact]
    public async Task Control_messages_that_are_not_text_are_ignored_and_the_server_still_cancels_and_answers()
    {
        await using var broker = new TestBroker();
        var calculator = new CancellableCalculator();
        var server = await broker.ServeAsync<ICalculator>(await broker.ConnectAsync(), calculator);
        var script = Path.Combine(Path.GetTempPath(), $"rpcgen-hostile-control-{Guid.NewGuid():N}.py");
        await File.WriteAllTextAsync(script, Hostile);
        try
        {
            var output = await PythonScript.RunAsync(TimeSpan.FromSeconds(30), script, TestBroker.Uri.ToString(), "rpc-control." + server.Queue, server.Queue);
            Assert.Contains("sent", output);
        }
        finally
        {
            File.Delete(script);
        }

        // The control consumer, its channel and the connection are still there: a real cancel still reaches the handler.
        var client = (await broker.ConnectAsync()).CreateClient<ICalculator>();
        using var cancel = new CancellationTokenSource();
        var slow = client.SlowAsync(30_000, cancel.Token);
        await Wait.UntilAsync(() => calculator.Started == 1, "the slow call started");
        cancel.CancelAfter(100);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slow);
        await Wait.UntilAsync(() => calculator.CancelledByCaller == 1, "the handler's token fired by the caller's cancel");
        Assert.Equal(5, await client.AddAsync(2, 3));
    }

    private sealed class CancellableCalculator : Calculator
    {
        private int _started;
        private int _cancelled;

        public int Started => Volatile.Read(ref _started);

        public int CancelledByCaller => Volatile.Read(ref _cancelled);

        public override async Task<int> SlowAsync(int milliseconds, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _started);
            try
            {
                await Task.Delay(milliseconds, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref _cancelled);
                throw;
            }

            return milliseconds;
        }
    }
}
