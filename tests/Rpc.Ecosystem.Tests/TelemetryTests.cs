using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using RabbitMQ.Client;
using RpcGen.Diagnostics;
using RpcGen.Ecosystem.Tests.Infrastructure;

namespace RpcGen.Ecosystem.Tests;

/// <summary>Spans and metrics seen the way OpenTelemetry sees them: through an ActivityListener and a MeterListener.</summary>
public sealed class TelemetryTests : IAsyncLifetime
{
    private static readonly ActivitySource s_test = new("RpcGen.Ecosystem.Tests");

    private readonly TestBroker _broker = new();
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = new();
    private readonly ActivityListener _activities;
    private readonly MeterListener _meters = new();
    private readonly EcoCalculator _calculator = new();
    private RpcConnection _connection = null!;

    public TelemetryTests()
    {
        _activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name is RpcDiagnostics.ActivitySourceName or "RpcGen.Ecosystem.Tests",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => _stopped.Enqueue(activity),
        };
        ActivitySource.AddActivityListener(_activities);

        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RpcDiagnostics.MeterName) listener.EnableMeasurementEvents(instrument);
        };
        _meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _meters.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _meters.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>();
        foreach (var tag in tags) copy[tag.Key] = tag.Value;
        // Only this class's service: measurements of other test classes' calls are not ours to count.
        if (copy.GetValueOrDefault("rpc.service") as string == "EcoCalculator") _measurements.Enqueue((instrument.Name, value, copy));
    }

    public async Task InitializeAsync()
    {
        _connection = await RpcConnection.ConnectAsync(_broker.Options());
        _broker.Queue("calc");
        await _connection.ServeAsync<IEcoCalculator>(_calculator);
    }

    public async Task DisposeAsync()
    {
        await _connection.DisposeAsync();
        await _broker.DisposeAsync();
        _activities.Dispose();
        _meters.Dispose();
    }

    [Fact]
    public async Task The_server_span_is_the_child_of_the_client_span_across_the_broker()
    {
        var client = _connection.CreateClient<IEcoCalculator>();
        ActivityTraceId trace;
        using (var root = s_test.StartActivity("test root")!)
        {
            trace = root.TraceId;
            Assert.Equal(5, await client.AddAsync(2, 3));
            Assert.Same(root, Activity.Current); // the client span does not leak into the caller's flow
        }

        var clientSpan = await SpanAsync(trace, ActivityKind.Client);
        var serverSpan = await SpanAsync(trace, ActivityKind.Server);

        Assert.Equal("EcoCalculator/Add", clientSpan.DisplayName);
        Assert.Equal(RpcDiagnostics.ActivitySourceName, clientSpan.Source.Name);
        Assert.Equal(_stopped.Single(a => a.DisplayName == "test root" && a.TraceId == trace).SpanId, clientSpan.ParentSpanId);
        Assert.Equal("EcoCalculator/Add", serverSpan.DisplayName);
        Assert.Equal(clientSpan.TraceId, serverSpan.TraceId);
        Assert.Equal(clientSpan.SpanId, serverSpan.ParentSpanId);
        Assert.True(serverSpan.HasRemoteParent);
        // The handler ran inside the server span, so the handler's own spans nest under it.
        Assert.Contains(_calculator.HandlerActivities, a => a?.SpanId == serverSpan.SpanId);

        foreach (var span in new[] { clientSpan, serverSpan })
        {
            Assert.Equal("rpcgen", span.GetTagItem("rpc.system"));
            Assert.Equal("EcoCalculator", span.GetTagItem("rpc.service"));
            Assert.Equal("Add", span.GetTagItem("rpc.method"));
            Assert.Equal("rabbitmq", span.GetTagItem("messaging.system"));
            Assert.Equal(_broker.Prefix + "calc", span.GetTagItem("messaging.destination.name"));
            Assert.Equal("ok", span.GetTagItem("rpc.response.status_code"));
            Assert.Equal(ActivityStatusCode.Unset, span.Status);
        }

        Assert.Equal(TestBroker.Uri.Host, clientSpan.GetTagItem("server.address"));
        Assert.Equal(TestBroker.Uri.Port > 0 ? TestBroker.Uri.Port : 5672, clientSpan.GetTagItem("server.port"));
        Assert.NotNull(clientSpan.GetTagItem("messaging.message.conversation_id"));
        Assert.Equal(clientSpan.GetTagItem("messaging.message.conversation_id"), serverSpan.GetTagItem("messaging.message.conversation_id"));
    }

    [Fact]
    public async Task The_request_carries_a_W3C_traceparent_header_naming_the_client_span()
    {
        // The same service under another prefix: a queue no RpcGen server reads, so the one-way request stays there
        // for the test to read as it is on the wire.
        await using var amqp = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
        await using var channel = await amqp.CreateChannelAsync();
        var target = _broker.Queue("inspect-calc");
        await channel.QueueDeclareAsync(target, durable: false, exclusive: false, autoDelete: false);
        await using var connection = await RpcConnection.ConnectAsync(_broker.Options(o => o.QueuePrefix = _broker.Prefix + "inspect-"));

        await connection.CreateClient<IEcoCalculator>().NotifyAsync("hello");
        var message = await channel.BasicGetAsync(target, autoAck: true);

        Assert.NotNull(message);
        var producer = await SpanAsync(span => span.Kind == ActivityKind.Producer && span.DisplayName == "EcoCalculator/Notify");
        var traceparent = Encoding.UTF8.GetString((byte[])message!.BasicProperties.Headers!["traceparent"]!);
        Assert.Equal($"00-{producer.TraceId}-{producer.SpanId}-01", traceparent);
    }

    [Fact]
    public async Task A_failed_call_marks_both_spans_as_errors_and_counts_them()
    {
        var client = _connection.CreateClient<IEcoCalculator>();
        ActivityTraceId trace;
        using (var root = s_test.StartActivity("failing root")!)
        {
            trace = root.TraceId;
            var error = await Assert.ThrowsAsync<RpcRemoteException>(() => client.FailAsync("no stock"));
            Assert.Equal("System.InvalidOperationException", error.RemoteType);
        }

        var clientSpan = await SpanAsync(trace, ActivityKind.Client);
        var serverSpan = await SpanAsync(trace, ActivityKind.Server);
        foreach (var span in new[] { clientSpan, serverSpan })
        {
            Assert.Equal(ActivityStatusCode.Error, span.Status);
            Assert.Equal("System.InvalidOperationException", span.GetTagItem("error.type"));
        }

        var clientErrors = await MeasurementsAsync(RpcDiagnostics.ClientErrors, m => Equals(m.Tags.GetValueOrDefault("rpc.method"), "Fail"));
        var serverErrors = await MeasurementsAsync(RpcDiagnostics.ServerErrors, m => Equals(m.Tags.GetValueOrDefault("rpc.method"), "Fail"));
        Assert.Equal(1, clientErrors.Sum(m => m.Value));
        Assert.Equal(1, serverErrors.Sum(m => m.Value));
        Assert.Equal("System.InvalidOperationException", clientErrors.Single().Tags["error.type"]);
        var durations = await MeasurementsAsync(RpcDiagnostics.ClientCallDuration, m => Equals(m.Tags.GetValueOrDefault("rpc.method"), "Fail"));
        Assert.Equal("System.InvalidOperationException", durations.Single().Tags["error.type"]);
    }

    [Fact]
    public async Task Metrics_record_durations_and_calls_in_flight()
    {
        var client = _connection.CreateClient<IEcoCalculator>();
        var held = client.HoldAsync(42);

        // While the handler waits, the call is in flight on both sides.
        await WaitUntilAsync(() => Sum(RpcDiagnostics.ClientActiveCalls, "Hold") == 1 && Sum(RpcDiagnostics.ServerActiveCalls, "Hold") == 1);
        _calculator.Gate.SetResult();
        Assert.Equal(42, await held);
        await WaitUntilAsync(() => Sum(RpcDiagnostics.ServerActiveCalls, "Hold") == 0);

        Assert.Equal(0, Sum(RpcDiagnostics.ClientActiveCalls, "Hold"));
        var clientDuration = (await MeasurementsAsync(RpcDiagnostics.ClientCallDuration, m => Equals(m.Tags.GetValueOrDefault("rpc.method"), "Hold"))).Single();
        var serverDuration = (await MeasurementsAsync(RpcDiagnostics.ServerCallDuration, m => Equals(m.Tags.GetValueOrDefault("rpc.method"), "Hold"))).Single();
        Assert.True(clientDuration.Value > 0);
        Assert.True(serverDuration.Value > 0);
        Assert.False(clientDuration.Tags.ContainsKey("error.type"));
        Assert.Equal("rpcgen", serverDuration.Tags["rpc.system"]);
        Assert.DoesNotContain(_measurements, m => m.Instrument.EndsWith(".errors", StringComparison.Ordinal));
    }

    private double Sum(string instrument, string method) =>
        _measurements.Where(m => m.Instrument == instrument && Equals(m.Tags.GetValueOrDefault("rpc.method"), method)).Sum(m => m.Value);

    private Task<Activity> SpanAsync(ActivityTraceId trace, ActivityKind kind) =>
        SpanAsync(span => span.TraceId == trace && span.Kind == kind && span.Source.Name == RpcDiagnostics.ActivitySourceName);

    /// <summary>
    /// The server span ends once the request is acked, which may be just after the client has its reply: wait for it,
    /// within a bound, so the test never hangs.
    /// </summary>
    private async Task<Activity> SpanAsync(Func<Activity, bool> match)
    {
        Activity? found = null;
        await WaitUntilAsync(() => (found = _stopped.FirstOrDefault(match)) is not null);
        return found!;
    }

    private async Task<List<(string Instrument, double Value, Dictionary<string, object?> Tags)>> MeasurementsAsync(
        string instrument, Func<(string Instrument, double Value, Dictionary<string, object?> Tags), bool> match)
    {
        await WaitUntilAsync(() => _measurements.Any(m => m.Instrument == instrument && match(m)));
        return _measurements.Where(m => m.Instrument == instrument && match(m)).ToList();
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The expected span or measurement did not appear within 10 s.");
            await Task.Delay(10);
        }
    }
}

