using System.Text.Json;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Shapes.MethodNames;
using RpcGen.IntegrationTests.Shapes.Names;
using RpcGen.IntegrationTests.Shapes.Types;
using Xunit;
using static RpcGen.IntegrationTests.Shapes.ShapeFormat;
using ClashingAction = RpcGen.IntegrationTests.Shapes.Clashes.Domain.Action;
using ClashingTask = RpcGen.IntegrationTests.Shapes.Clashes.Task;
using ITaskBoard = RpcGen.IntegrationTests.Shapes.Clashes.ITaskBoard;

namespace RpcGen.IntegrationTests.Shapes;

/// <summary>Parameter names and types: what the client sends is what the server receives, on the wire and in C#.</summary>
public sealed class ParameterShapeTests
{
    private static readonly Customer s_ada = new(Guid.Parse("6f9619ff-8b86-d011-b42d-00cf4fc964ff"), "Ada", null, new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.FromHours(-5)));
    private static readonly Money s_tenEuro = new(10.25m, "EUR");

    [Fact]
    public async Task Keyword_and_clashing_parameter_names_round_trip()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await broker.ServeAsync<INaming>(rpc, new Naming());
        var naming = rpc.CreateClient<INaming>();

        Assert.Equal(Describe("c", 1, true), await naming.KeywordsAsync("c", 1, true));
        var names = new[] { "client", "message", "body", "result", "cancellationToken", "writer", "reader", "request", "connection", "call", "service" };
        Assert.Equal(Describe(names), await naming.ClashesAsync(names[0], names[1], names[2], names[3], names[4], names[5], names[6], names[7], names[8], names[9], names[10]));
        Assert.Equal(3, await naming.CountAsync(new List<int> { 1, 2, 3 }, CancellationToken.None));
        Assert.Equal(Describe("r"), await naming.OneClashAsync("r"));
        Assert.Equal(Describe(1, 2, "i"), await naming.ArgumentNamesAsync(1, 2, "i"));
    }

    [Fact]
    public async Task Keyword_parameters_are_sent_under_their_names_without_the_at_sign()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await broker.ServeAsync<INaming>(rpc, new Naming());
        await using var raw = await RawAmqp.ConnectAsync();

        var reply = await raw.CallAsync(broker.QueueName("Naming"), """{"class":"c","event":2,"params":false}""", type: "Keywords");

        Assert.Null(reply.Status);
        Assert.Equal(Describe("c", 2, false), JsonSerializer.Deserialize<string>(reply.Body));
    }

    [Fact]
    public async Task Method_names_a_client_cannot_declare_as_is_round_trip()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await broker.ServeAsync<ITricky>(rpc, new Tricky());
        var tricky = rpc.CreateClient<ITricky>();

        Assert.Equal("12", await tricky.ToString(12));
        Assert.True(await tricky.Equals("me"));
        Assert.False(await tricky.Equals(null));
        Assert.Equal(42, await tricky.GetHashCode());
        Assert.Equal("client", await tricky.TrickyClient());
        Assert.Equal(7, await tricky._invoker());
        Assert.Equal(10, await tricky.@return(5));
        Assert.Equal(4, await tricky.InvokeAsync(service: 6, call: 2));
    }

    [Fact]
    public async Task Default_values_are_kept_on_the_client_and_applied_by_the_server_when_a_request_leaves_them_out()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await broker.ServeAsync<ITypeShapes>(rpc, new TypeShapes());
        var shapes = rpc.CreateClient<ITypeShapes>();
        var defaults = Describe(3, "a \"quoted\"\n text", 0.5, 9.99m, 1L << 40, 'x', true, Priority.High, Channels.Mail | Channels.Sms,
            null, null, 7, default(Money), 1.5f, (byte)200, 4000000000u);

        Assert.Equal(defaults, await shapes.DefaultsAsync());
        Assert.Equal(Describe(4, "t", 0.25, 1m, 2L, 'y', false, Priority.Low, Channels.None, "n", 1, null, s_tenEuro, -2f, (byte)0, 0u),
            await shapes.DefaultsAsync(4, "t", 0.25, 1m, 2L, 'y', false, Priority.Low, Channels.None, "n", 1, null, s_tenEuro, -2f, 0, 0));

        await using var raw = await RawAmqp.ConnectAsync();
        var reply = await raw.CallAsync(broker.QueueName("TypeShapes"), "{}", type: "Defaults");
        Assert.Null(reply.Status);
        Assert.Equal(defaults, JsonSerializer.Deserialize<string>(reply.Body));
    }

    [Fact]
    public async Task Params_arrays_round_trip_and_may_be_left_out()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await broker.ServeAsync<ITypeShapes>(rpc, new TypeShapes());
        var shapes = rpc.CreateClient<ITypeShapes>();

        Assert.Equal(0, await shapes.SumAsync());
        Assert.Equal(6, await shapes.SumAsync(1, 2, 3));
        Assert.Equal(10, await shapes.SumAsync(new[] { 4, 6 }));
        Assert.Equal("a,,b", await shapes.JoinAsync(",", "a", null, "b"));
        Assert.Equal("", await shapes.JoinAsync(","));

        await using var raw = await RawAmqp.ConnectAsync();
        var sum = await raw.CallAsync(broker.QueueName("TypeShapes"), "", type: "Sum");
        Assert.Equal("0", sum.Text);
        var join = await raw.CallAsync(broker.QueueName("TypeShapes"), """{"separator":"-"}""", type: "Join");
        Assert.Equal("\"\"", join.Text);
    }

    [Fact]
    public async Task Nullable_value_and_collection_parameters_round_trip()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await broker.ServeAsync<ITypeShapes>(rpc, new TypeShapes());
        var shapes = rpc.CreateClient<ITypeShapes>();

        Assert.Equal(Describe(null, null, null, null, null), await shapes.NullablesAsync(null, null, null, null, null));
        Assert.Equal(Describe("t", 5, s_tenEuro, s_ada, Priority.Normal), await shapes.NullablesAsync("t", 5, s_tenEuro, s_ada, Priority.Normal));

        var order = new Order { Number = 17, Lines = { "pen", "ink" } };
        var id = Guid.NewGuid();
        var at = new DateTimeOffset(2031, 12, 31, 23, 59, 59, 999, TimeSpan.FromMinutes(330));
        Assert.Equal(Describe(s_tenEuro, s_ada, order, Priority.High, id, at, 79228162514264337593543950335m),
            await shapes.ValuesAsync(s_tenEuro, s_ada, order, Priority.High, id, at, 79228162514264337593543950335m));

        int[] numbers = { 1, -2, int.MaxValue };
        var customers = new List<Customer> { s_ada, s_ada with { Name = "Grace", Email = "g@example.org" } };
        var wallet = new Dictionary<string, Money> { ["eur"] = s_tenEuro, ["usd"] = new(0.01m, "USD") };
        var counts = new Dictionary<string, int?> { ["some"] = 1, ["none"] = null };
        var names = new List<string?> { "x", null };
        Customer?[] maybe = { null, s_ada };
        Assert.Equal(Describe(numbers, customers, wallet, counts, names, maybe),
            await shapes.CollectionsAsync(numbers, customers, wallet, counts, names, maybe));
    }

    [Fact]
    public async Task A_null_for_a_non_nullable_reference_parameter_is_refused_by_the_server()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await broker.ServeAsync<ITypeShapes>(rpc, new TypeShapes());
        await using var raw = await RawAmqp.ConnectAsync();

        var reply = await raw.CallAsync(broker.QueueName("TypeShapes"), """{"separator":null,"parts":[]}""", type: "Join");

        Assert.Equal("error", reply.Status);
        Assert.Contains("'separator'", reply.ErrorMessage);
        Assert.Contains("must not be null", reply.ErrorMessage);
    }

    [Fact]
    public async Task User_types_named_Task_and_Action_round_trip_beside_the_real_Task()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync();
        await broker.ServeAsync<ITaskBoard>(rpc, new TaskBoard());
        var board = rpc.CreateClient<ITaskBoard>();

        var created = await board.CreateAsync("write", new ClashingAction { Verb = "draft" });
        Assert.Equal("write:draft", created.Title);
        Assert.Null(await board.FindAsync(null));
        Assert.Equal("found write:draft", (await board.FindAsync(created))?.Title);
        Assert.Equal(new[] { "draft", "review" }, (await board.ActionsAsync(created)).Select(a => a.Verb));
        await board.ClearAsync();
        Assert.Empty(await board.ActionsAsync(created));
    }

    private sealed class Naming : INaming
    {
        public Task<string> KeywordsAsync(string @class, int @event, bool @params) => Task.FromResult(Describe(@class, @event, @params));

        public Task<string> ClashesAsync(string client, string message, string body, string result, string cancellationToken, string writer,
            string reader, string request, string connection, string call, string service) =>
            Task.FromResult(Describe(client, message, body, result, cancellationToken, writer, reader, request, connection, call, service));

        public Task<int> CountAsync(List<int> request, CancellationToken ct) => Task.FromResult(request.Count);

        public Task<string> OneClashAsync(string request) => Task.FromResult(Describe(request));

        public ValueTask<string> ArgumentNamesAsync(int arg0, int arg1, string _invoker) => new(Describe(arg0, arg1, _invoker));
    }

    private sealed class Tricky : ITricky
    {
        public Task<string> ToString(int value) => Task.FromResult(value.ToString(System.Globalization.CultureInfo.InvariantCulture));

        public Task<bool> Equals(string? other) => Task.FromResult(other == "me");

        Task<int> ITricky.GetHashCode() => Task.FromResult(42);

        public Task<string> TrickyClient() => Task.FromResult("client");

        public Task<int> _invoker() => Task.FromResult(7);

        public Task<int> @return(int @int) => Task.FromResult(@int * 2);

        public Task<int> InvokeAsync(int service, int call) => Task.FromResult(service - call);
    }

    private sealed class TypeShapes : ITypeShapes
    {
        public Task<string> DefaultsAsync(int count = 3, string text = "a \"quoted\"\n text", double ratio = 0.5, decimal price = 9.99m,
            long big = 1L << 40, char letter = 'x', bool flag = true, Priority priority = Priority.High, Channels channels = Channels.Mail | Channels.Sms,
            string? nothing = null, int? maybe = null, int? some = 7, Money money = default, float single = 1.5f, byte small = 200, uint unsigned = 4000000000) =>
            Task.FromResult(Describe(count, text, ratio, price, big, letter, flag, priority, channels, nothing, maybe, some, money, single, small, unsigned));

        public Task<int> SumAsync(params int[] values) => Task.FromResult(values.Sum());

        public Task<string> JoinAsync(string separator, params string?[] parts) => Task.FromResult(string.Join(separator, parts));

        public Task<string> NullablesAsync(string? text, int? number, Money? money, Customer? customer, Priority? priority) =>
            Task.FromResult(Describe(text, number, money, customer, priority));

        public Task<string> ValuesAsync(Money money, Customer customer, Order order, Priority priority, Guid id, DateTimeOffset at, decimal amount) =>
            Task.FromResult(Describe(money, customer, order, priority, id, at, amount));

        public Task<string> CollectionsAsync(int[] numbers, List<Customer> customers, Dictionary<string, Money> wallet, Dictionary<string, int?> counts,
            List<string?> names, Customer?[] maybeCustomers) =>
            Task.FromResult(Describe(numbers, customers, wallet, counts, names, maybeCustomers));
    }

    private sealed class TaskBoard : ITaskBoard
    {
        private readonly List<ClashingAction> _actions = new() { new() { Verb = "draft" }, new() { Verb = "review" } };

        public Task<ClashingTask> CreateAsync(string title, ClashingAction action) =>
            Task.FromResult(new ClashingTask { Title = title + ":" + action.Verb });

        public Task<ClashingTask?> FindAsync(ClashingTask? probe) =>
            Task.FromResult(probe is null ? null : new ClashingTask { Title = "found " + probe.Title });

        public ValueTask<ClashingAction[]> ActionsAsync(ClashingTask task)
        {
            lock (_actions) return new(_actions.ToArray());
        }

        public Task ClearAsync()
        {
            lock (_actions) _actions.Clear();
            return Task.CompletedTask;
        }
    }
}
