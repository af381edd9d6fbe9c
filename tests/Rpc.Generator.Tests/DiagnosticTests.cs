using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using RpcGen.Generator.Diagnostics;
using RpcGen.Generator.Tests.Infrastructure;
using Xunit;

namespace RpcGen.Generator.Tests;

/// <summary>
/// Each rule: its id, reported on the offending member ([|marked|] in the source), with a message that says what to
/// change. The generator never throws, emits nothing for the broken service, and the user's own code still compiles.
/// </summary>
public sealed class DiagnosticTests
{
    // The samples are public interfaces without XML docs; the harness checks docs, so the samples opt out like a user could.
    private const string Usings = "#pragma warning disable CS1591\nusing System; using System.Collections.Generic; using System.Threading; using System.Threading.Tasks; using RpcGen;\n";

    [Theory]
    [InlineData("void", "void")]
    [InlineData("int", "int")]
    [InlineData("string", "string")]
    [InlineData("IAsyncEnumerable<int>", "System.Collections.Generic.IAsyncEnumerable<int>")]
    [InlineData("Task<int>[]", "System.Threading.Tasks.Task<int>[]")]
    [InlineData("IEnumerable<Task>", "System.Collections.Generic.IEnumerable<System.Threading.Tasks.Task>")]
    public void RPCGEN001_unsupported_return_type(string returnType, string shown) => AssertSingle(
        $$"""
        [RpcService] public interface IShop { Task<int> CountAsync(); {{returnType}} [|Run|](int x); }
        """,
        "RPCGEN001",
        $"Method 'Run' returns '{shown}': RPC methods must return Task, Task<T>, ValueTask or ValueTask<T>; change the return type");

    [Fact]
    public void RPCGEN002_generic_method() => AssertSingle(
        """
        [RpcService] public interface IShop { Task<T> [|GetAsync|]<T>(int id); }
        """,
        "RPCGEN002",
        "Method 'GetAsync' is generic: the wire format cannot carry type arguments; replace the type parameters with concrete types");

    [Theory]
    [InlineData("ref", "ref")]
    [InlineData("out", "out")]
    [InlineData("in", "in")]
    [InlineData("ref readonly", "ref readonly")]
    public void RPCGEN003_by_reference_parameter(string modifier, string shown) => AssertSingle(
        $$"""
        [RpcService] public interface IShop { Task SaveAsync(int a, {{modifier}} int [|total|]); }
        """,
        "RPCGEN003",
        $"Parameter 'total' of method 'SaveAsync' is passed by reference ({shown}): values cross the network by copy; remove the modifier and return results instead");

    [Fact]
    public void RPCGEN004_more_than_one_cancellation_token() => AssertSingle(
        """
        [RpcService] public interface IShop { Task SaveAsync(CancellationToken first, int a, CancellationToken [|second|]); }
        """,
        "RPCGEN004",
        "Method 'SaveAsync' has more than one CancellationToken parameter: keep one");

    [Fact]
    public void RPCGEN005_generic_interface() => AssertSingle(
        """
        [RpcService] public interface [|IRepository|]<T> { Task<T> GetAsync(int id); }
        """,
        "RPCGEN005",
        "Interface 'IRepository' is generic or nested in a generic type: an RPC service needs one concrete contract; remove the type parameters");

    [Fact]
    public void RPCGEN005_interface_nested_in_a_generic_class() => AssertSingle(
        """
        public static class Holder<T> { [RpcService] public interface [|IStore|] { Task<int> CountAsync(); } }
        """,
        "RPCGEN005",
        "Interface 'IStore' is generic or nested in a generic type: an RPC service needs one concrete contract; remove the type parameters");

    [Theory]
    [InlineData("int [|Count|] { get; }", "'Count' is a property: RPC services may only declare instance methods; replace it with a method such as 'Task<T> GetCountAsync()'")]
    [InlineData("event EventHandler? [|Changed|];", "'Changed' is an event: RPC services may only declare instance methods; remove it; to notify the other side, call a one-way method ([RpcMethod(OneWay = true)]) of a service it serves")]
    [InlineData("string [|this|][int index] { get; }", "'this[]' is an indexer: RPC services may only declare instance methods; replace it with a method such as 'Task<T> GetAsync(TKey key)'")]
    [InlineData("static abstract Task<int> [|CreateAsync|]();", "'CreateAsync' is a static abstract member: RPC services may only declare instance methods; remove it, or give it a body (static virtual) so the interface can still be used as a type argument")]
    public void RPCGEN006_property_event_indexer_or_static_abstract_member(string member, string message) => AssertSingle(
        $$"""
        [RpcService] public interface IShop { Task<int> CountAsync(); {{member}} }
        """,
        "RPCGEN006",
        message);

