using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using RpcGen.Generator.Diagnostics;
using RpcGen.Generator.Tests.Infrastructure;
using Xunit;

namespace RpcGen.Generator.Tests;

/// <summary>
/// RPCGEN025–RPCGEN031: the code against RpcContracts.Shipped.txt (an AdditionalFiles item). The shipped contract is
/// v1 of docs/wire-format.md's evolution example; each test makes one change to it.
/// </summary>
public sealed partial class DiagnosticTests
{
    private const string ShippedV1 = """
        # The wire contract this project has shipped (docs/diagnostics.md#contracts-that-evolve).
        Calc Add(a: int, b: int) -> int
        Calc Neg(a: int) -> int
        Calc Subtract(a: int, b: int) -> int
        Calc Scale(value: double, factor: double = 2D) -> double
        Calc Log(message: string) -> one-way
        """;

    private const string CalcV1Methods = """
            Task<int> AddAsync(int a, int b);
            Task<int> NegAsync(int a);
            Task<int> SubtractAsync(int a, int b);
            Task<double> ScaleAsync(double value, double factor = 2);
            [RpcMethod(OneWay = true)] Task LogAsync(string message);
        """;

    private static DiagnosticSeverity ExpectedSeverity(DiagnosticDescriptor descriptor) => descriptor.Id switch
    {
        "RPCGEN014" or "RPCGEN030" => DiagnosticSeverity.Info,
        "RPCGEN025" or "RPCGEN026" or "RPCGEN027" or "RPCGEN028" or "RPCGEN029" or "RPCGEN031" => DiagnosticSeverity.Warning,
        _ => DiagnosticSeverity.Error,
    };

    [Fact]
    public Task RPCGEN025_shipped_method_removed_is_reported_on_the_interface() => ContractTest(
        """
        [RpcService(Queue = "Calc")] public interface {|#0:ICalc|}
        {
            Task<int> AddAsync(int a, int b);
            Task<int> NegAsync(int a);
            Task<double> ScaleAsync(double value, double factor = 2);
            [RpcMethod(OneWay = true)] Task LogAsync(string message);
        }
        """,
        Warning("RPCGEN025", 0,
            "Method 'Subtract' of queue 'Calc' is in RpcContracts.Shipped.txt but no [RpcService] has it: callers built against the shipped contract get rpc:unknown-method; keep the method (a renamed C# method keeps its wire name with [RpcMethod(\"Subtract\")]), or delete its line from RpcContracts.Shipped.txt if breaking those callers is intended")).RunAsync();

    [Fact]
    public Task RPCGEN025_a_whole_service_removed_is_reported_on_its_lines()
    {
        var test = ContractTest("[RpcService(Queue = \"Calc\")] public interface ICalc\n{\n" + CalcV1Methods + "\n}");
        test.TestState.AdditionalFiles.Clear();
        test.TestState.AdditionalFiles.Add((ShippedFile, ShippedV1 + "\nClock Now() -> System.DateTimeOffset\n"));
        test.ExpectedDiagnostics.Add(new DiagnosticResult("RPCGEN025", DiagnosticSeverity.Warning)
            .WithSpan(ShippedFile, 7, 1, 7, 37)
            .WithMessage("Method 'Now' of queue 'Clock' is in RpcContracts.Shipped.txt but no [RpcService] has it: callers built against the shipped contract get rpc:unknown-method; keep the method (a renamed C# method keeps its wire name with [RpcMethod(\"Now\")]), or delete its line from RpcContracts.Shipped.txt if breaking those callers is intended"));
        return test.RunAsync();
    }

