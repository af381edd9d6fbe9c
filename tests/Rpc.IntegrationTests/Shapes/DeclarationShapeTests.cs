using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Shapes.FileScoped;
using RpcGen.IntegrationTests.Shapes.Nesting;
using RpcGen.IntegrationTests.Shapes.Outer.Inner;
using Xunit;

namespace RpcGen.IntegrationTests.Shapes;

/// <summary>Where an interface is declared: global namespace, file-scoped and nested namespaces, nested in classes, public or internal.</summary>
public sealed class DeclarationShapeTests
{
    [Fact]
    public async Task Services_declared_anywhere_round_trip()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await broker.ServeAsync<IGlobalGreeter>(rpc, new GlobalGreeter());
        await broker.ServeAsync<GlobalHolder.INestedCounter>(rpc, new NestedCounter());
        await broker.ServeAsync<IFileScopedEcho>(rpc, new FileScopedEcho());
        await broker.ServeAsync<IDeepAdder>(rpc, new DeepMath());
        await broker.ServeAsync<IDeepNegator>(rpc, new DeepMath());
        await broker.ServeAsync<Container.IClock>(rpc, new Clock());
        await broker.ServeAsync<Container.Inner.IClock>(rpc, new Clock());
        await broker.ServeAsync<InternalContainer.IUpper>(rpc, new Upper());

        Assert.Equal("hello, Ada", await rpc.CreateClient<IGlobalGreeter>().GreetAsync("Ada"));
        Assert.Equal(42, await rpc.CreateClient<GlobalHolder.INestedCounter>().NextAsync(41));
        Assert.Equal("echo", await rpc.CreateClient<IFileScopedEcho>().EchoAsync("echo"));
        Assert.Equal(5, await rpc.CreateClient<IDeepAdder>().AddAsync(2, 3));
        Assert.Equal(-7, await rpc.CreateClient<IDeepNegator>().NegateAsync(7));
        var start = new DateTimeOffset(2024, 2, 29, 23, 59, 30, TimeSpan.FromHours(2));
        Assert.Equal(start.AddSeconds(45), await rpc.CreateClient<Container.IClock>().AddSecondsAsync(start, 45));
        Assert.Equal(start.Ticks, await rpc.CreateClient<Container.Inner.IClock>().TicksAsync(start));
        Assert.Equal("LOUD", await rpc.CreateClient<InternalContainer.IUpper>().UpperAsync("loud"));
    }

    [Fact]
    public async Task Generated_types_are_named_after_the_interface_and_its_containers_and_take_its_accessibility()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();

        Assert.IsType<GlobalGreeterClient>(rpc.CreateClient<IGlobalGreeter>());
        Assert.IsType<GlobalHolderNestedCounterClient>(rpc.CreateClient<GlobalHolder.INestedCounter>());
        Assert.IsType<ContainerClockClient>(rpc.CreateClient<Container.IClock>());
        Assert.IsType<ContainerInnerClockClient>(rpc.CreateClient<Container.Inner.IClock>());
        Assert.IsType<InternalContainerUpperClient>(rpc.CreateClient<InternalContainer.IUpper>());

        Assert.True(typeof(GlobalGreeterClient).IsPublic);
        Assert.True(typeof(DeepAdderDispatcher).IsPublic);
        Assert.True(typeof(ContainerClockClient).IsPublic);
        Assert.False(typeof(ContainerInnerClockClient).IsPublic);     // public interface inside an internal class
        Assert.False(typeof(FileScopedEchoClient).IsPublic);
        Assert.False(typeof(DeepNegatorDispatcher).IsPublic);
        Assert.Equal("RpcGen.IntegrationTests.Shapes.Nesting", typeof(ContainerClockClient).Namespace);
        Assert.Null(typeof(GlobalGreeterClient).Namespace);
    }

    [Fact]
    public async Task Two_interfaces_with_the_same_name_in_two_namespaces_each_round_trip()
    {
        // Both use the default queue "Inventory", so each is served under its own test prefix.
        await using var warehouseBroker = new TestBroker();
        await using var shopBroker = new TestBroker();
        var warehouse = await warehouseBroker.ConnectAsync();
        var shop = await shopBroker.ConnectAsync();
        await warehouseBroker.ServeAsync<Warehouse.IInventory>(warehouse, new WarehouseInventory());
        await shopBroker.ServeAsync<Shop.IInventory>(shop, new ShopInventory());

        Assert.Equal(12, await warehouse.CreateClient<Warehouse.IInventory>().CountAsync("sku-12"));
        Assert.True(await shop.CreateClient<Shop.IInventory>().InStockAsync("sku-1"));
        Assert.False(await shop.CreateClient<Shop.IInventory>().InStockAsync("none"));
        Assert.IsType<Warehouse.InventoryClient>(warehouse.CreateClient<Warehouse.IInventory>());
        Assert.IsType<Shop.InventoryClient>(shop.CreateClient<Shop.IInventory>());
        Assert.Equal("Inventory", Warehouse.InventoryRpcDescriptor.Service.Queue);
        Assert.Equal("Inventory", Shop.InventoryRpcDescriptor.Service.Queue);
    }

    private sealed class GlobalGreeter : IGlobalGreeter
    {
        public Task<string> GreetAsync(string name) => Task.FromResult("hello, " + name);
    }

    private sealed class NestedCounter : GlobalHolder.INestedCounter
    {
        public ValueTask<int> NextAsync(int value) => new(value + 1);
    }

    private sealed class FileScopedEcho : IFileScopedEcho
    {
        public Task<string> EchoAsync(string text) => Task.FromResult(text);
    }

    private sealed class DeepMath : IDeepAdder, IDeepNegator
    {
        public Task<int> AddAsync(int a, int b) => Task.FromResult(a + b);

        public Task<int> NegateAsync(int value) => Task.FromResult(-value);
    }

    private sealed class Clock : Container.IClock, Container.Inner.IClock
    {
        public Task<DateTimeOffset> AddSecondsAsync(DateTimeOffset time, double seconds) => Task.FromResult(time.AddSeconds(seconds));

        public Task<long> TicksAsync(DateTimeOffset time) => Task.FromResult(time.Ticks);
    }

    private sealed class Upper : InternalContainer.IUpper
    {
        public Task<string> UpperAsync(string text) => Task.FromResult(text.ToUpperInvariant());
    }

    private sealed class WarehouseInventory : Warehouse.IInventory
    {
        public Task<int> CountAsync(string sku) => Task.FromResult(int.Parse(sku["sku-".Length..]));
    }

    private sealed class ShopInventory : Shop.IInventory
    {
        public Task<bool> InStockAsync(string sku) => Task.FromResult(sku.StartsWith("sku-", StringComparison.Ordinal));
    }
}
