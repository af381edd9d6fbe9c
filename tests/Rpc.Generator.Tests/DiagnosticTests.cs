using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using RpcGen.Generator.Diagnostics;
using RpcGen.Generator.Tests.Infrastructure;
using Xunit;

namespace RpcGen.Generator.Tests;

/// <summary>
/// Each rule, through the Roslyn analyzer-testing package with the generator running first as in a build: its id,
/// reported on the offending member ({|#0:marked|} in the source, in the user's own syntax tree), with a message that
/// says what to change; nothing generated for the broken service, and no other warning or error anywhere.
/// </summary>
public sealed partial class DiagnosticTests
{
    // The samples are public interfaces without XML docs; the tests check docs, so the samples opt out like a user could.
    private const string Usings = "#pragma warning disable CS1591\nusing System; using System.Collections.Generic; using System.Threading; using System.Threading.Tasks; using RpcGen;\n";

    [Theory]
    [InlineData("void", "void")]
    [InlineData("int", "int")]
    [InlineData("string", "string")]
    [InlineData("IEnumerable<int>", "System.Collections.Generic.IEnumerable<int>")]
    [InlineData("IAsyncEnumerator<int>", "System.Collections.Generic.IAsyncEnumerator<int>")]
    [InlineData("Task<int>[]", "System.Threading.Tasks.Task<int>[]")]
    [InlineData("IEnumerable<Task>", "System.Collections.Generic.IEnumerable<System.Threading.Tasks.Task>")]
    public Task RPCGEN001_unsupported_return_type(string returnType, string shown) => AssertSingle(
        $$"""
        [RpcService] public interface IShop { Task<int> CountAsync(); {{returnType}} {|#0:Run|}(int x); }
        """,
        "RPCGEN001",
        $"Method 'Run' returns '{shown}': RPC methods must return Task, Task<T>, ValueTask, ValueTask<T> or IAsyncEnumerable<T>; change the return type");

    [Fact]
    public Task RPCGEN002_generic_method() => AssertSingle(
        """
        [RpcService] public interface IShop { Task<T> {|#0:GetAsync|}<T>(int id); }
        """,
        "RPCGEN002",
        "Method 'GetAsync' is generic: the wire format cannot carry type arguments; replace the type parameters with concrete types");

    [Theory]
    [InlineData("ref", "ref")]
    [InlineData("out", "out")]
    [InlineData("in", "in")]
    [InlineData("ref readonly", "ref readonly")]
    public Task RPCGEN003_by_reference_parameter(string modifier, string shown) => AssertSingle(
        $$"""
        [RpcService] public interface IShop { Task SaveAsync(int a, {{modifier}} int {|#0:total|}); }
        """,
        "RPCGEN003",
        $"Parameter 'total' of method 'SaveAsync' is passed by reference ({shown}): values cross the network by copy; remove the modifier and return results instead");

    [Fact]
    public Task RPCGEN004_more_than_one_cancellation_token() => AssertSingle(
        """
        [RpcService] public interface IShop { Task SaveAsync(CancellationToken first, int a, CancellationToken {|#0:second|}); }
        """,
        "RPCGEN004",
        "Method 'SaveAsync' has more than one CancellationToken parameter: keep one");

    [Fact]
    public Task RPCGEN005_generic_interface() => AssertSingle(
        """
        [RpcService] public interface {|#0:IRepository|}<T> { Task<T> GetAsync(int id); }
        """,
        "RPCGEN005",
        "Interface 'IRepository' is generic or nested in a generic type: an RPC service needs one concrete contract; remove the type parameters");

    [Fact]
    public Task RPCGEN005_interface_nested_in_a_generic_class() => AssertSingle(
        """
        public static class Holder<T> { [RpcService] public interface {|#0:IStore|} { Task<int> CountAsync(); } }
        """,
        "RPCGEN005",
        "Interface 'IStore' is generic or nested in a generic type: an RPC service needs one concrete contract; remove the type parameters");

