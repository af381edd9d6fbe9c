using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Shapes.Returns;
using RpcGen.IntegrationTests.Shapes.Types;
using Xunit;

namespace RpcGen.IntegrationTests.Shapes;

/// <summary>Task, Task&lt;T&gt;, ValueTask and ValueTask&lt;T&gt; with every kind of T, nullable ones with and without a value.</summary>
public sealed class ReturnShapeTests
{
    private static readonly Customer s_grace = new(Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"), "Grace", "g@example.org", DateTimeOffset.UnixEpoch);
    private static readonly Money s_price = new(-3.5m, "CHF");
    private static readonly Guid s_id = Guid.Parse("7c9e6679-7425-40de-944b-e07fc1f90ae7");
    private static readonly DateTimeOffset s_time = new(1999, 12, 31, 23, 59, 59, TimeSpan.FromHours(14));

    [Fact]
    public async Task Every_return_shape_round_trips()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        var implementation = new ReturnShapes();
        await broker.ServeAsync<IReturnShapes>(rpc, implementation);
        var returns = rpc.CreateClient<IReturnShapes>();

        await returns.DoAsync();
        await returns.DoValueAsync();
        Assert.Equal(2, implementation.Done);
        Assert.Equal(int.MinValue, await returns.IntAsync());
        Assert.Equal(int.MaxValue, await returns.IntValueAsync());
        Assert.Equal(5, await returns.MaybeIntAsync(true));
        Assert.Null(await returns.MaybeIntAsync(false));
        Assert.Equal("text", await returns.MaybeTextAsync(true));
        Assert.Null(await returns.MaybeTextAsync(false));
        Assert.Equal(s_grace, await returns.MaybeCustomerAsync(true));
        Assert.Null(await returns.MaybeCustomerAsync(false));
        Assert.Equal(s_price, await returns.MoneyAsync());
        Assert.Equal(s_price, await returns.MaybeMoneyAsync(true));
        Assert.Null(await returns.MaybeMoneyAsync(false));
        Assert.Equal(Priority.Low, await returns.PriorityAsync());
        Assert.Equal(Priority.Normal, await returns.MaybePriorityAsync(true));
        Assert.Null(await returns.MaybePriorityAsync(false));
        Assert.Equal(s_id, await returns.GuidAsync());
        Assert.Equal(s_time, await returns.TimeAsync());
        Assert.Equal(s_time.Offset, (await returns.TimeAsync()).Offset);
        Assert.Equal(0.1m + 0.2m, await returns.DecimalAsync());
        Assert.Equal(new[] { 3, 1, 2 }, await returns.ArrayAsync());
        Assert.Equal(new[] { s_grace, s_grace with { Email = null } }, await returns.ListAsync());
        Assert.Equal(new Dictionary<string, Money> { ["a"] = s_price }, await returns.DictionaryAsync());
        Assert.Equal(new Dictionary<string, int?> { ["x"] = null, ["y"] = 1 }, await returns.MaybeDictionaryAsync(true));
        Assert.Null(await returns.MaybeDictionaryAsync(false));
    }

    private sealed class ReturnShapes : IReturnShapes
    {
        private int _done;

        public int Done => Volatile.Read(ref _done);

        public Task DoAsync()
        {
            Interlocked.Increment(ref _done);
            return Task.CompletedTask;
        }

        public async ValueTask DoValueAsync()
        {
            await Task.Yield();
            Interlocked.Increment(ref _done);
        }

        public Task<int> IntAsync() => Task.FromResult(int.MinValue);

        public ValueTask<int> IntValueAsync() => new(int.MaxValue);

        public Task<int?> MaybeIntAsync(bool some) => Task.FromResult(some ? 5 : (int?)null);

        public ValueTask<string?> MaybeTextAsync(bool some) => new(some ? "text" : null);

        public Task<Customer?> MaybeCustomerAsync(bool some) => Task.FromResult(some ? s_grace : null);

        public Task<Money> MoneyAsync() => Task.FromResult(s_price);

        public ValueTask<Money?> MaybeMoneyAsync(bool some) => new(some ? s_price : null);

        public Task<Priority> PriorityAsync() => Task.FromResult(Priority.Low);

        public Task<Priority?> MaybePriorityAsync(bool some) => Task.FromResult(some ? Priority.Normal : (Priority?)null);

        public Task<Guid> GuidAsync() => Task.FromResult(s_id);

        public Task<DateTimeOffset> TimeAsync() => Task.FromResult(s_time);

        public Task<decimal> DecimalAsync() => Task.FromResult(0.1m + 0.2m);

        public Task<int[]> ArrayAsync() => Task.FromResult(new[] { 3, 1, 2 });

        public Task<List<Customer>> ListAsync() => Task.FromResult(new List<Customer> { s_grace, s_grace with { Email = null } });

        public Task<Dictionary<string, Money>> DictionaryAsync() => Task.FromResult(new Dictionary<string, Money> { ["a"] = s_price });

        public Task<Dictionary<string, int?>?> MaybeDictionaryAsync(bool some) =>
            Task.FromResult(some ? new Dictionary<string, int?> { ["x"] = null, ["y"] = 1 } : null);
    }
}