    [Fact]
    public void RPCGEN007_overloads_without_distinct_wire_names() => AssertSingle(
        """
        [RpcService] public interface IShop { Task<int> FindAsync(int id); Task<int> [|FindAsync|](string name); }
        """,
        "RPCGEN007",
        "Methods 'FindAsync' and 'FindAsync' both use the wire name 'Find': give one of them a distinct name with [RpcMethod(\"name\")]");

    [Fact]
    public void RPCGEN007_explicit_wire_names_that_collide() => AssertSingle(
        """
        [RpcService] public interface IShop { [RpcMethod("find")] Task<int> FindAsync(int id); [RpcMethod("find")] Task<int> [|LookupAsync|](int id); }
        """,
        "RPCGEN007",
        "Methods 'FindAsync' and 'LookupAsync' both use the wire name 'find': give one of them a distinct name with [RpcMethod(\"name\")]");

    [Fact]
    public void RPCGEN007_same_wire_name_from_two_base_interfaces() => AssertSingle(
        """
        public interface IA { Task<int> [|PingAsync|](); }
        public interface IB { Task<string> PingAsync(); }
        [RpcService] public interface IShop : IB, IA { }
        """,
        "RPCGEN007",
        "Methods 'PingAsync' and 'PingAsync' both use the wire name 'Ping': give one of them a distinct name with [RpcMethod(\"name\")]");

    [Theory]
    [InlineData("private", "private")]
    [InlineData("protected", "protected")]
    [InlineData("private protected", "protected")]
    public void RPCGEN008_interface_not_accessible_to_generated_code(string modifier, string shown) => AssertSingle(
        $$"""
        public class Holder { [RpcService] {{modifier}} interface [|IHidden|] { Task<int> CountAsync(); } }
        """,
        "RPCGEN008",
        $"Interface 'IHidden' is {shown}: generated code lives beside the containing type and cannot see it; make it internal or public");

    [Fact]
    public void RPCGEN008_interface_nested_in_a_private_class() => AssertSingle(
        """
        public class Outer { private class Inner { [RpcService] public interface [|IHidden|] { Task<int> CountAsync(); } } }
        """,
        "RPCGEN008",
        "Interface 'IHidden' is nested in a private type: generated code lives beside the containing type and cannot see it; make it internal or public");

    [Fact]
    public void RPCGEN008_file_local_interface() => AssertSingle(
        """
        [RpcService] file interface [|IHidden|] { Task<int> CountAsync(); }
        """,
        "RPCGEN008",
        "Interface 'IHidden' is file-local: generated code lives beside the containing type and cannot see it; make it internal or public");

    [Theory]
    [InlineData("", "Queue name '' is invalid: it is empty; give the service a queue name or leave Queue unset")]
    [InlineData("   ", "Queue name '   ' is invalid: it is empty; give the service a queue name or leave Queue unset")]
    [InlineData("amq.orders", "Queue name 'amq.orders' is invalid: names starting with 'amq.' are reserved by RabbitMQ; choose another")]
    [InlineData("my orders", "Queue name 'my orders' is invalid: it contains white space or control characters; remove them")]
    [InlineData("orders\\tv2", "Queue name 'orders\tv2' is invalid: it contains white space or control characters; remove them")]
    public void RPCGEN009_invalid_queue_name(string queue, string message) => AssertSingle(
        $$"""
        [[|RpcService(Queue = "{{queue}}")|]] public interface IShop { Task<int> CountAsync(); }
        """,
        "RPCGEN009",
        message);

    [Fact]
    public void RPCGEN009_queue_name_longer_than_255_bytes() => AssertSingle(
        $$"""
        [[|RpcService(Queue = "{{new string('é', 128)}}")|]] public interface IShop { Task<int> CountAsync(); }
        """,
        "RPCGEN009",
        $"Queue name '{new string('é', 128)}' is invalid: it is longer than 255 bytes; shorten it");