    [Fact]
    public Task RPCGEN026_wire_name_changed_by_RpcMethod() => ContractTest(
        """
        [RpcService(Queue = "Calc")] public interface ICalc
        {
            Task<int> AddAsync(int a, int b);
            Task<int> NegAsync(int a);
            [RpcMethod("Minus")] Task<int> {|#0:SubtractAsync|}(int a, int b);
            Task<double> ScaleAsync(double value, double factor = 2);
            [RpcMethod(OneWay = true)] Task LogAsync(string message);
        }
        """,
        Warning("RPCGEN026", 0,
            "Method 'SubtractAsync' goes on the wire as 'Minus', but RpcContracts.Shipped.txt ships it as 'Subtract': callers built against the shipped contract get rpc:unknown-method; name it [RpcMethod(\"Subtract\")] to keep the shipped wire name, or update RpcContracts.Shipped.txt if breaking those callers is intended")).RunAsync();

    [Fact]
    public Task RPCGEN026_a_renamed_CSharp_method_that_keeps_its_wire_name_is_not_a_change() => ContractTest(
        """
        [RpcService(Queue = "Calc")] public interface ICalc
        {
            Task<int> AddAsync(int a, int b);
            Task<int> NegAsync(int a);
            [RpcMethod("Subtract")] Task<int> MinusAsync(int a, int b);
            Task<double> ScaleAsync(double value, double factor = 2);
            [RpcMethod(OneWay = true)] Task LogAsync(string message);
        }
        """).RunAsync();

    [Fact]
    public Task RPCGEN027_required_parameter_added() => ContractTest(
        CalcWith("Task<int> AddAsync(int a, int b);", "Task<int> AddAsync(int a, int b, int {|#0:c|});"),
        Warning("RPCGEN027", 0,
            "Parameter 'c' of method 'Calc.Add' is required, but it is not in RpcContracts.Shipped.txt: callers built against the shipped contract leave it out and get rpc:bad-request; give it a default value (added parameters go last, with a default), or update RpcContracts.Shipped.txt if breaking those callers is intended")).RunAsync();

    [Fact]
    public Task RPCGEN027_optional_parameter_made_required() => ContractTest(
        CalcWith("Task<double> ScaleAsync(double value, double factor = 2);", "Task<double> ScaleAsync(double value, double {|#0:factor|});"),
        Warning("RPCGEN027", 0,
            "Parameter 'factor' of method 'Calc.Scale' is required, but RpcContracts.Shipped.txt ships it optional: callers built against the shipped contract leave it out and get rpc:bad-request; give it a default value (added parameters go last, with a default), or update RpcContracts.Shipped.txt if breaking those callers is intended")).RunAsync();

    [Fact]
    public Task RPCGEN028_parameter_type_changed() => ContractTest(
        CalcWith("Task<int> NegAsync(int a);", "Task<int> NegAsync(long {|#0:a|});"),
        Warning("RPCGEN028", 0,
            "Parameter 'a' of method 'Calc.Neg' is 'long', but RpcContracts.Shipped.txt ships 'int': peers built against the shipped contract send and read the shipped shape; change it back, or add a method with its own wire name for the new shape (or update RpcContracts.Shipped.txt if breaking those peers is intended)")).RunAsync();

    [Fact]
    public Task RPCGEN028_default_value_changed() => ContractTest(
        CalcWith("Task<double> ScaleAsync(double value, double factor = 2);", "Task<double> ScaleAsync(double value, double {|#0:factor|} = 3);"),
        Warning("RPCGEN028", 0,
            "Parameter 'factor' of method 'Calc.Scale' is 'double = 3D', but RpcContracts.Shipped.txt ships 'double = 2D': peers built against the shipped contract send and read the shipped shape; change it back, or add a method with its own wire name for the new shape (or update RpcContracts.Shipped.txt if breaking those peers is intended)")).RunAsync();

    [Fact]
    public Task RPCGEN028_result_type_changed() => ContractTest(
        CalcWith("Task<int> AddAsync(int a, int b);", "Task<long> {|#0:AddAsync|}(int a, int b);"),
        Warning("RPCGEN028", 0,
            "The result of method 'Calc.Add' is 'long', but RpcContracts.Shipped.txt ships 'int': peers built against the shipped contract send and read the shipped shape; change it back, or add a method with its own wire name for the new shape (or update RpcContracts.Shipped.txt if breaking those peers is intended)")).RunAsync();