    [Theory]
    [InlineData("int {|#0:Count|} { get; }", "'Count' is a property: RPC services may only declare instance methods; replace it with a method such as 'Task<T> GetCountAsync()'")]
    [InlineData("event EventHandler? {|#0:Changed|};", "'Changed' is an event: RPC services may only declare instance methods; remove it; to notify the other side, call a one-way method ([RpcMethod(OneWay = true)]) of a service it serves")]
    [InlineData("string {|#0:this|}[int index] { get; }", "'this[]' is an indexer: RPC services may only declare instance methods; replace it with a method such as 'Task<T> GetAsync(TKey key)'")]
    [InlineData("static abstract Task<int> {|#0:CreateAsync|}();", "'CreateAsync' is a static abstract member: RPC services may only declare instance methods; remove it, or give it a body (static virtual) so the interface can still be used as a type argument")]
    public Task RPCGEN006_property_event_indexer_or_static_abstract_member(string member, string message) => AssertSingle(
        $$"""
        [RpcService] public interface IShop { Task<int> CountAsync(); {{member}} }
        """,
        "RPCGEN006",
        message);

    [Fact]
    public Task RPCGEN007_overloads_without_distinct_wire_names() => AssertSingle(
        """
        [RpcService] public interface IShop { Task<int> FindAsync(int id); Task<int> {|#0:FindAsync|}(string name); }
        """,
        "RPCGEN007",
        "Methods 'FindAsync' and 'FindAsync' both use the wire name 'Find': give one of them a distinct name with [RpcMethod(\"name\")]");

    [Fact]
    public Task RPCGEN007_explicit_wire_names_that_collide() => AssertSingle(
        """
        [RpcService] public interface IShop { [RpcMethod("find")] Task<int> FindAsync(int id); [RpcMethod("find")] Task<int> {|#0:LookupAsync|}(int id); }
        """,
        "RPCGEN007",
        "Methods 'FindAsync' and 'LookupAsync' both use the wire name 'find': give one of them a distinct name with [RpcMethod(\"name\")]");

    [Fact]
    public Task RPCGEN007_same_wire_name_from_two_base_interfaces() => AssertSingle(
        """
        public interface IA { Task<int> {|#0:PingAsync|}(); }
        public interface IB { Task<string> PingAsync(); }
        [RpcService] public interface IShop : IB, IA { }
        """,
        "RPCGEN007",
        "Methods 'PingAsync' and 'PingAsync' both use the wire name 'Ping': give one of them a distinct name with [RpcMethod(\"name\")]");

    [Theory]
    [InlineData("private", "private")]
    [InlineData("protected", "protected")]
    [InlineData("private protected", "protected")]
    public Task RPCGEN008_interface_not_accessible_to_generated_code(string modifier, string shown) => AssertSingle(
        $$"""
        public class Holder { [RpcService] {{modifier}} interface {|#0:IHidden|} { Task<int> CountAsync(); } }
        """,
        "RPCGEN008",
        $"Interface 'IHidden' is {shown}: generated code lives beside the containing type and cannot see it; make it internal or public");

    [Fact]
    public Task RPCGEN008_interface_nested_in_a_private_class() => AssertSingle(
        """
        public class Outer { private class Inner { [RpcService] public interface {|#0:IHidden|} { Task<int> CountAsync(); } } }
        """,
        "RPCGEN008",
        "Interface 'IHidden' is nested in a private type: generated code lives beside the containing type and cannot see it; make it internal or public");

    [Fact]
    public Task RPCGEN008_file_local_interface() => AssertSingle(
        """
        [RpcService] file interface {|#0:IHidden|} { Task<int> CountAsync(); }
        """,
        "RPCGEN008",
        "Interface 'IHidden' is file-local: generated code lives beside the containing type and cannot see it; make it internal or public");

    [Theory]
    [InlineData("", "Queue name '' is invalid: it is empty; give the service a queue name or leave Queue unset")]
    [InlineData("   ", "Queue name '   ' is invalid: it is empty; give the service a queue name or leave Queue unset")]
    [InlineData("amq.orders", "Queue name 'amq.orders' is invalid: names starting with 'amq.' are reserved by RabbitMQ; choose another")]
    [InlineData("my orders", "Queue name 'my orders' is invalid: it contains white space or control characters; remove them")]
    [InlineData("orders\\tv2", "Queue name 'orders\tv2' is invalid: it contains white space or control characters; remove them")]
    public Task RPCGEN009_invalid_queue_name(string queue, string message) => AssertSingle(
        $$"""
        [{|#0:RpcService(Queue = "{{queue}}")|}] public interface IShop { Task<int> CountAsync(); }
        """,
        "RPCGEN009",
        message);

    [Fact]
    public Task RPCGEN009_queue_name_longer_than_255_bytes() => AssertSingle(
        $$"""
        [{|#0:RpcService(Queue = "{{new string('é', 128)}}")|}] public interface IShop { Task<int> CountAsync(); }
        """,
        "RPCGEN009",
        $"Queue name '{new string('é', 128)}' is invalid: it is longer than 255 bytes; shorten it");

