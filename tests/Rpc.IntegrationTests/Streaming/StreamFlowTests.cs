using System.Diagnostics;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.IntegrationTests.Shapes.Streaming;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Streaming;

/// <summary>
/// Flow control and the ways a stream ends without its end marker: a slow caller, a caller or a server that goes
/// silent, an item that takes too long, the call's deadline. Each ends with the documented exception, and leaves no
/// pending call, no running call and no unfinished enumeration behind.
/// </summary>
[Collection(StreamingCollection.Name)]
public sealed class StreamFlowTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(1);

    private readonly ITestOutputHelper _output;

    public StreamFlowTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(0)]   // the default window
    [InlineData(32)]
    public async Task A_caller_taking_one_item_a_millisecond_never_has_more_than_the_window_outstanding(int window)
    {
        await using var broker = new TestBroker();
        long taken = 0;
        var (counter, server, connection, client) = await ServedCounter.StartAsync(broker, new Counter { CallerTook = () => Interlocked.Read(ref taken) }, o =>
        {
            if (window > 0) o.Client.StreamWindow = window;
        });
        int expectedWindow = window > 0 ? window : new RpcConnectionOptions().Client.StreamWindow;

        int items = 4 * expectedWindow;
        await foreach (var item in client.CountAsync(items))
        {
            // Taken the moment the stream hands it over; then the caller's slow work on it.
            Interlocked.Increment(ref taken);
            await Task.Delay(1);
        }

        _output.WriteLine($"window {expectedWindow}: the server ran at most {counter.MaxAhead} items ahead of its caller over {items} items");
        Assert.Equal(items, Interlocked.Read(ref taken));
        Assert.True(counter.MaxAhead <= expectedWindow, $"the server ran {counter.MaxAhead} items ahead with a window of {expectedWindow}");
        // A fast producer does use the window: the bound above is flow control at work, not a slow server.
        Assert.True(counter.MaxAhead > expectedWindow / 2, $"the server ran only {counter.MaxAhead} items ahead");
        await StreamingTests.AssertNothingLeftAsync(connection, server, counter);
    }

    [Fact]
    public async Task A_caller_that_goes_away_mid_stream_stops_the_server_within_the_idle_timeout()
    {
        await using var broker = new TestBroker();
        var counter = new Counter();
        var server = await broker.ServeAsync<ICounter>(await broker.ConnectAsync(o => o.Server.StreamIdleTimeout = Idle), counter);
        var caller = await RpcConnection.ConnectAsync(broker.Options(o => o.Client.StreamIdleTimeout = Idle));
        var stream = caller.CreateClient<ICounter>().CountAsync(10_000_000).GetAsyncEnumerator();
        for (int i = 0; i < 10; i++) Assert.True(await stream.MoveNextAsync());

        // Gone without a cancel: the connection closes, and with it every credit the server could hear.
        await caller.DisposeAsync();
        var gone = Stopwatch.StartNew();
        await counter.FirstFinally.WaitAsync(TimeSpan.FromSeconds(20));
        _output.WriteLine($"the server stopped {gone.ElapsedMilliseconds} ms after its caller went away (idle timeout {Idle.TotalMilliseconds} ms)");
        Assert.True(gone.Elapsed < 2 * Idle + TimeSpan.FromSeconds(1), $"the server stopped only after {gone.Elapsed}");
        // The items that had arrived are still handed over, then the connection's end.
        var ended = await Record.ExceptionAsync(async () =>
        {
            while (await stream.MoveNextAsync())
            {
            }
        });
        Assert.IsType<RpcConnectionException>(ended);
        await stream.DisposeAsync();
        await Wait.UntilAsync(() => server.InFlight == 0, "no call running on the server");
        Assert.Equal(0, caller.PendingCallCount);
    }

    [Fact]
    public async Task A_server_that_goes_silent_mid_stream_fails_the_stream_within_the_idle_timeout()
    {
        await using var broker = new TestBroker();
        await using var proxy = new TcpProxy(TestBroker.Uri);
        var counter = new Counter();
        var serving = await RpcConnection.ConnectAsync(broker.Options(o =>
        {
            o.Uri = proxy.Through(TestBroker.Uri);
            o.Server.StreamIdleTimeout = Idle;
        }));
        var server = await serving.ServeAsync<ICounter>(counter);
        broker.Track(server.Queue);
        var connection = await broker.ConnectAsync(o => o.Client.StreamIdleTimeout = Idle);
        var client = connection.CreateClient<ICounter>();

        int taken = 0;
        Stopwatch? silent = null;
        var failure = await Assert.ThrowsAsync<RpcTimeoutException>(async () =>
        {
            await foreach (var item in client.TickAsync(1_000_000, 1, fail: false))
            {
                if (++taken == 20)
                {
                    // The network path to the server dies: no FIN, no RST, nothing more arrives.
                    proxy.Pause();
                    silent = Stopwatch.StartNew();
                }
            }
        });
        _output.WriteLine($"{taken} items, then {failure.GetType().Name} {silent!.ElapsedMilliseconds} ms after the server went silent: {failure.Message}");
        // RpcGen's timeout exception (DeadlineExceeded, as for a call's timeout), naming the option that fired.
        Assert.Contains("StreamIdleTimeout", failure.Message);
        Assert.Contains("(stream idle timeout", failure.Message);
        Assert.True(silent.Elapsed < 2 * Idle + TimeSpan.FromSeconds(1), $"the stream failed only after {silent.Elapsed}");
        Assert.Equal(0, connection.PendingCallCount);

        // Once its network is back the server stops as well: the caller's cancel or its idle timeout.
        proxy.Resume();
        await Wait.UntilAsync(() => server.InFlight == 0, "no call running on the server", seconds: 20);
        await Wait.UntilAsync(() => Volatile.Read(ref counter.Finished) == 1, "the enumeration's finally ran");
        await serving.DisposeAsync();
    }

    [Fact]
    public async Task An_item_slower_than_the_idle_timeout_fails_the_stream_and_cancels_the_server()
    {
        await using var broker = new TestBroker();
        var (counter, server, connection, client) = await ServedCounter.StartAsync(broker, configureCaller: o => o.Client.StreamIdleTimeout = Idle);

        int taken = 0;
        Stopwatch? gap = null;
        var failure = await Assert.ThrowsAsync<RpcTimeoutException>(async () =>
        {
            await foreach (var item in client.PauseAsync(3, 10_000))
            {
                if (++taken == 3) gap = Stopwatch.StartNew();
            }
        });
        _output.WriteLine($"idle timeout {gap!.ElapsedMilliseconds} ms after item 3: {failure.Message}");
        Assert.Equal(3, taken);
        Assert.Contains("no item for", failure.Message);
        Assert.Contains("(stream idle timeout", failure.Message);
        Assert.Contains("Counter.Pause", failure.Message);
        Assert.InRange(gap.Elapsed, Idle - TimeSpan.FromMilliseconds(50), Idle + TimeSpan.FromSeconds(2));
        await Wait.UntilAsync(() => Volatile.Read(ref counter.Finished) == 1, "the server's enumeration stopped");
        Assert.True(Assert.Single(counter.Finallies).Cancelled);
        await StreamingTests.AssertNothingLeftAsync(connection, server, counter);
    }
}
