using System.Collections.Concurrent;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Shapes.Inheritance;
using Xunit;

namespace RpcGen.IntegrationTests.Shapes;

/// <summary>Base-interface methods are part of the service; a diamond counts once; shared signatures stay apart.</summary>
public sealed class InheritanceShapeTests
{
    [Fact]
    public async Task Inherited_methods_round_trip_and_a_diamond_base_is_served_once()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await broker.ServeAsync<IKeyValueStore>(rpc, new KeyValueStore());
        var store = rpc.CreateClient<IKeyValueStore>();

        Assert.Equal("pong", await store.PingAsync());                      // from IPingable, reached twice
        await store.SetAsync("a", "1");                                       // from IWriter
        await store.SetAsync("b", null);
        Assert.Equal("1", await store.GetAsync("a"));                         // from IReader
        Assert.Null(await store.GetAsync("b"));
        Assert.Equal(2, await store.CountAsync());                            // its own

        Assert.Equal(new[] { "Count", "Get", "Ping", "Set" }, KeyValueStoreRpcDescriptor.Service.Methods.Select(m => m.WireName).Order());
    }

    [Fact]
    public async Task A_service_derived_from_another_service_serves_the_bases_methods_on_its_own_queue()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        var server = await broker.ServeAsync<IAuditedStore>(rpc, new KeyValueStore());
        var store = rpc.CreateClient<IAuditedStore>();

        await store.SetAsync("k", "v");
        Assert.Equal("v", await store.GetAsync("k"));
        Assert.Equal(new[] { "set k", "get k" }, await store.HistoryAsync());
        Assert.Equal(broker.QueueName("AuditedStore"), server.Queue);
    }

    [Fact]
    public async Task Generic_base_shared_signatures_and_a_hidden_method_each_reach_their_own_implementation()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await broker.ServeAsync<IItemCatalog>(rpc, new ItemCatalog());
        var catalog = rpc.CreateClient<IItemCatalog>();

        await catalog.AddAsync(new Item(1, "pen"));                                   // IRepository<Item>
        Assert.Equal(new Item(1, "pen"), await catalog.FindAsync(1));
        Assert.Null(await catalog.FindAsync(2));
        Assert.Equal(3, await ((ILegacyVersion)catalog).VersionAsync());             // same C# signature...
        Assert.Equal("v3.1", await ((IModernVersion)catalog).VersionAsync());        // ...different wire names
        Assert.Equal(1L << 40, await catalog.SizeAsync());                          // the 'new' method
        Assert.Equal(1, await ((ISized)catalog).SizeAsync());                        // the hidden base method
    }

    private sealed class KeyValueStore : IAuditedStore
    {
        private readonly ConcurrentDictionary<string, string?> _values = new();
        private readonly ConcurrentQueue<string> _history = new();

        public Task<string> PingAsync() => Task.FromResult("pong");

        public Task<string?> GetAsync(string key)
        {
            _history.Enqueue("get " + key);
            return Task.FromResult(_values.GetValueOrDefault(key));
        }

        public Task SetAsync(string key, string? value)
        {
            _history.Enqueue("set " + key);
            _values[key] = value;
            return Task.CompletedTask;
        }

        public ValueTask<int> CountAsync() => new(_values.Count);

        public Task<string[]> HistoryAsync() => Task.FromResult(_history.ToArray());
    }

    private sealed class ItemCatalog : IItemCatalog
    {
        private readonly ConcurrentDictionary<int, Item> _items = new();

        public Task<Item?> FindAsync(int id) => Task.FromResult(_items.GetValueOrDefault(id));

        public Task AddAsync(Item item)
        {
            _items[item.Id] = item;
            return Task.CompletedTask;
        }

        public Task<int> VersionAsync() => Task.FromResult(3);

        Task<string> IModernVersion.VersionAsync() => Task.FromResult("v3.1");

        public Task<long> SizeAsync() => Task.FromResult(1L << 40);

        Task<int> ISized.SizeAsync() => Task.FromResult(_items.Count);
    }
}