    [Theory]
    [InlineData("[RpcMethod(\"\")] Task<int> {|#0:CountAsync|}();", "", "CountAsync")]
    [InlineData("[RpcMethod(\"count items\")] Task<int> {|#0:CountAsync|}();", "count items", "CountAsync")]
    [InlineData("[RpcMethod(\"zählen\")] Task<int> {|#0:CountAsync|}();", "zählen", "CountAsync")]
    [InlineData("Task<int> {|#0:ZählenAsync|}();", "Zählen", "ZählenAsync")]
    public Task RPCGEN010_invalid_method_wire_name(string member, string wireName, string method) => AssertSingle(
        $$"""
        [RpcService] public interface IShop { {{member}} }
        """,
        "RPCGEN010",
        $"Wire name '{wireName}' of method '{method}' is invalid: name it with [RpcMethod(\"name\")] using 1 to 255 ASCII letters, digits, '.', '-' or '_'");

    [Theory]
    [InlineData("Task<int>", "System.Threading.Tasks.Task<int>")]
    [InlineData("ValueTask<string>", "System.Threading.Tasks.ValueTask<string>")]
    [InlineData("IAsyncEnumerable<int>", "System.Collections.Generic.IAsyncEnumerable<int>")]
    public Task RPCGEN011_one_way_method_that_returns_a_value(string returnType, string shown) => AssertSingle(
        $$"""
        [RpcService] public interface IShop { [RpcMethod(OneWay = true)] {{returnType}} {|#0:NotifyAsync|}(string text); }
        """,
        "RPCGEN011",
        $"Method 'NotifyAsync' is marked OneWay but returns '{shown}': a one-way call gets no reply; return Task or ValueTask, or remove OneWay");

    [Theory]
    [InlineData("ReadOnlySpan<int>", "System.ReadOnlySpan<int>", "it is a ref struct, which cannot be serialised or kept across an await; use an array or List<T>")]
    [InlineData("Span<byte>", "System.Span<byte>", "it is a ref struct, which cannot be serialised or kept across an await; use an array or List<T>")]
    [InlineData("int*", "int*", "pointers have no meaning in another process; send the data they point to")]
    [InlineData("delegate*<int, void>", "delegate*<int, void>", "pointers have no meaning in another process; send the data they point to")]
    public Task RPCGEN012_parameter_type_that_cannot_be_sent(string type, string shown, string reason) => AssertSingle(
        $$"""
        [RpcService] public unsafe interface IShop { Task<int> SumAsync(int count, {{type}} {|#0:values|}); }
        """,
        "RPCGEN012",
        $"Parameter 'values' of method 'SumAsync' has type '{shown}': {reason}");

    [Theory]
    [InlineData("Task<int>", "System.Threading.Tasks.Task<int>")]
    [InlineData("ValueTask<string>", "System.Threading.Tasks.ValueTask<string>")]
    [InlineData("IAsyncEnumerable<int>", "System.Collections.Generic.IAsyncEnumerable<int>")]
    public Task RPCGEN020_event_that_returns_a_value(string returnType, string shown) => AssertSingle(
        $$"""
        [RpcEvents] public interface IOrderEvents { {{returnType}} {|#0:OrderPlacedAsync|}(string id); }
        """,
        "RPCGEN020",
        $"Event 'OrderPlacedAsync' returns '{shown}': an event has no reply; return Task or ValueTask, or make it a method of an [RpcService]");

    [Fact]
    public Task RPCGEN021_invalid_exchange_name() => AssertSingle(
        """
        [{|#0:RpcEvents(Exchange = "amq.orders")|}] public interface IOrderEvents { Task OrderPlacedAsync(string id); }
        """,
        "RPCGEN021",
        "Exchange name 'amq.orders' is invalid: names starting with 'amq.' are reserved by RabbitMQ; choose another");

    [Fact]
    public Task RPCGEN022_two_routing_keys() => AssertSingle(
        """
        [RpcEvents] public interface IOrderEvents { Task {|#0:OrderPlacedAsync|}([RpcRoutingKey] string region, [RpcRoutingKey] string kind); }
        """,
        "RPCGEN022",
        "Event 'OrderPlacedAsync' has more than one [RpcRoutingKey] parameter: an event has one routing key; keep one and send the others in the body");

