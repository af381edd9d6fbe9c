using System.Text.Json;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Shapes.Cancellation;
using RpcGen.IntegrationTests.Shapes.Overloads;
using Xunit;

namespace RpcGen.IntegrationTests.Shapes;

/// <summary>A CancellationToken anywhere in the list (never sent), and overloads told apart by [RpcMethod] names.</summary>
public sealed class CancellationAndOverloadShapeTests
{
    [Fact]
    public async Task A_cancellation_token_anywhere_is_not_sent_and_the_other_arguments_arrive()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await broker.ServeAsync<ITokenPlaces>(rpc, new TokenPlaces());
        var places = rpc.CreateClient<ITokenPlaces>();

        Assert.Equal(8, await places.FirstAsync(CancellationToken.None, 7));
        Assert.Equal("left|right", await places.MiddleAsync("left", CancellationToken.None, "right"));
        Assert.Equal(12, await places.LastAsync(6));
        await places.OnlyAsync(CancellationToken.None);
        // The server hands the implementation its own token (cancelled when the server stops), not a default one.
        Assert.True(await places.ObservedAsync(0, CancellationToken.None));

        Assert.Equal(new[] { "value" }, SentParameters("First"));
        Assert.Equal(new[] { "left", "right" }, SentParameters("Middle"));
        Assert.Empty(SentParameters("Only"));
    }

    [Fact]
    public async Task The_token_in_any_position_cancels_the_call()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await broker.ServeAsync<ITokenPlaces>(rpc, new TokenPlaces());
        var places = rpc.CreateClient<ITokenPlaces>();
        var cancelled = new CancellationToken(canceled: true);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => places.FirstAsync(cancelled, 1));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => places.MiddleAsync("a", cancelled, "b"));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => places.LastAsync(1, cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => places.OnlyAsync(cancelled));

        using var later = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await places.ObservedAsync(1500, later.Token));
        Assert.Equal(0, rpc.PendingCallCount);
    }

    [Fact]
    public async Task Overloads_with_distinct_wire_names_reach_their_own_implementation()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await broker.ServeAsync<IFormatter>(rpc, new Formatter());
        var formatter = rpc.CreateClient<IFormatter>();

        Assert.Equal("int 5", await formatter.FormatAsync(5));
        Assert.Equal("double 2.5", await formatter.FormatAsync(2.5));
        Assert.Equal("pair 1,2", await formatter.FormatAsync(1, 2));

        await using var raw = await RawAmqp.ConnectAsync();
        var reply = await raw.CallAsync(broker.QueueName("Formatter"), "0.125", type: "format-double");
        Assert.Equal("double 0.125", JsonSerializer.Deserialize<string>(reply.Body));
        Assert.Equal(new[] { "Format", "format-double", "format-pair" }, FormatterRpcDescriptor.Service.Methods.Select(m => m.WireName));
    }

    private static IEnumerable<string> SentParameters(string wireName) =>
        TokenPlacesRpcDescriptor.Service.Methods.Single(m => m.WireName == wireName).Parameters.Select(p => p.Name);

    private sealed class TokenPlaces : ITokenPlaces
    {
        public Task<int> FirstAsync(CancellationToken cancellationToken, int value) => Task.FromResult(value + 1);

        public Task<string> MiddleAsync(string left, CancellationToken token, string right) => Task.FromResult(left + "|" + right);

        public Task<int> LastAsync(int value, CancellationToken cancellationToken = default) => Task.FromResult(value * 2);

        public Task OnlyAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public async ValueTask<bool> ObservedAsync(int milliseconds, CancellationToken cancellationToken)
        {
            await Task.Delay(milliseconds, CancellationToken.None);
            return cancellationToken.CanBeCanceled;
        }
    }

    private sealed class Formatter : IFormatter
    {
        public Task<string> FormatAsync(int value) => Task.FromResult("int " + value);

        public Task<string> FormatAsync(double value) => Task.FromResult("double " + value.ToString(System.Globalization.CultureInfo.InvariantCulture));

        public Task<string> FormatAsync(int left, int right) => Task.FromResult($"pair {left},{right}");
    }
}
