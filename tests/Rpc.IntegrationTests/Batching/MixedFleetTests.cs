using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using Xunit;

namespace RpcGen.IntegrationTests.Batching;

/// <summary>
/// Batching is on by default (issue 27), so a queue may be served by RpcGen servers that read batches beside servers
/// that do not: here a plain pika server (plain_server.py, which answers a body it cannot read with an error reply, as
/// a careful plain server does). A client with default options batches only to the batch queue, which only RpcGen
/// servers consume: no call is lost or failed because of a batch, and the plain server never sees one
/// (docs/architecture.md, "Who reads batches").
/// </summary>
public sealed class MixedFleetTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private sealed class Fibonacci : ITutorialFibonacci
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public Task<long> FibAsync(int n)
        {
            Interlocked.Increment(ref _calls);
            long previous = 1, current = 0;
            for (int i = 0; i < n; i++) (previous, current) = (current, previous + current);
            return Task.FromResult(current);
        }
    }

    private static long Fib(int n)
    {
        long previous = 1, current = 0;
        for (int i = 0; i < n; i++) (previous, current) = (current, previous + current);
        return current;
    }

    [Fact]
    public async Task Batches_reach_only_the_RpcGen_server_and_lone_calls_reach_both_when_a_plain_pika_server_shares_the_queue()
    {
        await using var broker = new TestBroker();
        var queue = broker.QueueName("tutorial-fib");
        var serving = await broker.ConnectAsync();
        var fibonacci = new Fibonacci();
        await broker.ServeAsync<ITutorialFibonacci>(serving, fibonacci);
        await using var plain = PythonScript.Start("plain_server.py", "--amqp", TestBroker.Uri.ToString(), "--queue", queue, "--seconds", "60");
        await plain.WaitForLineAsync("serving " + queue, TimeSpan.FromSeconds(20));
        var calling = await broker.ConnectAsync(o => o.Client.DefaultTimeout = TimeSpan.FromSeconds(10));
        Assert.True(calling.Settings.BatchCalls); // the default
        var client = calling.CreateClient<ITutorialFibonacci>();
        Assert.True(await calling.Invoker.CheckBatchReadersAsync(TutorialFibonacciRpcDescriptor.Service));

        // Lone calls, one at a time: the broker deals them out to both servers.
        for (int n = 0; n < 20; n++) Assert.Equal(Fib(n), await client.FibAsync(n));
        // Calls that wait in line: batches.
        for (int wave = 0; wave < 5; wave++)
        {
            Task<long>[] calls;
            using (calling.Invoker.HoldBatches(TutorialFibonacciRpcDescriptor.Service))
            {
                calls = Enumerable.Range(0, 20).Select(n => client.FibAsync(n)).ToArray();
            }

            Assert.Equal(Enumerable.Range(0, 20).Select(Fib), await Task.WhenAll(calls).WaitAsync(Bound));
        }

        // The script prints before it replies; its output reaches this process a moment after the reply may have.
        await Wait.UntilAsync(() => plain.Output.Any(line => line.StartsWith("fib(", StringComparison.Ordinal)), "the plain server answered lone calls");
        Assert.DoesNotContain(plain.Output, line => line.StartsWith("unreadable", StringComparison.Ordinal));
        Assert.True(fibonacci.Calls >= 100, $"the RpcGen server answered {fibonacci.Calls} calls; the batches' 100 are its alone");
        Assert.Equal(0, calling.PendingCallCount);
        Assert.Equal(0, calling.Invoker.BatchesSentAgainAlone);
    }

    [Fact]
    public async Task Calls_in_line_when_the_last_batch_reader_stops_go_out_alone_and_the_plain_server_answers_them()
    {
        await using var broker = new TestBroker();
        var queue = broker.QueueName("tutorial-fib");
        var serving = await broker.ConnectAsync();
        var server = await broker.ServeAsync<ITutorialFibonacci>(serving, new Fibonacci());
        await using var plain = PythonScript.Start("plain_server.py", "--amqp", TestBroker.Uri.ToString(), "--queue", queue, "--seconds", "60");
        await plain.WaitForLineAsync("serving " + queue, TimeSpan.FromSeconds(20));
        var calling = await broker.ConnectAsync(o => o.Client.DefaultTimeout = TimeSpan.FromSeconds(10));
        var client = calling.CreateClient<ITutorialFibonacci>();
        Assert.True(await calling.Invoker.CheckBatchReadersAsync(TutorialFibonacciRpcDescriptor.Service));

        Task<long>[] calls;
        using (calling.Invoker.HoldBatches(TutorialFibonacciRpcDescriptor.Service))
        {
            // The client learnt a moment ago that a server reads batches: these calls line up for a batch.
            calls = Enumerable.Range(0, 20).Select(n => client.FibAsync(n)).ToArray();
            // The only server that reads batches stops (it loses the capability) before the batch goes out.
            await server.DisposeAsync();
        }

        Assert.Equal(Enumerable.Range(0, 20).Select(Fib), await Task.WhenAll(calls).WaitAsync(Bound));
        await Wait.UntilAsync(() => plain.Output.Count(line => line.StartsWith("fib(", StringComparison.Ordinal)) == 20, "the plain server answered the 20 calls");
        Assert.DoesNotContain(plain.Output, line => line.StartsWith("unreadable", StringComparison.Ordinal));
        Assert.Equal(1, calling.Invoker.BatchesSentAgainAlone);
        Assert.False(await calling.Invoker.CheckBatchReadersAsync(TutorialFibonacciRpcDescriptor.Service));

        // From now on the client sends lone calls only, which the plain server answers.
        using (calling.Invoker.HoldBatches(TutorialFibonacciRpcDescriptor.Service))
        {
            calls = Enumerable.Range(0, 10).Select(n => client.FibAsync(n)).ToArray();
        }

        Assert.Equal(Enumerable.Range(0, 10).Select(Fib), await Task.WhenAll(calls).WaitAsync(Bound));
        Assert.Equal(1, calling.Invoker.BatchesSentAgainAlone);
        Assert.Equal(0, calling.PendingCallCount);
    }
}