    [Fact]
    public Task RPCGEN023_routing_key_that_is_not_a_string() => AssertSingle(
        """
        [RpcEvents] public interface IOrderEvents { Task {|#0:OrderPlacedAsync|}([RpcRoutingKey] int region, string id); }
        """,
        "RPCGEN023",
        "[RpcRoutingKey] parameter 'region' of event 'OrderPlacedAsync' has type 'int': a routing key is text; make it a string");

    [Fact]
    public Task RPCGEN024_routing_key_on_a_service_method() => AssertSingle(
        """
        [RpcService] public interface IShop { Task {|#0:OrderAsync|}([RpcRoutingKey] string region, string id); }
        """,
        "RPCGEN024",
        "[RpcRoutingKey] parameter 'region' of method 'OrderAsync' is in an [RpcService]: requests are routed by queue; remove [RpcRoutingKey], or declare the interface [RpcEvents]");

    [Fact]
    public Task RPCGEN013_generated_name_clashes_with_an_existing_type() => AssertSingle(
        """
        public sealed class ShopClient { }
        [RpcService] public interface {|#0:IShop|} { Task<int> CountAsync(); }
        """,
        "RPCGEN013",
        "The generated type 'ShopClient' would clash with the existing type 'ShopClient' in the same namespace: rename the interface or that type");

    [Fact]
    public Task RPCGEN014_a_method_without_a_cancellation_token_gets_a_suggestion_that_does_not_stop_generation()
    {
        var test = Test("""
            [RpcService] public interface IShop { Task<int> {|#0:CountAsync|}(string sku); Task SaveAsync(int id, CancellationToken cancellationToken); }
            """);
        test.DisabledDiagnostics.Remove(DiagnosticDescriptors.NoCancellationToken.Id);
        test.ExpectedDiagnostics.Add(new DiagnosticResult("RPCGEN014", DiagnosticSeverity.Info).WithLocation(0).WithMessage(
            "Method 'CountAsync' takes no CancellationToken: callers cannot cancel the call or bound it by their own deadline; add 'CancellationToken cancellationToken = default' (it is not sent, so the wire contract stays the same)"));
        test.TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck; // IShop is generated: a suggestion is no error
        return test.RunAsync();
    }

    [Fact]
    public void RPCGEN014_leaves_the_service_generated()
    {
        var run = GeneratorHarness.Run(new SourceFile("Service.cs", Usings + "[RpcService] public interface IShop { Task<int> CountAsync(string sku); }"));
        run.AssertCleanCompile();
        Assert.Equal("IShop.RpcGen.g.cs", Assert.Single(run.GeneratedSources).HintName);
    }

    private const string JsonUsings = "using System.Text.Json.Serialization;\n";

    [Fact]
    public Task RPCGEN015_every_type_the_json_context_misses_is_named_where_it_is_used()
    {
        var test = Test(JsonUsings + """
            public sealed record Line(string Sku, decimal Price);
            public sealed record Order(int Id, List<Line> Lines);
            [JsonSerializable(typeof(Order))]
            [JsonSerializable(typeof(int))]
            internal abstract partial class ShopJson : JsonSerializerContext { protected ShopJson() : base(null) { } }

            [RpcService(JsonContext = typeof(ShopJson))]
            internal interface IShop
            {
                Task<int> PlaceAsync(Order order, CancellationToken cancellationToken);
                Task<Dictionary<string, decimal>> {|#1:PricesAsync|}(string[] {|#0:skus|});
                Task<decimal> TotalAsync(Line line, int? count);
            }
            """);
        test.ExpectedDiagnostics.Add(Error("RPCGEN015",
            "Type 'string[]' of parameter 'skus' of method 'PricesAsync' is not covered by JSON context 'ShopJson': a trimmed or AOT app would fail at the first call; add [JsonSerializable(typeof(string[]))] to the context"));
        test.ExpectedDiagnostics.Add(new DiagnosticResult("RPCGEN015", DiagnosticSeverity.Error).WithLocation(1).WithMessage(
            "Type 'System.Collections.Generic.Dictionary<string, decimal>' of the result of method 'PricesAsync' is not covered by JSON context 'ShopJson': a trimmed or AOT app would fail at the first call; add [JsonSerializable(typeof(System.Collections.Generic.Dictionary<string, decimal>))] to the context"));
        test.TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck; // a gap fails the build, it does not stop generation
        return test.RunAsync();
    }