    [Theory]
    [InlineData("[RpcMethod(\"\")] Task<int> [|CountAsync|]();", "", "CountAsync")]
    [InlineData("[RpcMethod(\"count items\")] Task<int> [|CountAsync|]();", "count items", "CountAsync")]
    [InlineData("[RpcMethod(\"zählen\")] Task<int> [|CountAsync|]();", "zählen", "CountAsync")]
    [InlineData("Task<int> [|ZählenAsync|]();", "Zählen", "ZählenAsync")]
    public void RPCGEN010_invalid_method_wire_name(string member, string wireName, string method) => AssertSingle(
        $$"""
        [RpcService] public interface IShop { {{member}} }
        """,
        "RPCGEN010",
        $"Wire name '{wireName}' of method '{method}' is invalid: name it with [RpcMethod(\"name\")] using 1 to 255 ASCII letters, digits, '.', '-' or '_'");

    [Theory]
    [InlineData("Task<int>", "System.Threading.Tasks.Task<int>")]
    [InlineData("ValueTask<string>", "System.Threading.Tasks.ValueTask<string>")]
    public void RPCGEN011_one_way_method_that_returns_a_value(string returnType, string shown) => AssertSingle(
        $$"""
        [RpcService] public interface IShop { [RpcMethod(OneWay = true)] {{returnType}} [|NotifyAsync|](string text); }
        """,
        "RPCGEN011",
        $"Method 'NotifyAsync' is marked OneWay but returns '{shown}': a one-way call gets no reply; return Task or ValueTask, or remove OneWay");

    [Theory]
    [InlineData("ReadOnlySpan<int>", "System.ReadOnlySpan<int>", "it is a ref struct, which cannot be serialised or kept across an await; use an array or List<T>")]
    [InlineData("Span<byte>", "System.Span<byte>", "it is a ref struct, which cannot be serialised or kept across an await; use an array or List<T>")]
    [InlineData("int*", "int*", "pointers have no meaning in another process; send the data they point to")]
    [InlineData("delegate*<int, void>", "delegate*<int, void>", "pointers have no meaning in another process; send the data they point to")]
    public void RPCGEN012_parameter_type_that_cannot_be_sent(string type, string shown, string reason) => AssertSingle(
        $$"""
        [RpcService] public unsafe interface IShop { Task<int> SumAsync(int count, {{type}} [|values|]); }
        """,
        "RPCGEN012",
        $"Parameter 'values' of method 'SumAsync' has type '{shown}': {reason}",
        allowUnsafe: true);

    [Fact]
    public void RPCGEN013_generated_name_clashes_with_an_existing_type() => AssertSingle(
        """
        public sealed class ShopClient { }
        [RpcService] public interface [|IShop|] { Task<int> CountAsync(); }
        """,
        "RPCGEN013",
        "The generated type 'ShopClient' would clash with the existing type 'ShopClient' in the same namespace: rename the interface or that type");

    [Fact]
    public void RPCGEN013_nested_interface_whose_generated_names_equal_a_top_level_services()
    {
        var run = RunMarkup(
            """
            public static class Outer { [RpcService] public interface [|IShop|] { Task<int> CountAsync(); } }
            [RpcService] public interface IOuterShop { Task<int> CountAsync(); }
            """,
            out var markup);

        AssertReported(run, markup, "RPCGEN013",
            "The generated type 'OuterShopClient' would clash with the client generated for interface 'IOuterShop' in the same namespace: rename the interface or that type");
        Assert.Equal("IOuterShop.RpcGen.g.cs", Assert.Single(run.GeneratedSources).HintName);
    }

    [Fact]
    public void Every_problem_of_a_service_is_reported_at_once_each_on_its_member()
    {
        var run = RunMarkup(
            """
            [RpcService] public interface IShop
            {
                Task<int> CountAsync();
                void [|Reset|]();
                Task<T> [|GetAsync|]<T>();
                Task SaveAsync(ref int [|total|]);
                int [|Size|] { get; }
            }
            """,
            out var markup);

        Assert.Empty(run.Exceptions);
        Assert.Equal(new[] { "RPCGEN001", "RPCGEN002", "RPCGEN003", "RPCGEN006" }, run.GeneratorDiagnostics.Select(d => d.Id).OrderBy(id => id));
        Assert.Equal(markup.Spans.OrderBy(s => s.Start), run.GeneratorDiagnostics.Select(d => d.Location.SourceSpan).OrderBy(s => s.Start));
        Assert.Empty(run.GeneratedSources);
        Assert.Empty(run.CompilationProblems());
    }