    [Fact]
    public Task RPCGEN028_first_parameter_moved() => ContractTest(
        CalcWith("Task<int> SubtractAsync(int a, int b);", "Task<int> SubtractAsync(int {|#0:b|}, int a);"),
        Warning("RPCGEN028", 0,
            "The first parameter of method 'Calc.Subtract' is 'b', but RpcContracts.Shipped.txt ships 'a': peers built against the shipped contract send and read the shipped shape; change it back, or add a method with its own wire name for the new shape (or update RpcContracts.Shipped.txt if breaking those peers is intended)")).RunAsync();

    [Fact]
    public Task RPCGEN029_optional_parameter_removed() => ContractTest(
        CalcWith("Task<double> ScaleAsync(double value, double factor = 2);", "Task<double> {|#0:ScaleAsync|}(double value);"),
        Warning("RPCGEN029", 0,
            "Method 'Calc.Scale' no longer has parameter 'factor' of RpcContracts.Shipped.txt: callers built against the shipped contract that pass it get rpc:bad-request; keep the parameter (the implementation may ignore it), or update RpcContracts.Shipped.txt if breaking those callers is intended")).RunAsync();

    [Fact]
    public Task RPCGEN030_the_compatible_v2_gets_only_suggestions_with_the_lines_to_ship()
    {
        var test = ContractTest(
            """
            public sealed record Order(string Item, int Quantity, string? Note = null);
            [RpcService(Queue = "Calc")] public interface ICalc
            {
                Task<int> {|#0:AddAsync|}(int a, int b, int c = 0);
                Task<int> {|#1:NegAsync|}(int a, bool twice = false);
                [RpcMethod("Subtract")] Task<int> MinusAsync(int a, int b);
                Task<double> ScaleAsync(double value, double factor = 2);
                [RpcMethod(OneWay = true)] Task LogAsync(string message);
                Task<int> {|#2:MultiplyAsync|}(int a, int b);
            }
            """,
            Suggestion(0, "Method 'Calc.Add' is compatibly changed from its line in RpcContracts.Shipped.txt: once it has shipped, replace that line with: Calc Add(a: int, b: int, c: int = 0) -> int"),
            Suggestion(1, "Method 'Calc.Neg' is compatibly changed from its line in RpcContracts.Shipped.txt: once it has shipped, replace that line with: Calc Neg(a: int, twice: bool = false) -> int"),
            Suggestion(2, "Method 'Calc.Multiply' is not yet in RpcContracts.Shipped.txt: once it has shipped, add the line: Calc Multiply(a: int, b: int) -> int"));
        test.DisabledDiagnostics.Remove(DiagnosticDescriptors.NotInShippedContract.Id);
        return test.RunAsync();
    }

    [Fact]
    public Task RPCGEN030_lines_keep_types_defaults_and_params_as_the_generator_writes_them()
    {
        var test = ContractTest(
            """
            namespace Shop
            {
                public enum Priority { Low, High }
                public sealed record Item(string Sku);
                [RpcService] public interface IStore
                {
                    Task<Dictionary<string, List<Item>>?> {|#0:FindAsync|}(string? text = "a, \"b\"", Priority priority = Priority.High, params int[] ids);
                    Task {|#1:ClearAsync|}();
                }
            }
            """,
            Suggestion(0, "Method 'Store.Find' is not yet in RpcContracts.Shipped.txt: once it has shipped, add the line: Store Find(text: string? = \"a, \\\"b\\\"\", priority: Shop.Priority = Shop.Priority.High, ids: params int[]) -> System.Collections.Generic.Dictionary<string, System.Collections.Generic.List<Shop.Item>>?"),
            Suggestion(1, "Method 'Store.Clear' is not yet in RpcContracts.Shipped.txt: once it has shipped, add the line: Store Clear() -> void"));
        test.DisabledDiagnostics.Remove(DiagnosticDescriptors.NotInShippedContract.Id);
        test.TestState.AdditionalFiles.Add(("RpcContracts.Shipped.txt", string.Empty));
        test.TestState.AdditionalFiles.RemoveAt(0);
        return test.RunAsync();
    }