    [Fact]
    public Task RPCGEN015_a_context_that_covers_every_type_gives_no_diagnostic()
    {
        var test = Test(JsonUsings + """
            public sealed record Line(string Sku, decimal Price);
            [JsonSerializable(typeof(Line))]
            [JsonSerializable(typeof(Dictionary<string, decimal>))]
            [JsonSerializable(typeof(string[]))]
            internal abstract partial class ShopJson : JsonSerializerContext { protected ShopJson() : base(null) { } }

            [RpcService(JsonContext = typeof(ShopJson))]
            internal interface IShop
            {
                Task<Dictionary<string, decimal>> PricesAsync(string[] skus, CancellationToken cancellationToken);
                Task<decimal> TotalAsync(Line line, decimal? discount, CancellationToken cancellationToken);
                Task ClearAsync(CancellationToken cancellationToken);
            }
            """);
        test.TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
        return test.RunAsync();
    }

    [Fact]
    public Task RPCGEN016_json_context_that_is_not_a_JsonSerializerContext()
    {
        var test = Test("""
            internal sealed class NotAContext { }
            [{|#0:RpcService(JsonContext = typeof(NotAContext))|}] internal interface IShop { Task<int> CountAsync(CancellationToken cancellationToken); }
            """);
        test.ExpectedDiagnostics.Add(Error("RPCGEN016",
            "'NotAContext' given as JsonContext of 'IShop' does not derive from System.Text.Json.Serialization.JsonSerializerContext: give the source-generated context that serialises the contract's types"));
        test.TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
        return test.RunAsync();
    }

    [Fact]
    public Task RPCGEN013_nested_interface_whose_generated_names_equal_a_top_level_services()
    {
        var test = Test(
            """
            public static class Outer { [RpcService] public interface {|#0:IShop|} { Task<int> CountAsync(); } }
            [RpcService] public interface IOuterShop { Task<int> CountAsync(); }
            """);
        test.ExpectedDiagnostics.Add(Error("RPCGEN013",
            "The generated type 'OuterShopClient' would clash with the client generated for interface 'IOuterShop' in the same namespace: rename the interface or that type"));
        test.TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck; // IOuterShop's code: see the next test
        return test.RunAsync();
    }

    [Fact]
    public void RPCGEN013_only_the_top_level_service_of_a_name_clash_is_generated()
    {
        var run = GeneratorHarness.Run(new SourceFile("Service.cs", Usings + """
            public static class Outer { [RpcService] public interface IShop { Task<int> CountAsync(); } }
            [RpcService] public interface IOuterShop { Task<int> CountAsync(); }
            """));
        Assert.Equal("IOuterShop.RpcGen.g.cs", Assert.Single(run.GeneratedSources).HintName);
    }

    [Fact]
    public Task Every_problem_of_a_service_is_reported_at_once_each_on_its_member() => Test(
        """
        [RpcService] public interface IShop
        {
            Task<int> CountAsync();
            void {|RPCGEN001:Reset|}();
            Task<T> {|RPCGEN002:GetAsync|}<T>();
            Task SaveAsync(ref int {|RPCGEN003:total|});
            int {|RPCGEN006:Size|} { get; }
        }
        """).RunAsync();

    [Fact]
    public async Task A_broken_service_does_not_stop_code_for_the_others()
    {
        const string source = """
            [RpcService] public interface IBroken { void {|RPCGEN001:Reset|}(); }
            [RpcService] public interface IFine { Task<int> CountAsync(); }
            public static class Use { public static IFine Create(RpcConnection connection) => new FineClient(connection); }
            """;
        var test = Test(source);
        test.TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
        await test.RunAsync();

        var run = GeneratorHarness.Run(new SourceFile("Service.cs", Usings + source.Replace("{|RPCGEN001:", "").Replace("|}", "")));
        Assert.Equal("IFine.RpcGen.g.cs", Assert.Single(run.GeneratedSources).HintName);
    }

    [Fact]
    public Task RPCGEN017_declared_fault_that_is_not_an_exception() => AssertSingle(
        """
        public sealed class NotAnError { }
        [RpcService] public interface IShop { [{|#0:RpcFault(typeof(NotAnError))|}] Task<int> CountAsync(); }
        """,
        "RPCGEN017",
        "[RpcFault(typeof(NotAnError))] cannot be carried to the caller: it does not derive from System.Exception; declare an exception type");

