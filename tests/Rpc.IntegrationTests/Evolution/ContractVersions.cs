namespace RpcGen.IntegrationTests.Evolution;

/// <summary>
/// Two versions of one contract, as two deployments of a service would have them: compiled separately by
/// <see cref="ContractCompiler"/>, never by this project. v2 makes every change docs/wire-format.md calls compatible:
/// an optional parameter on a two-parameter method (<c>Add</c>) and on one-parameter methods (<c>Neg</c> and
/// <c>Repeat</c>, whose bodies were bare values: a number, and a record's JSON object), a nullable property on a record, a new method, and a C# rename that keeps its wire name.
/// Each version also has a peer (<see cref="IContractPeer"/>) that serves it and makes the calls it knows.
/// </summary>
internal static class ContractVersions
{
    /// <summary>The calls a v1 client can make, by name; a v2 client makes these and <see cref="V2Calls"/>.</summary>
    public static readonly string[] V1Calls = { "Add(1,2)", "Neg(5)", "Subtract(7,2)", "Repeat(tea x2)" };

    /// <summary>The calls only a v2 client can make: a new argument with a value other than its default, and a new method.</summary>
    public static readonly string[] V2Calls = { "Add(1,2,3)", "Neg(5,twice)", "Repeat(tea x2, note gift)", "Repeat(tea x2, times 3)", "Multiply(3,4)" };

    public const string V1 = """
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using RpcGen;
        using RpcGen.IntegrationTests.Evolution;

        namespace Evolution;

        public sealed record Order(string Item, int Quantity);

        [RpcService(Queue = "calc")]
        public interface ICalc
        {
            Task<int> AddAsync(int a, int b);
            Task<int> NegAsync(int a);
            Task<int> SubtractAsync(int a, int b);
            Task<Order> RepeatAsync(Order order);
        }

        public sealed class Calc : ICalc
        {
            public Task<int> AddAsync(int a, int b) => Task.FromResult(a + b);
            public Task<int> NegAsync(int a) => Task.FromResult(-a);
            public Task<int> SubtractAsync(int a, int b) => Task.FromResult(a - b);
            public Task<Order> RepeatAsync(Order order) => Task.FromResult(order with { Quantity = order.Quantity * 2 });
        }

        public sealed class Peer : IContractPeer
        {
            public string Version => "v1";

            public async Task<System.IAsyncDisposable> ServeAsync(RpcConnection connection) => await connection.ServeAsync<ICalc>(new Calc());

            public async Task<string> CallAsync(RpcConnection connection, string call)
            {
                var calc = connection.CreateClient<ICalc>();
                switch (call)
                {
                    case "Add(1,2)": return (await calc.AddAsync(1, 2)).ToString();
                    case "Neg(5)": return (await calc.NegAsync(5)).ToString();
                    case "Subtract(7,2)": return (await calc.SubtractAsync(7, 2)).ToString();
                    case "Repeat(tea x2)":
                        var order = await calc.RepeatAsync(new Order("tea", 2));
                        return order.Item + " x" + order.Quantity;
                    default: throw new KeyNotFoundException("v1 has no call " + call);
                }
            }

            public Task<long> TutorialFibAsync(RpcConnection connection, int n) => throw new System.NotSupportedException("only v2 calls the tutorial server");
        }
        """;

    public const string V2 = """
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using RpcGen;
        using RpcGen.IntegrationTests.Evolution;

        namespace Evolution;

        public sealed record Order(string Item, int Quantity, string? Note = null);

        [RpcService(Queue = "calc")]
        public interface ICalc
        {
            Task<int> AddAsync(int a, int b, int c = 0);
            Task<int> NegAsync(int a, bool twice = false);
            [RpcMethod("Subtract")]
            Task<int> MinusAsync(int a, int b);
            Task<Order> RepeatAsync(Order order, int times = 2);
            Task<int> MultiplyAsync(int a, int b);
        }

        /// <summary>The tutorial's fib server (tests/Rpc.IntegrationTests/Interop/fib_server.py) after a v2 added a parameter.</summary>
        [RpcService(Queue = "tutorial-fib")]
        public interface ITutorialFib
        {
            Task<long> FibAsync(int n, bool memoised = false);
        }

        public sealed class Calc : ICalc
        {
            public Task<int> AddAsync(int a, int b, int c = 0) => Task.FromResult(a + b + c);
            public Task<int> NegAsync(int a, bool twice = false) => Task.FromResult(twice ? -2 * a : -a);
            public Task<int> MinusAsync(int a, int b) => Task.FromResult(a - b);
            public Task<Order> RepeatAsync(Order order, int times = 2) =>
                Task.FromResult(order with { Quantity = order.Quantity * times, Note = order.Note is null ? "none" : order.Note + "!" });
            public Task<int> MultiplyAsync(int a, int b) => Task.FromResult(a * b);
        }

        public sealed class Peer : IContractPeer
        {
            public string Version => "v2";

            public async Task<System.IAsyncDisposable> ServeAsync(RpcConnection connection) => await connection.ServeAsync<ICalc>(new Calc());

            public async Task<string> CallAsync(RpcConnection connection, string call)
            {
                var calc = connection.CreateClient<ICalc>();
                switch (call)
                {
                    case "Add(1,2)": return (await calc.AddAsync(1, 2)).ToString();
                    case "Add(1,2,3)": return (await calc.AddAsync(1, 2, 3)).ToString();
                    case "Neg(5)": return (await calc.NegAsync(5)).ToString();
                    case "Neg(5,twice)": return (await calc.NegAsync(5, twice: true)).ToString();
                    case "Subtract(7,2)": return (await calc.MinusAsync(7, 2)).ToString();
                    case "Repeat(tea x2)": return Show(await calc.RepeatAsync(new Order("tea", 2)));
                    case "Repeat(tea x2, note gift)": return Show(await calc.RepeatAsync(new Order("tea", 2, "gift")));
                    case "Repeat(tea x2, times 3)": return Show(await calc.RepeatAsync(new Order("tea", 2), times: 3));
                    case "Multiply(3,4)": return (await calc.MultiplyAsync(3, 4)).ToString();
                    default: throw new KeyNotFoundException("v2 has no call " + call);
                }
            }

            public Task<long> TutorialFibAsync(RpcConnection connection, int n) => connection.CreateClient<ITutorialFib>().FibAsync(n);

            private static string Show(Order order) => order.Item + " x" + order.Quantity + " note=" + (order.Note ?? "null");
        }
        """;
}