/// <summary>An app that traces its own work but does not listen to RpcGen still gets its trace carried to the server.</summary>
public sealed class TracePropagationWithoutRpcGenListenerTests
{
    private static readonly ActivitySource s_app = new("RpcGen.Ecosystem.Tests.App");

    [Fact]
    public async Task The_callers_own_span_is_sent_when_nobody_listens_to_RpcGen()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "RpcGen.Ecosystem.Tests.App",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using (var probe = new ActivitySource(RpcDiagnostics.ActivitySourceName)) Assert.False(probe.HasListeners());

        await using var broker = new TestBroker();
        await using var amqp = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
        await using var channel = await amqp.CreateChannelAsync();
        var target = broker.Queue("calc");
        await channel.QueueDeclareAsync(target, durable: false, exclusive: false, autoDelete: false);
        await using var connection = await RpcConnection.ConnectAsync(broker.Options());

        using (var request = s_app.StartActivity("incoming request")!)
        {
            await connection.CreateClient<IEcoCalculator>().NotifyAsync("hello");
            var message = await channel.BasicGetAsync(target, autoAck: true);
            var traceparent = Encoding.UTF8.GetString((byte[])message!.BasicProperties.Headers!["traceparent"]!);
            Assert.Equal(request.Id, traceparent);
        }
    }
}
