using Microsoft.CodeAnalysis;
using RpcGen.Generator.Tests.Infrastructure;
using Xunit;

namespace RpcGen.Generator.Tests;

/// <summary>
/// Shapes beyond the snapshot families that users still write: each must generate code that compiles warning-free
/// (or, where the user's code is itself wrong, at least never make the generator throw).
/// </summary>
public sealed class UnusualShapeTests
{
    private const string Usings = "using System; using System.Collections.Generic; using System.Threading; using System.Threading.Tasks; using RpcGen;\n";

    public static TheoryData<string, string> CleanShapes => new()
    {
        { "empty service", "[RpcService] internal interface IEmpty { }" },
        { "nullable-oblivious file", "#nullable disable\n[RpcService] internal interface IOld { Task<string> EchoAsync(string text, List<string> items); Task<List<string>> ListAsync(); }" },
        { "default interface members are left alone", "[RpcService] internal interface IDim { Task<int> GetAsync(); Task<int> TwiceAsync() => Task.FromResult(2); int Size => 1; static int Helper() => 3; }" },
        { "keywords as namespace, interface, method and parameter names", "namespace @class.@event { [RpcService] internal interface @interface { Task<int> @return(int @int); } }" },
        { "namespaces named like RpcGen and System", "namespace MyApp.RpcGen { [global::RpcGen.RpcService] internal interface IInner { global::System.Threading.Tasks.Task<int> GetAsync(); } }\nnamespace MyApp.System { internal class Threading { } }\nnamespace MyApp { [global::RpcGen.RpcService] internal interface IOuter { global::System.Threading.Tasks.Task<int> GetAsync(); } internal class Task { } internal class Action { } }" },
        { "nullable params array", "[RpcService] internal interface INp { Task<int> SumAsync(params int[]? values); }" },
        { "non-ASCII identifiers with an explicit wire name", "[RpcService(Queue = \"café\")] internal interface IÜber { [RpcMethod(\"gruss\")] Task<string> GrüßAsync(string straße); }" },
        { "interface name without the I prefix", "[RpcService] internal interface Calculator { Task<int> AddAsync(int a, int b); }" },
        { "nested in a struct, a record and a static class", "internal struct S { [RpcService] public interface IA { Task<int> AAsync(); } }\ninternal record R { [RpcService] public interface IB { Task<int> BAsync(); } }\ninternal static class C { [RpcService] internal interface IC { Task<int> CAsync(); } }" },
        { "nested in another interface", "internal interface IOuter { [RpcService] interface IInner { Task<int> GetAsync(); } }" },
        { "protected internal nested interface", "internal class Host { [RpcService] protected internal interface IApi { Task<int> GetAsync(); } }" },
        { "tuple, object and dynamic parameters", "[RpcService] internal interface IAny { Task<(int Count, string Name)> PairAsync((int, string) pair); Task<object?> BoxAsync(object? value); Task<dynamic> DynAsync(dynamic value); }" },
        { "method and parameter both named like generated locals", "[RpcService] internal interface IShadow { Task<int> RequestAsync(int request, int request_, CancellationToken cancellationToken); }" },
        { "base interface from another assembly", "[RpcService] internal interface IClosable : IAsyncDisposable { Task<int> CountAsync(); }" },
    };

    [Theory]
    [MemberData(nameof(CleanShapes))]
    public void Generates_code_that_compiles_warning_free(string shape, string source)
    {
        var run = GeneratorHarness.Run(new SourceFile("Shape.cs", Usings + source));
        Assert.True(run.GeneratedSources.Count > 0, shape + ": nothing generated");
        run.AssertCleanCompile();
    }

    [Fact]
    public void A_partial_interface_generates_once_with_the_members_of_every_part()
    {
        var run = GeneratorHarness.Run(
            new SourceFile("A.cs", Usings + "[RpcService] internal partial interface IPart { Task<int> AAsync(); }"),
            new SourceFile("B.cs", Usings + "internal partial interface IPart { Task<int> BAsync(); }"));

        run.AssertCleanCompile();
        var generated = Assert.Single(run.GeneratedSources).SourceText.ToString();
        Assert.Contains("AAsync()", generated);
        Assert.Contains("BAsync()", generated);
    }

    [Fact]
    public void RpcService_on_two_parts_of_a_partial_interface_leaves_only_the_compilers_error()
    {
        var run = GeneratorHarness.Run(
            new SourceFile("A.cs", Usings + "[RpcService] internal partial interface IPart { Task<int> AAsync(); }"),
            new SourceFile("B.cs", Usings + "[RpcService] internal partial interface IPart { Task<int> BAsync(); }"));

        Assert.Empty(run.Exceptions);
        Assert.Single(run.GeneratedSources);
        Assert.Equal(new[] { "CS0579" }, run.CompilationProblems().Select(d => d.Id));
    }

    [Fact]
    public Task A_method_of_a_base_interface_from_another_assembly_is_reported_on_the_service()
    {
        var test = new AnalyzerTest();
        test.TestState.Sources.Add(("Shape.cs", Usings + "[RpcService] internal interface {|#0:IClosable|} : IDisposable { Task<int> CountAsync(); }"));
        test.ExpectedDiagnostics.Add(new Microsoft.CodeAnalysis.Testing.DiagnosticResult("RPCGEN001", Microsoft.CodeAnalysis.DiagnosticSeverity.Error)
            .WithLocation(0)
            .WithMessage("Method 'Dispose' returns 'void': RPC methods must return Task, Task<T>, ValueTask, ValueTask<T> or IAsyncEnumerable<T>; change the return type"));
        return test.RunAsync();
    }

    [Fact]
    public void Generated_files_are_auto_generated_nullable_enabled_and_fully_qualified()
    {
        var run = GeneratorHarness.Run(new SourceFile("Shape.cs", Usings + "namespace Shop { [RpcService] public interface IOrders { Task<int> CountAsync(string customer); } }"));
        var text = Assert.Single(run.GeneratedSources).SourceText.ToString();

        Assert.StartsWith("// <auto-generated/>\n#nullable enable\n", text);
        Assert.Contains("[global::System.CodeDom.Compiler.GeneratedCode(\"RpcGen.Generator\", \"" + typeof(RpcServiceGenerator).Assembly.GetName().Version, text);
        // Every type name the generated code uses outside its own namespace block is global::-qualified.
        foreach (var tree in run.Output.SyntaxTrees.Where(t => t.FilePath.EndsWith(".RpcGen.g.cs", StringComparison.Ordinal)))
        {
            var qualifiedNames = tree.GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.QualifiedNameSyntax>()
                .Where(n => n.Parent is not Microsoft.CodeAnalysis.CSharp.Syntax.QualifiedNameSyntax && n.Parent is not Microsoft.CodeAnalysis.CSharp.Syntax.NamespaceDeclarationSyntax)
                .Select(n => n.ToString()).ToList();
            Assert.NotEmpty(qualifiedNames);
            Assert.All(qualifiedNames, name => Assert.StartsWith("global::", name));
        }
    }
}
