using System.Collections.Concurrent;
using System.Diagnostics;
using RpcGen.Client;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.Runtime.Tests.Client;

/// <summary>Correlation ids are 128 random bits each: nothing in one id tells anything about another (review finding 8).</summary>
public sealed class CorrelationIdTests
{
    private readonly ITestOutputHelper _output;

    public CorrelationIdTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Ids_are_32_hex_digits_unique_across_threads_and_share_no_prefix_or_sequence()
    {
        var pending = new PendingCalls();
        var ids = new ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 50_000; i++) ids.Add(pending.NextCorrelationId());
        })));

        Assert.All(ids.Take(1000), id => Assert.Matches("^[0-9a-f]{32}$", id));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        // Consecutive ids of one connection share no prefix: with 128 random bits, a shared first 8 characters
        // (32 bits) among 1000 consecutive ids would be a one-in-four-million event.
        var consecutive = Enumerable.Range(0, 1000).Select(_ => pending.NextCorrelationId()).ToArray();
        Assert.True(consecutive.Select(id => id[..8]).Distinct().Count() >= 999, "consecutive ids share their first 8 hex digits");
        // Every bit position takes both values: no fixed field (prefix, counter, timestamp) hides in the id.
        var ones = new int[128];
        foreach (var id in consecutive)
        {
            var bytes = Convert.FromHexString(id);
            for (int bit = 0; bit < 128; bit++) ones[bit] += (bytes[bit / 8] >> (bit % 8)) & 1;
        }

        Assert.All(ones, count => Assert.InRange(count, 350, 650));
    }

    [Fact]
    public void Making_an_id_costs_tens_of_nanoseconds_reported_not_asserted()
    {
        var pending = new PendingCalls();
        for (int i = 0; i < 100_000; i++) pending.NextCorrelationId();
        const int count = 2_000_000;
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < count; i++) pending.NextCorrelationId();
        watch.Stop();
        _output.WriteLine($"{watch.Elapsed.TotalNanoseconds / count:0.0} ns per correlation id ({count:N0} ids in {watch.ElapsedMilliseconds} ms)");

        // For scale, on the same host in the same run: a Guid string, what many RPC libraries use per call.
        watch.Restart();
        for (int i = 0; i < count; i++) Guid.NewGuid().ToString("N");
        watch.Stop();
        _output.WriteLine($"{watch.Elapsed.TotalNanoseconds / count:0.0} ns per Guid.NewGuid().ToString(\"N\")");
    }
}
