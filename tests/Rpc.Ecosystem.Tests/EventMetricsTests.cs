using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using RabbitMQ.Client;
using RpcGen.Diagnostics;
using RpcGen.Ecosystem.Tests.Infrastructure;

namespace RpcGen.Ecosystem.Tests;

[RpcEvents(Exchange = "eco-metered", Type = RpcExchangeType.Direct)]
public interface IMeteredEvents
{
    Task GoodAsync(int n);

    Task BadAsync(int n);
}

/// <summary>The events meters as OpenTelemetry reads them (a MeterListener), against the real broker.</summary>
public sealed class EventMetricsTests : IAsyncLifetime
{
    private readonly TestBroker _broker = new();
    private readonly MeterListener _meters = new();
    private readonly ConcurrentQueue<(string Instrument, long Value, Dictionary<string, object?> Tags)> _measurements = new();

    public EventMetricsTests()
    {
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RpcDiagnostics.MeterName) listener.EnableMeasurementEvents(instrument);
        };
        _meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags) copy[tag.Key] = tag.Value;
            if (copy.GetValueOrDefault("rpc.service") as string == "MeteredEvents") _measurements.Enqueue((instrument.Name, value, copy));
        });
        _meters.Start();
    }

    public Task InitializeAsync()
    {
        _broker.Queue("metered");
        _broker.Queue("metered.dead-letter");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _meters.Dispose();
        await _broker.DisposeAsync();
        await using var amqp = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
        await using var channel = await amqp.CreateChannelAsync();
        await channel.ExchangeDeleteAsync(_broker.Prefix + "eco-metered");
    }

    [Fact]
    public async Task Published_handled_failed_and_dead_lettered_events_are_counted_with_their_event_and_error_type()
    {
        await using var rpc = await RpcConnection.ConnectAsync(_broker.Options(o => o.Server.RetryLimit = 1));
        var handler = new Handler();
        await using var subscriber = await rpc.SubscribeAsync<IMeteredEvents>(handler, new RpcSubscription { Queue = "metered" });
        var publisher = rpc.CreatePublisher<IMeteredEvents>();

        for (int i = 0; i < 3; i++) await publisher.GoodAsync(i);
        await publisher.BadAsync(7);
        // A plain publisher's event that names no event of the interface: it never reaches a handler.
        await using (var amqp = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync())
        await using (var channel = await amqp.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)))
        {
            await channel.BasicPublishAsync(_broker.Prefix + "eco-metered", "Good", mandatory: true,
                new BasicProperties { Type = "Nope", ContentType = "application/json", Persistent = true }, Encoding.UTF8.GetBytes("[1]"));
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((Sum(RpcDiagnostics.EventsDeadLettered) < 2 || Sum(RpcDiagnostics.EventsHandled) < 3) && DateTime.UtcNow < deadline) await Task.Delay(20);
        await Task.Delay(300);   // nothing more may come: no third run of the bad event, no second count of anything

        Assert.Equal(3, Sum(RpcDiagnostics.EventsPublished, "Good"));
        Assert.Equal(1, Sum(RpcDiagnostics.EventsPublished, "Bad"));
        Assert.Equal(3, Sum(RpcDiagnostics.EventsHandled, "Good"));
        Assert.Equal(0, Sum(RpcDiagnostics.EventsHandled, "Bad"));
        // Every run that threw: the first and its one retry.
        Assert.Equal(2, Sum(RpcDiagnostics.EventsFailed, "Bad"));
        Assert.Equal(2, Sum(RpcDiagnostics.EventsFailed));
        Assert.All(Of(RpcDiagnostics.EventsFailed), m => Assert.Equal("System.InvalidOperationException", m.Tags["error.type"]));
        // Given up: the bad event after its retry, and the unknown one at once; the server counter counts both as well.
        Assert.Equal(new[] { "System.InvalidOperationException", "rpc:unknown-method" },
            Of(RpcDiagnostics.EventsDeadLettered).Select(m => (string)m.Tags["error.type"]!).Order(StringComparer.Ordinal));
        Assert.Equal(new[] { "Bad", "_OTHER" }, Of(RpcDiagnostics.EventsDeadLettered).Select(m => (string)m.Tags["rpc.method"]!).Order(StringComparer.Ordinal));
        Assert.Equal(2, Sum(RpcDiagnostics.DeadLettered));
        Assert.Equal(1, Sum(RpcDiagnostics.Retried, "Bad"));
        Assert.All(_measurements, m => Assert.Equal("rpcgen", m.Tags["rpc.system"]));
        Assert.Equal(3, handler.Good);
        Assert.Equal(2, handler.BadRuns);
        Assert.Equal(2, subscriber.DeadLettered);
    }

    private IEnumerable<(string Instrument, long Value, Dictionary<string, object?> Tags)> Of(string instrument) =>
        _measurements.Where(m => m.Instrument == instrument);

    private long Sum(string instrument, string? method = null) =>
        Of(instrument).Where(m => method is null || m.Tags["rpc.method"] as string == method).Sum(m => m.Value);

    private sealed class Handler : IMeteredEvents
    {
        private int _good;
        private int _badRuns;

        public int Good => Volatile.Read(ref _good);

        public int BadRuns => Volatile.Read(ref _badRuns);

        public Task GoodAsync(int n)
        {
            Interlocked.Increment(ref _good);
            return Task.CompletedTask;
        }

        public Task BadAsync(int n)
        {
            Interlocked.Increment(ref _badRuns);
            throw new InvalidOperationException("bad event " + n);
        }
    }
}