    [Fact]
    public Task RPCGEN030_the_suggested_lines_read_back_as_the_shipped_contract_with_nothing_to_report()
    {
        // The lines of the previous test, shipped: nothing new, nothing changed.
        var test = ContractTest(
            """
            namespace Shop
            {
                public enum Priority { Low, High }
                public sealed record Item(string Sku);
                [RpcService] public interface IStore
                {
                    Task<Dictionary<string, List<Item>>?> FindAsync(string? text = "a, \"b\"", Priority priority = Priority.High, params int[] ids);
                    Task ClearAsync();
                }
            }
            """);
        test.DisabledDiagnostics.Remove(DiagnosticDescriptors.NotInShippedContract.Id);
        test.TestState.AdditionalFiles.Clear();
        test.TestState.AdditionalFiles.Add((ShippedFile, """
            Store Find(text: string? = "a, \"b\"", priority: Shop.Priority = Shop.Priority.High, ids: params int[]) -> System.Collections.Generic.Dictionary<string, System.Collections.Generic.List<Shop.Item>>?
            Store Clear() -> void
            """));
        return test.RunAsync();
    }

    [Fact]
    public Task RPCGEN031_unreadable_line()
    {
        var test = ContractTest("[RpcService(Queue = \"Calc\")] public interface ICalc\n{\n" + CalcV1Methods + "\n}");
        test.TestState.AdditionalFiles.Clear();
        test.TestState.AdditionalFiles.Add((ShippedFile, ShippedV1 + "\nCalc Add a int b int\n"));
        test.ExpectedDiagnostics.Add(new DiagnosticResult("RPCGEN031", DiagnosticSeverity.Warning)
            .WithSpan(ShippedFile, 7, 1, 7, 21)
            .WithMessage("RpcContracts.Shipped.txt line 'Calc Add a int b int' is not '{queue} {wire name}({name}: {type}[ = {default}], ...) -> {result}': nothing is checked against it; fix the line (the RPCGEN030 messages give each method's line), or delete it"));
        return test.RunAsync();
    }

    [Fact]
    public Task A_service_with_errors_is_not_compared_and_loses_nothing() => ContractTest(
        """
        [RpcService(Queue = "Calc")] public interface ICalc
        {
            Task<int> AddAsync(int a, int b);
            void {|RPCGEN001:Reset|}();
        }
        """).RunAsync();

    private const string ShippedFile = "RpcContracts.Shipped.txt";

    private static string CalcWith(string v1Method, string changed) =>
        "[RpcService(Queue = \"Calc\")] public interface ICalc\n{\n" + CalcV1Methods.Replace(v1Method, changed) + "\n}";

    /// <summary>The sample against <see cref="ShippedV1"/>; suggestions (RPCGEN030) are off unless a test turns them on.</summary>
    private static AnalyzerTest ContractTest(string source, params DiagnosticResult[] expected)
    {
        var test = Test(source);
        test.TestState.AdditionalFiles.Add((ShippedFile, ShippedV1));
        test.DisabledDiagnostics.Add(DiagnosticDescriptors.NotInShippedContract.Id);
        test.TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
        test.ExpectedDiagnostics.AddRange(expected);
        return test;
    }

    private static DiagnosticResult Warning(string id, int location, string message) =>
        new DiagnosticResult(id, DiagnosticSeverity.Warning).WithLocation(location).WithMessage(message);

    private static DiagnosticResult Suggestion(int location, string message) =>
        new DiagnosticResult("RPCGEN030", DiagnosticSeverity.Info).WithLocation(location).WithMessage(message);
}
