using Microsoft.CodeAnalysis.Testing;
using RpcGen.Generator.CodeFixes;
using RpcGen.Generator.Tests.Infrastructure;
using Xunit;

namespace RpcGen.Generator.Tests;

/// <summary>
/// The code fixes, through the Roslyn code-fix testing package: the analyzer's diagnostic on the marked member, the
/// fixed source exactly, and the fixed source then compiles with the generator and no diagnostic at all.
/// </summary>
public sealed class CodeFixTests
{
    private const string Header = "#pragma warning disable CS1591\nusing System.Threading;\nusing System.Threading.Tasks;\nusing RpcGen;\n";

    [Fact]
    public Task RPCGEN001_void_becomes_Task() => Fix<ReturnTaskCodeFix>(
        "[RpcService] public interface IShop { void {|RPCGEN001:Reset|}(CancellationToken cancellationToken); }",
        "[RpcService] public interface IShop { Task Reset(CancellationToken cancellationToken); }");

    [Fact]
    public Task RPCGEN001_a_value_becomes_Task_of_it() => Fix<ReturnTaskCodeFix>(
        "[RpcService] public interface IShop { int {|RPCGEN001:Count|}(string sku, CancellationToken cancellationToken = default); }",
        "[RpcService] public interface IShop { Task<int> Count(string sku, CancellationToken cancellationToken = default); }");

    [Fact]
    public Task RPCGEN001_adds_the_using_it_needs()
    {
        var test = new RpcGenCodeFixTest<ReturnTaskCodeFix>();
        test.TestCode = "#pragma warning disable CS1591\nusing System.Threading;\nusing RpcGen;\n[RpcService] public interface IShop { string {|RPCGEN001:Name|}(CancellationToken cancellationToken); }\n";
        test.FixedCode = "#pragma warning disable CS1591\nusing System.Threading;\nusing RpcGen;\nusing System.Threading.Tasks;\n\n[RpcService] public interface IShop { Task<string> Name(CancellationToken cancellationToken); }\n";
        test.TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
        return test.RunAsync();
    }

    [Fact]
    public Task RPCGEN014_a_method_without_a_token_gets_an_optional_one()
    {
        var test = new RpcGenCodeFixTest<AddCancellationTokenCodeFix>();
        test.DisabledDiagnostics.Remove("RPCGEN014");
        test.TestCode = Header + "[RpcService] public interface IShop { Task<int> {|RPCGEN014:CountAsync|}(string sku); }\n";
        test.FixedCode = Header + "[RpcService] public interface IShop { Task<int> CountAsync(string sku, CancellationToken cancellationToken = default); }\n";
        test.TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
        return test.RunAsync();
    }

    [Fact]
    public Task RPCGEN014_the_token_goes_before_a_params_array()
    {
        var test = new RpcGenCodeFixTest<AddCancellationTokenCodeFix>();
        test.DisabledDiagnostics.Remove("RPCGEN014");
        test.TestCode = Header + "[RpcService] public interface IShop { Task {|RPCGEN014:TagAsync|}(int id, params string[] tags); }\n";
        test.FixedCode = Header + "[RpcService] public interface IShop { Task TagAsync(int id, CancellationToken cancellationToken = default, params string[] tags); }\n";
        test.TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
        return test.RunAsync();
    }

    [Fact]
    public Task RPCGEN007_an_overload_gets_a_wire_name_from_its_parameters() => Fix<WireNameCodeFix>(
        "[RpcService] public interface IShop { Task<int> FindAsync(int id, CancellationToken cancellationToken = default); Task<int> {|RPCGEN007:FindAsync|}(string name, CancellationToken cancellationToken = default); }",
        "[RpcService] public interface IShop { Task<int> FindAsync(int id, CancellationToken cancellationToken = default); [RpcMethod(\"FindByName\")] Task<int> FindAsync(string name, CancellationToken cancellationToken = default); }");

