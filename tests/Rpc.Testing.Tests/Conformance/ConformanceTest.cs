using RabbitMQ.Client;
using RpcGen.IntegrationTests.Interop;
using RpcGen.Testing.Tests.Infrastructure;
using Xunit;

namespace RpcGen.Testing.Tests.Conformance;

/// <summary>
/// The base of every behavioural test class: the class is abstract, and each has two concrete subclasses, one per
/// transport (<c>...InMemory</c>, <c>...OnBroker</c>), so the same assertions hold for the in-memory broker and RabbitMQ.
/// </summary>
public abstract class ConformanceTest : IAsyncLifetime
{
    protected TransportFixture Transport { get; private set; } = null!;

    protected abstract TransportFixture CreateTransport();

    public Task InitializeAsync()
    {
        Transport = CreateTransport();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Transport.DisposeAsync();

    /// <summary>Records a queue the test uses (deleted afterwards on the real node).</summary>
    protected string Queue(string queue)
    {
        if (Transport is BrokerTransport broker) broker.Queues.Add(queue);
        return Transport.Name(queue);
    }

    protected string Exchange(string exchange)
    {
        if (Transport is BrokerTransport broker) broker.Exchanges.Add(exchange);
        return Transport.Name(exchange);
    }

    /// <summary>Takes every message waiting in <paramref name="queue"/>, as an operator's tool would (a queue not there yet is empty).</summary>
    protected async Task<List<BasicGetResult>> DrainAsync(string queue, int atLeast, double seconds = 15)
    {
        var taken = new List<BasicGetResult>();
        var amqp = await Transport.OpenAmqpAsync();
        await Wait.UntilAsync(async () =>
        {
            // A passive look at a queue not declared yet closes the channel (404), on both transports: a new one each time.
            await using var channel = await amqp.CreateChannelAsync();
            try
            {
                while (await channel.BasicGetAsync(queue, autoAck: true) is { } message) taken.Add(message);
            }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
            {
            }

            return taken.Count >= atLeast;
        }, $"{atLeast} messages in {queue}", seconds);
        return taken;
    }

    protected static string? Header(IReadOnlyBasicProperties properties, string name) =>
        properties.Headers is { } headers && headers.TryGetValue(name, out var value)
            ? value is byte[] bytes ? System.Text.Encoding.UTF8.GetString(bytes) : value?.ToString()
            : null;
}
