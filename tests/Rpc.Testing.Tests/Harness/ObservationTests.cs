using RpcGen.Testing.Tests.Conformance;
using Xunit;

namespace RpcGen.Testing.Tests.Harness;

/// <summary>What the harness records, and what its waits say when what was expected did not come.</summary>
public sealed class ObservationTests
{
    [Fact]
    public async Task Events_are_recorded_as_sent_delivered_and_handled_per_subscription()
    {
        await using var harness = await RpcTestHarness.StartAsync();
        var log = new EventLog();
        await using var subscriber = await harness.Connection.SubscribeAsync<ITopicEvents>(log, new RpcSubscription { Queue = "eu-orders", Bindings = { "order.*.eu" } });
        var publisher = harness.Connection.CreatePublisher<ITopicEvents>();
        await publisher.HappenedAsync("order.placed.eu", "1");
        await publisher.HappenedAsync("order.placed.us", "2");
        await publisher.HappenedAsync("order.paid.eu", "3");
        await publisher.HappenedAsync("order.sent.eu", "4");

        var handled = await harness.WaitForHandledAsync<ITopicEvents>(e => e.HappenedAsync, count: 3);
        Assert.Equal(3, handled.Count);
        Assert.Equal(4, harness.Find<ITopicEvents>(RpcTestEventKind.Sent, e => e.HappenedAsync).Count);
        Assert.Equal(3, harness.Find<ITopicEvents>(RpcTestEventKind.Delivered).Count);
        Assert.Equal(["order.placed.eu", "order.placed.us", "order.paid.eu", "order.sent.eu"],
            harness.Find<ITopicEvents>(RpcTestEventKind.Sent).Select(r => r.RoutingKey));
    }

    [Fact]
    public async Task A_wait_that_is_not_met_names_what_was_expected_and_what_was_recorded()
    {
        await using var harness = await RpcTestHarness.StartAsync();
        await using var server = await harness.Connection.ServeAsync<ICalc>(new Calc());
        var calc = harness.Connection.CreateClient<ICalc>();
        await calc.AddAsync(1, 2);
        await Assert.ThrowsAsync<RpcRemoteException>(() => calc.BreakAsync());

        var failure = await Assert.ThrowsAsync<TimeoutException>(() =>
            harness.WaitForHandledAsync<ICalc>(c => c.AddAsync, count: 2, timeout: TimeSpan.FromMilliseconds(200)));
        Assert.Contains("Expected 2 Handled of ICalc.Add within 0.2 s; saw 1.", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Faulted Break x1 (last: InvalidOperationException: broken on purpose)", failure.Message, StringComparison.Ordinal);

        var nothing = await Assert.ThrowsAsync<TimeoutException>(() =>
            harness.WaitForHandledAsync<IWork>(w => w.DoAsync, timeout: TimeSpan.FromMilliseconds(50)));
        Assert.Contains("Nothing was recorded for IWork", nothing.Message, StringComparison.Ordinal);
    }
}
