using System.Diagnostics;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.IntegrationTests.Semantics;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Streaming;

/// <summary>
/// What bounds a streamed result (Client/StreamingCall.cs): the call's timeout bounds the wait for the first item only,
/// <c>StreamIdleTimeout</c> each gap after it (StreamFlowTests), <c>RpcCallOptions.StreamDeadline</c> the whole stream;
/// and the <c>RpcCallOptions</c> scope is read when the stream's method is called, not when it is enumerated.
/// </summary>
[Collection(SemanticsCollection.Name)]
public sealed class StreamBoundsTests
{
    private readonly ITestOutputHelper _output;

    public StreamBoundsTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task A_stream_that_flows_longer_than_the_call_timeout_is_not_cut()
    {
        await using var broker = new TestBroker();
        var (counter, server, connection, client) = await ServedCounter.StartAsync(broker);

        var watch = Stopwatch.StartNew();
        var items = new List<int>();
        using (RpcCallOptions.WithTimeout(TimeSpan.FromMilliseconds(500)))
        {
            // 30 items, 50 ms apart: the first comes well within the timeout, the last three times past it.
            await foreach (var item in client.TickAsync(30, 50, fail: false)) items.Add(item);
        }

        _output.WriteLine($"{items.Count} items in {watch.ElapsedMilliseconds} ms with a 500 ms call timeout");
        Assert.Equal(Enumerable.Range(0, 30), items);
        Assert.True(watch.Elapsed > TimeSpan.FromMilliseconds(1000), $"the stream took only {watch.Elapsed}: it proves nothing");
        await StreamingTests.AssertNothingLeftAsync(connection, server, counter);
    }

    [Fact]
    public async Task The_stream_deadline_ends_a_flowing_stream_and_says_so()
    {
        await using var broker = new TestBroker();
        var (counter, server, connection, client) = await ServedCounter.StartAsync(broker);

        int taken = 0;
        var watch = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<RpcTimeoutException>(async () =>
        {
            using (RpcCallOptions.WithStreamDeadline(TimeSpan.FromMilliseconds(800)))
            {
                await foreach (var item in client.TickAsync(1_000_000, 1, fail: false)) taken++;
            }
        });
        _output.WriteLine($"{taken} items, then after {watch.ElapsedMilliseconds} ms: {failure.Message}");
        Assert.True(taken > 0);
        Assert.Contains("Counter.Tick", failure.Message);
        Assert.Contains("stream deadline of 0.8 s passed", failure.Message);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(750), TimeSpan.FromSeconds(5));
        await Wait.UntilAsync(() => Volatile.Read(ref counter.Finished) == 1, "the server's enumeration stopped");
        await StreamingTests.AssertNothingLeftAsync(connection, server, counter);
    }

    [Fact]
    public async Task A_stream_keeps_the_timeout_of_the_scope_it_was_created_in()
    {
        await using var broker = new TestBroker();
        var (counter, server, connection, client) = await ServedCounter.StartAsync(broker);

        IAsyncEnumerable<int> stream;
        using (RpcCallOptions.WithTimeout(TimeSpan.FromMilliseconds(300)))
        {
            // The first item takes 3 s: longer than the scope's timeout, well within the connection's default.
            stream = client.TickAsync(1, 3_000, fail: false);
        }

        var watch = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<RpcTimeoutException>(async () =>
        {
            await foreach (var item in stream)
            {
            }
        });
        _output.WriteLine($"after {watch.ElapsedMilliseconds} ms: {failure.Message}");
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(2500));
        await Wait.UntilAsync(() => Volatile.Read(ref counter.Finished) == 1, "the server's enumeration stopped");
        await StreamingTests.AssertNothingLeftAsync(connection, server, counter);
    }
}
