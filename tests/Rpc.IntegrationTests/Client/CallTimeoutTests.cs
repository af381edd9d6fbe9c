using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RpcGen.Diagnostics;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.IntegrationTests.Shapes.Faults;
using Xunit;

namespace RpcGen.IntegrationTests.Semantics;

/// <summary>
/// A call's timeout comes from the call's scope, else [RpcMethod], else [RpcService], else the connection; it is what
/// the request carries as expiration and rpc-deadline, and what the caller waits.
/// </summary>
[Collection(SemanticsCollection.Name)]
public sealed class CallTimeoutTests
{
    [Fact]
    public async Task The_effective_timeout_is_the_scope_then_the_method_then_the_service_then_the_connection_and_travels_as_expiration_and_deadline()
    {
        await using var broker = new TestBroker();
        var queue = broker.QueueName("shop");
        await using var raw = await RawAmqp.ConnectAsync();
        // A consumer that never answers: the calls are seen on the wire and time out.
        var seen = await raw.RecordRequestsAsync(queue);

        var rpc = await broker.ConnectAsync(o => o.Client.DefaultTimeout = TimeSpan.FromSeconds(9));
        var shop = rpc.CreateClient<IShop>();

        async Task<(IReadOnlyBasicProperties Request, RpcTimeoutException Timeout, TimeSpan Waited, long SentAt)> CallAsync(Func<Task> call)
        {
            long sentAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var watch = Stopwatch.StartNew();
            var task = call();
            Assert.True(seen.TryTake(out var request, TimeSpan.FromSeconds(10)), "no request reached the queue");
            var timeout = await Assert.ThrowsAsync<RpcTimeoutException>(() => task);
            return (request!, timeout, watch.Elapsed, sentAt);
        }

        // [RpcMethod(TimeoutMilliseconds = 400)]
        var method = await CallAsync(() => shop.HoldAsync(10));
        Assert.Equal("400", method.Request.Expiration);
        Assert.Equal(TimeSpan.FromMilliseconds(400), method.Timeout.Timeout);
        AssertDeadline(method.Request, method.SentAt, 400);
        Assert.InRange(method.Waited, TimeSpan.FromMilliseconds(390), TimeSpan.FromSeconds(4));

        // The scope beats the method.
        using (RpcCallOptions.WithTimeout(TimeSpan.FromMilliseconds(250)))
        {
            var scoped = await CallAsync(() => shop.HoldAsync(10));
            Assert.Equal("250", scoped.Request.Expiration);
            AssertDeadline(scoped.Request, scoped.SentAt, 250);
        }

        // [RpcService(TimeoutMilliseconds = 5000)], cut short by a scope so the test does not wait 5 s: the request
        // carries the service's value when no scope is in force, checked on the wire before the call ends.
        var serviceCall = shop.WaitAsync(10);
        Assert.True(seen.TryTake(out var serviceRequest, TimeSpan.FromSeconds(10)));
        Assert.Equal("5000", serviceRequest!.Expiration);
        Assert.Equal(TimeSpan.FromMilliseconds(5000), (await Assert.ThrowsAsync<RpcTimeoutException>(() => serviceCall)).Timeout);

        // A service without attributes uses the connection's default.
        var calc = rpc.CreateClient<ICalculator>();
        await raw.RecordRequestsAsync(broker.QueueName("calc"), seen);
        using (RpcCallOptions.WithWaitForReady())
        {
            var pending = calc.AddAsync(1, 2);
            Assert.True(seen.TryTake(out var plain, TimeSpan.FromSeconds(10)));
            Assert.Equal("9000", plain!.Expiration);
            await rpc.DisposeAsync(); // ends the 9 s wait
            await Assert.ThrowsAsync<RpcConnectionException>(() => pending);
        }

        await raw.Channel.QueueDeleteAsync(queue);
        await raw.Channel.QueueDeleteAsync(broker.QueueName("calc"));
    }

    [Fact]
    public async Task RpcTimeoutException_is_an_RpcException_with_DeadlineExceeded_naming_service_method_and_queue()
    {
        await using var broker = new TestBroker();
        var server = new Shop();
        await broker.ServeAsync<IShop>(await broker.ConnectAsync(), server);
        var shop = (await broker.ConnectAsync()).CreateClient<IShop>();

        RpcException e = await Assert.ThrowsAsync<RpcTimeoutException>(() => shop.HoldAsync(3000));
        var timeout = Assert.IsType<RpcTimeoutException>(e);
        Assert.Equal("Shop", timeout.Service);
        Assert.Equal("Hold", timeout.Method);
        Assert.Equal(broker.QueueName("shop"), timeout.Queue);
        Assert.Contains("Shop.Hold timed out after 400 ms", e.Message);
        Assert.Equal(RpcStatusCode.DeadlineExceeded, e.StatusCode);
        Assert.IsNotType<TimeoutException>(e, exactMatch: false);
    }

    [Fact]
    public async Task A_caller_token_that_fires_is_logged_counted_and_marks_the_span()
    {
        await using var broker = new TestBroker();
        await broker.ServeAsync<IShop>(await broker.ConnectAsync(), new Shop());
        var logs = new CapturingLoggerFactory();
        var rpc = await broker.ConnectAsync(o => o.LoggerFactory = logs);
        var shop = rpc.CreateClient<IShop>();

        var spans = new ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RpcDiagnostics.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => { if (activity.Kind == ActivityKind.Client) spans.Enqueue(activity); },
        };
        ActivitySource.AddActivityListener(listener);
        long cancelledCount = 0;
        using var meters = new System.Diagnostics.Metrics.MeterListener();
        meters.InstrumentPublished = (instrument, l) => { if (instrument.Meter.Name == RpcDiagnostics.MeterName && instrument.Name == RpcDiagnostics.ClientErrors) l.EnableMeasurementEvents(instrument); };
        meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? service = null, method = null, error = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "rpc.service") service = tag.Value as string;
                if (tag.Key == "rpc.method") method = tag.Value as string;
                if (tag.Key == "error.type") error = tag.Value as string;
            }

            // Only this test calls Shop.Wait while it runs (the Semantics collection runs its classes one at a time).
            if (service == "Shop" && method == "Wait" && error == "cancelled") Interlocked.Add(ref cancelledCount, value);
        });
        meters.Start();

        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => shop.WaitAsync(3000, cancel.Token));

        var logged = Assert.Single(logs.Events, e => e.EventId == RpcLogEvents.CallCancelled);
        Assert.Equal(LogLevel.Information, logged.Level);
        Assert.Contains("Shop.Wait", logged.Message);
        var span = Assert.Single(spans, s => s.DisplayName == "Shop/Wait" && (string?)s.GetTagItem("error.type") == "cancelled");
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("cancelled", span.GetTagItem("error.type"));
        Assert.Equal(1, Interlocked.Read(ref cancelledCount));
    }

    private static void AssertDeadline(IReadOnlyBasicProperties request, long sentAt, int timeoutMs)
    {
        var deadline = Assert.IsType<long>(request.Headers!["rpc-deadline"]);
        // Generous bounds: the deadline is the caller's clock at publish plus the timeout.
        Assert.InRange(deadline, sentAt + timeoutMs - 50, sentAt + timeoutMs + 2000);
    }
}
