using System.Diagnostics;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.IntegrationTests.Shapes.Streaming;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Streaming;

/// <summary>
/// Streamed results against the real broker: order and completion, flow control, and every way a stream ends early
/// (docs/wire-format.md, "Streaming results"). Each test checks that no pending call (client) and no running call
/// (server) is left behind.
/// </summary>
[Collection(StreamingCollection.Name)]
public sealed class StreamingTests
{
    private readonly ITestOutputHelper _output;

    public StreamingTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task A_hundred_thousand_items_arrive_in_order_and_the_stream_completes()
    {
        await using var broker = new TestBroker();
        var (counter, server, connection, client) = await ServedCounter.StartAsync(broker);

        var watch = Stopwatch.StartNew();
        int expected = 0;
        using (RpcCallOptions.WithTimeout(TimeSpan.FromMinutes(2)))
        {
            await foreach (var item in client.CountAsync(100_000))
            {
                Assert.Equal(expected, item);
                expected++;
            }
        }

        _output.WriteLine($"100000 items in {watch.ElapsedMilliseconds} ms");
        Assert.Equal(100_000, expected);
        await AssertNothingLeftAsync(connection, server, counter);
        Assert.Equal(1, counter.Finished);
    }

    [Fact]
    public async Task An_empty_stream_completes_and_a_second_enumeration_of_one_result_is_refused()
    {
        await using var broker = new TestBroker();
        var (counter, server, connection, client) = await ServedCounter.StartAsync(broker);

        var stream = client.CountAsync(0);
        Assert.Empty(await ToListAsync(stream));
        var again = Assert.Throws<InvalidOperationException>(() => stream.GetAsyncEnumerator());
        Assert.Contains("Counter.Count", again.Message);
        // Nothing is sent before the result is enumerated.
        _ = client.CountAsync(5);
        await Task.Delay(200);
        Assert.Equal(1, Volatile.Read(ref counter.Started));
        await AssertNothingLeftAsync(connection, server, counter);
    }

    [Fact]
    public async Task Breaking_out_after_a_hundred_items_stops_the_server_enumeration()
    {
        await using var broker = new TestBroker();
        var (counter, server, connection, client) = await ServedCounter.StartAsync(broker);

        var latencies = new List<double>();
        for (int round = 0; round < 3; round++)
        {
            int taken = 0;
            long brokeAt = 0;
            // One item a millisecond: the server is mid-stream, not done, when the caller breaks out.
            await foreach (var item in client.TickAsync(1_000_000, 1, fail: false))
            {
                if (++taken == 100)
                {
                    brokeAt = Stopwatch.GetTimestamp();
                    break;
                }
            }

            await Wait.UntilAsync(() => Volatile.Read(ref counter.Finished) == round + 1, "the server's finally ran", seconds: 10);
            var finallyAt = counter.Finallies.Last().At;
            latencies.Add(Stopwatch.GetElapsedTime(brokeAt, finallyAt).TotalMilliseconds);
        }

        _output.WriteLine("break to the server's finally (ms): " + string.Join(", ", latencies.Select(l => l.ToString("0"))));
        // The bound is 250 ms; twice that for a loaded CI machine.
        Assert.All(latencies, l => Assert.True(l < 500, $"the server's finally ran {l:0} ms after the break"));
        Assert.All(counter.Finallies, f => Assert.True(f.Cancelled, "the enumeration's token fired"));
        await AssertNothingLeftAsync(connection, server, counter);
    }

    [Fact]
    public async Task Cancelling_the_token_mid_stream_throws_and_stops_the_server_enumeration()
    {
        await using var broker = new TestBroker();
        var (counter, server, connection, client) = await ServedCounter.StartAsync(broker);

        using var cancel = new CancellationTokenSource();
        int taken = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var item in client.TickAsync(1_000_000, 1, fail: false).WithCancellation(cancel.Token))
            {
                if (++taken == 50) cancel.Cancel();
            }
        });
        Assert.Equal(50, taken);
        await Wait.UntilAsync(() => Volatile.Read(ref counter.Finished) == 1, "the server's finally ran", seconds: 10);
        Assert.True(Assert.Single(counter.Finallies).Cancelled);
        await AssertNothingLeftAsync(connection, server, counter);
    }

    [Fact]
    public async Task A_server_throwing_mid_stream_gives_the_items_so_far_then_the_remote_exception_or_the_declared_fault()
    {
        await using var broker = new TestBroker();
        var (counter, server, connection, client) = await ServedCounter.StartAsync(broker);

        var items = new List<int>();
        var remote = await Assert.ThrowsAsync<RpcRemoteException>(async () =>
        {
            await foreach (var item in client.TickAsync(300, 0, fail: true)) items.Add(item);
        });
        Assert.Equal(Enumerable.Range(0, 300), items);
        Assert.Equal("System.InvalidOperationException", remote.RemoteType);
        Assert.Equal("The count failed after 300 items.", remote.RemoteMessage);

        items.Clear();
        var fault = await Assert.ThrowsAsync<CountBrokeException>(async () =>
        {
            await foreach (var item in client.BreakAtAsync(7)) items.Add(item);
        });
        Assert.Equal(Enumerable.Range(0, 7), items);
        Assert.Equal(7, fault.At);

        // Failing before the first item: the error marker comes at sequence 0.
        var bad = await Assert.ThrowsAsync<RpcRemoteException>(async () =>
        {
            using (RpcCallOptions.WithTimeout(TimeSpan.FromSeconds(5)))
            {
                await foreach (var item in connection.CreateClient<ICounter>().ChunksAsync(1, -1)) items.Add(item.Index);
            }
        });
        Assert.Equal("System.OverflowException", bad.RemoteType);
        await AssertNothingLeftAsync(connection, server, counter);
    }

    internal static async Task AssertNothingLeftAsync(RpcConnection client, RpcServer server, Counter counter)
    {
        await Wait.UntilAsync(() => client.PendingCallCount == 0, "no call pending on the client", seconds: 10);
        await Wait.UntilAsync(() => server.InFlight == 0, "no call running on the server", seconds: 10);
        await Wait.UntilAsync(() => Volatile.Read(ref counter.Finished) == Volatile.Read(ref counter.Started), "every enumeration's finally ran", seconds: 10);
    }

    internal static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items) list.Add(item);
        return list;
    }
}

/// <summary>The streaming tests assert flow-control and idle-timeout timings: they run alone, never beside load, restart or cluster tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StreamingCollection
{
    public const string Name = "Streaming";
}
