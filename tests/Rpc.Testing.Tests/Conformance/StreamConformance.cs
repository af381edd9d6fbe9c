using RpcGen.IntegrationTests.Interop;
using RpcGen.Testing.Tests.Infrastructure;
using Xunit;

namespace RpcGen.Testing.Tests.Conformance;

/// <summary>Streamed results: every item in order, and a server that never runs further ahead than the caller's credit.</summary>
public abstract class StreamConformance : ConformanceTest
{
    [Fact]
    public async Task A_stream_delivers_every_item_in_order_through_many_credit_grants()
    {
        Queue("conformance.calc");
        var connection = await Transport.ConnectAsync(o => o.Client.StreamWindow = 16);
        await using var server = await connection.ServeAsync<ICalc>(new Calc());
        var client = connection.CreateClient<ICalc>();

        var items = new List<int>();
        await foreach (var item in client.CountAsync(500, CancellationToken.None)) items.Add(item);
        Assert.Equal(Enumerable.Range(0, 500), items);
    }

    [Fact]
    public async Task A_stream_server_stops_at_the_callers_credit_while_the_caller_does_not_read()
    {
        Queue("conformance.calc");
        var connection = await Transport.ConnectAsync(o => o.Client.StreamWindow = 8);
        var calc = new Calc();
        await using var server = await connection.ServeAsync<ICalc>(calc);
        var client = connection.CreateClient<ICalc>();

        await using var reader = client.CountAsync(10_000, CancellationToken.None).GetAsyncEnumerator();
        Assert.True(await reader.MoveNextAsync());
        await Wait.UntilAsync(() => calc.Produced >= 8, "the server filled the window");
        // The window is 8: the server may produce the item that waits for credit, never more.
        await Task.Delay(300);
        Assert.InRange(calc.Produced, 8, 9);
    }
}

public sealed class StreamConformanceInMemory : StreamConformance
{
    protected override TransportFixture CreateTransport() => new InMemoryTransport();
}

public sealed class StreamConformanceOnBroker : StreamConformance
{
    protected override TransportFixture CreateTransport() => new BrokerTransport();
}