    [Fact]
    public Task RPCGEN017_declared_fault_the_caller_cannot_build() => AssertSingle(
        """
        public sealed class Opaque : Exception { public Opaque(Guid secret) { } public string Sku => ""; }
        [{|#0:RpcFault(typeof(Opaque))|}] [RpcService] public interface IShop { Task<int> CountAsync(); }
        """,
        "RPCGEN017",
        "[RpcFault(typeof(Opaque))] cannot be carried to the caller: it has no public constructor whose parameters are all named after its public properties (or 'message'); add one, e.g. (string sku, int requested) for properties Sku and Requested");

    [Fact]
    public Task RPCGEN018_negative_timeout() => AssertSingle(
        """
        [RpcService] public interface IShop { [RpcMethod(TimeoutMilliseconds = -5)] Task<int> {|#0:CountAsync|}(); }
        """,
        "RPCGEN018",
        "TimeoutMilliseconds of 'CountAsync' is -5: give a positive number of milliseconds, or 0 for the default");

    [Fact]
    public Task A_diagnostic_lies_in_the_users_tree_so_pragma_disables_it()
    {
        // A diagnostic the generator reported would carry an external location that #pragma cannot reach.
        var test = Test(
            """
            [RpcService] public interface IShop
            {
            #pragma warning disable RPCGEN001
                void Reset();
            #pragma warning restore RPCGEN001
                void {|RPCGEN001:Clear|}();
            }
            """);

        // The package's own check disables every diagnostic at the top of the file; the restore above re-enables it.
        test.TestBehaviors |= TestBehaviors.SkipSuppressionCheck;
        return test.RunAsync();
    }

    [Fact]
    public void Every_rule_has_a_test_a_release_entry_a_docs_section_and_a_help_link_to_it()
    {
        var root = RepositoryRoot();
        var tested = typeof(DiagnosticTests).GetMethods().Select(m => m.Name).Where(n => n.StartsWith("RPCGEN", StringComparison.Ordinal)).Select(n => n[..9]).ToHashSet();
        // Every rule shipped in 1.0; a rule added later is listed as unshipped until its release.
        var releases = File.ReadAllText(Path.Combine(root, "src", "Rpc.Generator", "AnalyzerReleases.Shipped.md"))
            + File.ReadAllText(Path.Combine(root, "src", "Rpc.Generator", "AnalyzerReleases.Unshipped.md"));
        var docs = File.ReadAllText(Path.Combine(root, "docs", "diagnostics.md"));
        // The links go where the build says the repository is, not wherever the generator happens to point.
        var repository = Regex.Match(File.ReadAllText(Path.Combine(root, "Directory.Build.props")), "<RepositoryUrl>(.+)</RepositoryUrl>").Groups[1].Value;
        Assert.StartsWith("https://", repository);

        foreach (var descriptor in DiagnosticDescriptors.All)
        {
            Assert.Contains(descriptor.Id, tested);
            Assert.Matches(new Regex("^" + descriptor.Id + @" \| RpcGen \| " + descriptor.DefaultSeverity + @" \| " + Regex.Escape(descriptor.Title.ToString()) + "$", RegexOptions.Multiline), releases);
            var heading = Regex.Match(docs, "^## (" + descriptor.Id + ": .*)$", RegexOptions.Multiline);
            Assert.True(heading.Success, $"docs/diagnostics.md has no section for {descriptor.Id}");
            Assert.Equal(repository + "/blob/main/docs/diagnostics.md#" + Anchor(heading.Groups[1].Value), descriptor.HelpLinkUri);
            Assert.Equal(ExpectedSeverity(descriptor), descriptor.DefaultSeverity);
        }
    }

    /// <summary>The anchor a Markdown renderer gives a heading: lower case, punctuation dropped, spaces as '-'.</summary>
    private static string Anchor(string heading) =>
        new string(heading.ToLowerInvariant().Where(c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_').ToArray()).Replace(' ', '-');

    private static Task AssertSingle(string source, string id, string message)
    {
        var test = Test(source);
        test.ExpectedDiagnostics.Add(Error(id, message));
        return test.RunAsync();
    }

    private static DiagnosticResult Error(string id, string message) =>
        new DiagnosticResult(id, DiagnosticSeverity.Error).WithLocation(0).WithMessage(message);

    /// <summary>The sample as Service.cs; expects no generated source (a broken service gets none) unless told.</summary>
    private static AnalyzerTest Test(string source)
    {
        var test = new AnalyzerTest();
        test.TestState.Sources.Add(("Service.cs", Usings + source));
        return test;
    }

    private static string RepositoryRoot([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", ".."));
}
