using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RpcGen.Diagnostics;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Reliability;

/// <summary>
/// The broker closes one channel and leaves the connection open (Transport/ManagedChannel.cs): the calls the channel
/// carried fail at once naming the broker's reason, the channel is rebuilt, and the connection stays usable.
/// Runs on the private fault node, whose settings the tests change and put back.
/// </summary>
[Collection(FaultBrokerCollection.Name)]
public sealed class ChannelFaultTests
{
    private readonly FaultBroker _broker;
    private readonly ITestOutputHelper _output;

    public ChannelFaultTests(FaultBroker broker, ITestOutputHelper output)
    {
        _broker = broker;
        _output = output;
    }

    private RpcConnectionOptions Options(string prefix, Action<RpcConnectionOptions>? configure = null)
    {
        var options = new RpcConnectionOptions { Uri = _broker.Uri, QueuePrefix = prefix + "-" + Guid.NewGuid().ToString("N")[..8] + "." };
        configure?.Invoke(options);
        return options;
    }

    [Fact]
    public async Task A_request_over_the_brokers_max_message_size_fails_at_once_naming_the_reason_and_later_calls_succeed()
    {
        await _broker.StartAsync();
        // 1 MiB on the broker; the client's own limit set above it, so the request reaches the broker and closes the channel.
        await using var setting = await BrokerSetting.SetAsync(_broker, "max_message_size", "1048576");
        var logs = new LogCapture();
        var prefix = "maxsize";
        await using var serving = await RpcConnection.ConnectAsync(Options(prefix));
        var options = Options(prefix, o =>
        {
            o.QueuePrefix = serving.Settings.QueuePrefix;
            o.MaxMessageSize = 8 * 1024 * 1024;
            o.LoggerFactory = logs;
            o.Client.DefaultTimeout = TimeSpan.FromSeconds(8);
        });
        await using var calling = await RpcConnection.ConnectAsync(options);
        var service = new FaultService();
        await using var server = await serving.ServeAsync<IFaultService>(service);
        var client = calling.CreateClient<IFaultService>();
        Assert.Equal(1, await client.EchoAsync(1, null));

        // A call in flight on the same channel when the broker closes it.
        var inFlight = client.WaitForCancellationAsync();
        await Wait.UntilAsync(() => server.InFlight == 1, "the in-flight call reached the server");

        var watch = Stopwatch.StartNew();
        var tooLarge = await Assert.ThrowsAsync<RpcChannelClosedException>(() => client.EchoAsync(2, new string('x', 2 * 1024 * 1024)));
        var failedAfter = watch.Elapsed;
        _output.WriteLine($"2 MiB call failed after {failedAfter.TotalMilliseconds:0} ms: {tooLarge.Message}");
        Assert.Equal((ushort)406, tooLarge.ReplyCode);
        Assert.Contains("larger than configured max size", tooLarge.ReplyText);
        Assert.Contains("FaultService.Echo", tooLarge.Message);
        Assert.True(failedAfter < TimeSpan.FromSeconds(4), $"failed only after {failedAfter}"); // the call's timeout is 8 s

        var carried = await Assert.ThrowsAsync<RpcChannelClosedException>(() => inFlight.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("larger than configured max size", carried.Message);

        // The connection stays usable: the next call succeeds on the rebuilt channel.
        int? answer = null;
        var sinceFailure = Stopwatch.StartNew();
        while (answer is null && sinceFailure.Elapsed < TimeSpan.FromSeconds(10))
        {
            try
            {
                answer = await client.EchoAsync(3, null);
            }
            catch (RpcConnectionException)
            {
                await Task.Delay(20);
            }
        }

        var recoveredAfter = sinceFailure.Elapsed;
        _output.WriteLine($"first call after the close succeeded {recoveredAfter.TotalMilliseconds:0} ms later; channel rebuilt {calling.Invoker.CallChannel.Rebuilds} time(s)");
        Assert.Equal(3, answer);
        Assert.True(recoveredAfter < TimeSpan.FromSeconds(4), $"later calls succeeded only after {recoveredAfter}"); // issue bound 2 s, x2
        var burst = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => client.EchoAsync(i, null)));
        Assert.Equal(Enumerable.Range(0, 200), burst);
        Assert.Equal(1, calling.Invoker.CallChannel.Rebuilds);
        Assert.Equal(0, calling.PendingCallCount);
        Assert.True(logs.Has(RpcLogEvents.ChannelClosed), "ChannelClosed logged");
        Assert.True(logs.Has(RpcLogEvents.ChannelRebuilt), "ChannelRebuilt logged");
    }

    [Fact]
    public async Task A_batch_over_the_brokers_max_message_size_fails_each_of_its_calls_at_once_and_later_calls_succeed()
    {
        await _broker.StartAsync();
        await using var setting = await BrokerSetting.SetAsync(_broker, "max_message_size", "1048576");
        var prefix = "batchsize";
        await using var serving = await RpcConnection.ConnectAsync(Options(prefix));
        // Eight calls of 200 KB each fit the client's limits but make a 1.6 MB batch, over the broker's 1 MiB.
        await using var calling = await RpcConnection.ConnectAsync(Options(prefix, o =>
        {
            o.QueuePrefix = serving.Settings.QueuePrefix;
            o.MaxMessageSize = 8 * 1024 * 1024;
            o.Client.BatchCalls = true;
            o.Client.MaxBatchSize = 8;
            o.Client.MaxBatchedBodySize = 1024 * 1024;
            o.Client.DefaultTimeout = TimeSpan.FromSeconds(8);
        }));
        await using var server = await serving.ServeAsync<IFaultService>(new FaultService());
        var client = calling.CreateClient<IFaultService>();
        Assert.Equal(1, await client.EchoAsync(1, null));
        Assert.True(await calling.Invoker.CheckBatchReadersAsync(FaultServiceRpcDescriptor.Service));

        var watch = Stopwatch.StartNew();
        Task<int>[] calls;
        using var metrics = new RpcMetrics(calling.Settings.QueueFor(FaultServiceRpcDescriptor.Service));
        using (calling.Invoker.HoldBatches(FaultServiceRpcDescriptor.Service))
        {
            calls = Enumerable.Range(0, 8).Select(i => client.EchoAsync(i, new string('x', 200_000))).ToArray();
        }

        foreach (var call in calls)
        {
            var closed = await Assert.ThrowsAsync<RpcChannelClosedException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Contains("larger than configured max size", closed.ReplyText);
        }

        _output.WriteLine($"the batch's calls failed after {watch.ElapsedMilliseconds} ms; batches sent: {metrics.BatchesSent}");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"failed only after {watch.Elapsed}"); // the calls' timeout is 8 s
        Assert.Equal((1L, 8L), metrics.BatchesSent);

        // The rebuilt channel carries the next calls, batched or alone.
        int? answer = null;
        var sinceFailure = Stopwatch.StartNew();
        while (answer is null && sinceFailure.Elapsed < TimeSpan.FromSeconds(10))
        {
            try
            {
                answer = await client.EchoAsync(3, null);
            }
            catch (RpcConnectionException)
            {
                await Task.Delay(20);
            }
        }

        Assert.Equal(3, answer);
        var burst = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => client.EchoAsync(i, null)));
        Assert.Equal(Enumerable.Range(0, 200), burst);
        Assert.Equal(1, calling.Invoker.CallChannel.Rebuilds);
        Assert.Equal(0, calling.PendingCallCount);
    }

    [Fact]
    public async Task A_server_whose_channel_the_broker_closes_rebuilds_it_and_keeps_consuming()
    {
        await _broker.StartAsync();
        // The server's reply is over the broker's limit (the server's own limit set above it), and under the 1 MiB a
        // server takes any broker to accept, so it goes out on the request's channel: the broker closes the server's
        // channel; the request goes back to the queue and is answered again on the rebuilt channel. The
        // rebuilt channel's consumer can deliver it before the holder swaps that channel in: its reply must go out on
        // the channel that delivered it, not the closed one (about half the runs here hit that, and lost the reply).
        // (A reply over 1 MiB goes out confirmed on a channel of its own instead: FailedWorkBrokerTests.)
        await using var setting = await BrokerSetting.SetAsync(_broker, "max_message_size", "524288");
        var prefix = "serverclose";
        await using var serving = await RpcConnection.ConnectAsync(Options(prefix, o => o.MaxMessageSize = 8 * 1024 * 1024));
        await using var calling = await RpcConnection.ConnectAsync(Options(prefix, o => o.QueuePrefix = serving.Settings.QueuePrefix));
        var service = new FaultService();
        await using var server = await serving.ServeAsync<IFaultService>(service);
        var client = calling.CreateClient<IFaultService>();

        var watch = Stopwatch.StartNew();
        // First delivery: a 768 KiB reply, refused by the broker. Redelivery: "small".
        Assert.Equal("small", await client.MakeAsync(768 * 1024, always: false));
        _output.WriteLine($"answered after the server channel was rebuilt, {watch.ElapsedMilliseconds} ms; rebuilds: {server.Channel.Rebuilds}");
        // The answer can come before the holder has counted the rebuild (it counts once the set-up returned).
        await Wait.UntilAsync(() => server.Channel.Rebuilds >= 1, "the server channel was rebuilt");
        Assert.Equal(1, server.Channel.Rebuilds);
        var burst = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => client.EchoAsync(i, null)));
        Assert.Equal(Enumerable.Range(0, 200), burst);
        await Wait.UntilAsync(() => server.InFlight == 0, "nothing in flight");
    }

    [Fact]
    public async Task A_handler_past_the_brokers_consumer_timeout_gets_its_channel_rebuilt_with_a_clear_warning()
    {
        await _broker.StartAsync();
        // consumer_timeout 1 s, checked every second instead of every minute; read by channels when they open.
        await using var tick = await BrokerSetting.SetAsync(_broker, "channel_tick_interval", "1000");
        await using var timeout = await BrokerSetting.SetAsync(_broker, "consumer_timeout", "1000");
        var logs = new LogCapture();
        var prefix = "consumertimeout";
        await using var serving = await RpcConnection.ConnectAsync(Options(prefix, o => o.LoggerFactory = logs));
        await using var calling = await RpcConnection.ConnectAsync(Options(prefix, o =>
        {
            o.QueuePrefix = serving.Settings.QueuePrefix;
            o.Client.DefaultTimeout = TimeSpan.FromSeconds(30);
        }));
        var service = new FaultService();
        await using var server = await serving.ServeAsync<IFaultService>(service);
        var client = calling.CreateClient<IFaultService>();

        // The first delivery is held 20 s, past the 1 s consumer_timeout: the broker closes the server's channel, the
        // held handler's token fires, and the request, back in the queue, is answered on the rebuilt channel.
        var watch = Stopwatch.StartNew();
        var held = await client.HoldFirstAsync(20_000);
        _output.WriteLine($"answered after {watch.ElapsedMilliseconds} ms (redelivered answer: {held}); rebuilds: {server.Channel.Rebuilds}");
        await Wait.UntilAsync(() => server.Channel.Rebuilds >= 1, "the server channel was rebuilt");
        var warning = Assert.Single(logs.Entries, e => e.EventId == RpcLogEvents.ConsumerTimeoutExceeded);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("consumer_timeout", warning.Message);
        _output.WriteLine(warning.Message);
        Assert.True(held, "answered by the redelivery");
        Assert.Equal(1, service.HoldsCancelled);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"answered only after {watch.Elapsed}");
        Assert.Equal(7, await client.EchoAsync(7, null));
    }
}