    [Fact]
    public Task RPCGEN007_an_explicit_colliding_name_is_replaced_and_other_settings_kept() => Fix<WireNameCodeFix>(
        "[RpcService] public interface IShop { [RpcMethod(\"find\")] Task FindAsync(int id, CancellationToken cancellationToken = default); [RpcMethod(\"find\", OneWay = true)] Task {|RPCGEN007:LookupAsync|}(int id, CancellationToken cancellationToken = default); }",
        "[RpcService] public interface IShop { [RpcMethod(\"find\")] Task FindAsync(int id, CancellationToken cancellationToken = default); [RpcMethod(\"LookupById\", OneWay = true)] Task LookupAsync(int id, CancellationToken cancellationToken = default); }");

    private const string Shipped = "Calc Add(a: int, b: int) -> int\nCalc Subtract(a: int, b: int) -> int\n";

    [Fact]
    public Task RPCGEN026_the_shipped_wire_name_is_put_back()
    {
        var test = new RpcGenCodeFixTest<ShippedWireNameCodeFix>();
        test.TestCode = Header + "[RpcService(Queue = \"Calc\")] public interface ICalc { Task<int> AddAsync(int a, int b, CancellationToken cancellationToken = default); [RpcMethod(\"Minus\")] Task<int> {|RPCGEN026:SubtractAsync|}(int a, int b, CancellationToken cancellationToken = default); }\n";
        test.FixedCode = Header + "[RpcService(Queue = \"Calc\")] public interface ICalc { Task<int> AddAsync(int a, int b, CancellationToken cancellationToken = default); [RpcMethod(\"Subtract\")] Task<int> SubtractAsync(int a, int b, CancellationToken cancellationToken = default); }\n";
        test.TestState.AdditionalFiles.Add(("RpcContracts.Shipped.txt", Shipped));
        test.FixedState.AdditionalFiles.Add(("RpcContracts.Shipped.txt", Shipped));
        test.TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
        return test.RunAsync();
    }

    [Fact]
    public Task RPCGEN030_a_new_method_and_a_compatible_change_are_recorded_in_the_shipped_file()
    {
        var test = new RpcGenCodeFixTest<ShipContractLineCodeFix>();
        const string before = "[RpcService(Queue = \"Calc\")] public interface ICalc { Task<int> {|RPCGEN030:AddAsync|}(int a, int b, int c = 0, CancellationToken cancellationToken = default); Task<int> SubtractAsync(int a, int b, CancellationToken cancellationToken = default); Task<int> {|RPCGEN030:MultiplyAsync|}(int a, int b, CancellationToken cancellationToken = default); }\n";
        test.TestCode = Header + before;
        test.FixedCode = Header + before.Replace("{|RPCGEN030:", "").Replace("|}", "");
        test.TestState.AdditionalFiles.Add(("RpcContracts.Shipped.txt", Shipped));
        // The changed method's line is replaced where it was; the new method's line is added at the end.
        test.FixedState.AdditionalFiles.Add(("RpcContracts.Shipped.txt",
            "Calc Add(a: int, b: int, c: int = 0) -> int\nCalc Subtract(a: int, b: int) -> int\nCalc Multiply(a: int, b: int) -> int\n"));
        test.TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
        return test.RunAsync();
    }

    /// <summary>Fixes <paramref name="before"/> into <paramref name="after"/>; the fixed code must be clean.</summary>
    private static Task Fix<TCodeFix>(string before, string after) where TCodeFix : Microsoft.CodeAnalysis.CodeFixes.CodeFixProvider, new()
    {
        var test = new RpcGenCodeFixTest<TCodeFix>
        {
            TestCode = Header + before + "\n",
            FixedCode = Header + after + "\n",
        };

        // Before the fix the service is broken and gets no code; after it, the generated code is checked to compile.
        test.TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
        return test.RunAsync();
    }
}