    [Fact]
    public void A_broken_service_does_not_stop_code_for_the_others()
    {
        var run = RunMarkup(
            """
            [RpcService] public interface IBroken { void [|Reset|](); }
            [RpcService] public interface IFine { Task<int> CountAsync(); }
            public static class Use { public static IFine Create(RpcConnection connection) => new FineClient(connection); }
            """,
            out var markup);

        AssertReported(run, markup, "RPCGEN001", "Method 'Reset' returns 'void': RPC methods must return Task, Task<T>, ValueTask or ValueTask<T>; change the return type");
        Assert.Equal("IFine.RpcGen.g.cs", Assert.Single(run.GeneratedSources).HintName);
    }

    [Fact]
    public void RPCGEN020_declared_fault_that_is_not_an_exception() => AssertSingle(
        """
        public sealed class NotAnError { }
        [RpcService] public interface IShop { [[|RpcFault(typeof(NotAnError))|]] Task<int> CountAsync(); }
        """,
        "RPCGEN020",
        "[RpcFault(typeof(NotAnError))] cannot be carried to the caller: it does not derive from System.Exception; declare an exception type");

    [Fact]
    public void RPCGEN020_declared_fault_the_caller_cannot_build() => AssertSingle(
        """
        public sealed class Opaque : Exception { public Opaque(Guid secret) { } public string Sku => ""; }
        [[|RpcFault(typeof(Opaque))|]] [RpcService] public interface IShop { Task<int> CountAsync(); }
        """,
        "RPCGEN020",
        "[RpcFault(typeof(Opaque))] cannot be carried to the caller: it has no public constructor whose parameters are all named after its public properties (or 'message'); add one, e.g. (string sku, int requested) for properties Sku and Requested");

    [Fact]
    public void RPCGEN021_negative_timeout() => AssertSingle(
        """
        [RpcService] public interface IShop { [RpcMethod(TimeoutMilliseconds = -5)] Task<int> [|CountAsync|](); }
        """,
        "RPCGEN021",
        "TimeoutMilliseconds of 'CountAsync' is -5: give a positive number of milliseconds, or 0 for the default");

    [Fact]
    public void Every_rule_has_a_test_a_release_entry_and_a_docs_section()
    {
        var root = RepositoryRoot();
        var tested = typeof(DiagnosticTests).GetMethods().Select(m => m.Name).Where(n => n.StartsWith("RPCGEN", StringComparison.Ordinal)).Select(n => n[..9]).ToHashSet();
        var releases = File.ReadAllText(Path.Combine(root, "src", "Rpc.Generator", "AnalyzerReleases.Unshipped.md"));
        var docs = File.ReadAllText(Path.Combine(root, "docs", "diagnostics.md"));

        foreach (var descriptor in DiagnosticDescriptors.All)
        {
            Assert.Contains(descriptor.Id, tested);
            Assert.Matches(new Regex("^" + descriptor.Id + @" \| RpcGen \| Error \| " + Regex.Escape(descriptor.Title.ToString()) + "$", RegexOptions.Multiline), releases);
            Assert.Matches(new Regex("^## " + descriptor.Id + ": ", RegexOptions.Multiline), docs);
            Assert.Equal(DiagnosticSeverity.Error, descriptor.DefaultSeverity);
        }
    }

    private static void AssertSingle(string source, string id, string message, bool allowUnsafe = false)
    {
        var run = RunMarkup(source, out var markup, allowUnsafe);
        AssertReported(run, markup, id, message);
        Assert.Empty(run.GeneratedSources);
    }

    /// <summary>Exactly one diagnostic, of <paramref name="id"/>, on the marked span, with <paramref name="message"/>; nothing else wrong.</summary>
    private static void AssertReported(GeneratorRun run, Markup markup, string id, string message)
    {
        Assert.Empty(run.Exceptions);
        var diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal("Service.cs", diagnostic.Location.GetLineSpan().Path);
        Assert.Equal(Assert.Single(markup.Spans), diagnostic.Location.SourceSpan);
        Assert.Equal(message, diagnostic.GetMessage(CultureInfo.InvariantCulture));

        // The user's own code compiles: only the generator's diagnostic stands in the way.
        Assert.Empty(run.CompilationProblems());
    }

    private static GeneratorRun RunMarkup(string source, out Markup markup, bool allowUnsafe = false)
    {
        markup = Markup.Parse(Usings + source);
        var compilation = GeneratorHarness.CreateCompilation(new SourceFile("Service.cs", markup.Text));
        if (allowUnsafe) compilation = compilation.WithOptions(compilation.Options.WithAllowUnsafe(true));
        return GeneratorHarness.Run(compilation);
    }

    private static string RepositoryRoot([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", ".."));
}
