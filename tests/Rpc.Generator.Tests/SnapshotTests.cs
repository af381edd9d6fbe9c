using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.CodeAnalysis.Text;
using RpcGen.Generator.Tests.Infrastructure;
using Xunit;

namespace RpcGen.Generator.Tests;

/// <summary>
/// One snapshot per shape family of the generator issue, for every supported framework. The inputs are the very contracts the integration tests
/// serve over the broker (tests/Rpc.IntegrationTests/Shapes/Contracts), so every snapshotted shape also has a round
/// trip. Each family's generated code must compile warning-free under the strictest settings.
/// Rewrite the expected files with RPCGEN_UPDATE_SNAPSHOTS=1 dotnet test tests/Rpc.Generator.Tests.
/// Each family runs twice: through the in-process harness (line diffs, snapshot updates, warnings as errors) and
/// through the Roslyn testing package's CSharpSourceGeneratorTest against net8.0 and net10.0 references.
/// </summary>
public sealed class SnapshotTests
{
    [Theory]
    [MemberData(nameof(Frameworks))]
    public Task Declarations_global_file_scoped_nested_namespaces_and_nested_in_classes(string framework) => Verify(framework, "Declarations", "GlobalNamespace.cs", "FileScopedNamespace.cs", "NestedNamespaces.cs", "NestedInClasses.cs");

    [Theory]
    [MemberData(nameof(Frameworks))]
    public Task Same_named_interfaces_in_two_namespaces(string framework) => Verify(framework, "SameName", "SameNameTwoNamespaces.cs");

    [Theory]
    [MemberData(nameof(Frameworks))]
    public Task Inherited_methods_a_diamond_a_generic_base_and_shared_signatures(string framework) => Verify(framework, "Inheritance", "Inheritance.cs");

    [Theory]
    [MemberData(nameof(Frameworks))]
    public Task Method_names_a_client_cannot_declare_as_is(string framework) => Verify(framework, "MethodNames", "MethodNames.cs");

    [Theory]
    [MemberData(nameof(Frameworks))]
    public Task Parameter_names_that_are_keywords_or_clash_with_generated_names(string framework) => Verify(framework, "ParameterNames", "ParameterNames.cs");

    [Theory]
    [MemberData(nameof(Frameworks))]
    public Task Parameter_types_defaults_params_and_nullables(string framework) => Verify(framework, "ParameterTypes", "ParameterTypes.cs", "SharedTypes.cs");

    [Theory]
    [MemberData(nameof(Frameworks))]
    public Task User_types_named_like_System_types(string framework) => Verify(framework, "ClashingTypeNames", "ClashingTypeNames.cs");

    [Theory]
    [MemberData(nameof(Frameworks))]
    public Task Return_types(string framework) => Verify(framework, "Returns", "Returns.cs", "SharedTypes.cs");

    [Theory]
    [MemberData(nameof(Frameworks))]
    public Task CancellationToken_anywhere(string framework) => Verify(framework, "CancellationTokens", "CancellationTokens.cs");

    [Theory]
    [MemberData(nameof(Frameworks))]
    public Task Overloads_with_distinct_wire_names(string framework) => Verify(framework, "Overloads", "Overloads.cs");

    [Theory]
    [MemberData(nameof(Frameworks))]
    public Task One_way_methods(string framework) => Verify(framework, "OneWay", "OneWay.cs");

    [Theory]
    [MemberData(nameof(Frameworks))]
    public Task Timeouts_and_declared_faults(string framework) => Verify(framework, "FaultsAndTimeouts", "FaultsAndTimeouts.cs");

    [Theory]
    [MemberData(nameof(Frameworks))]
    public Task Durable_work_time_to_live_and_ordered_services(string framework) => Verify(framework, "DurableWork", "DurableWork.cs");

    [Theory]
    [MemberData(nameof(Frameworks))]
    public Task Events_on_fanout_direct_and_topic_exchanges_with_routing_keys(string framework) => Verify(framework, "Events", "Events.cs");

    [Theory]
    [MemberData(nameof(Frameworks))]
    public Task Streamed_results_of_values_records_and_with_declared_faults(string framework) => Verify(framework, "Streaming", "Streaming.cs");

    public static TheoryData<string> Frameworks => TargetFramework.All;

    [Fact]
    public void No_generated_line_is_wider_than_the_limit()
    {
        var directory = Path.Combine(Path.GetDirectoryName(SourcePath())!, "Snapshots");
        var wide = Directory.GetFiles(directory, "*" + Snapshot.Extension, SearchOption.AllDirectories)
            .SelectMany(path => File.ReadAllLines(path).Select((line, index) => (Path.GetFileName(path), Line: index + 1, line.Length)))
            .Where(line => line.Length > Emitting.ServiceEmitter.MaxLineLength)
            .Select(line => $"{line.Item1}:{line.Line} ({line.Length} characters)")
            .ToList();
        Assert.True(wide.Count == 0, "Lines wider than " + Emitting.ServiceEmitter.MaxLineLength + ":\n" + string.Join("\n", wide));
    }

    private static string SourcePath([CallerFilePath] string path = "") => path;

    private static async Task Verify(string framework, string family, params string[] contractFiles)
    {
        var contracts = contractFiles.Select(name => Contract(name)).ToArray();
        if (framework == TargetFramework.Net10)
        {
            var run = GeneratorHarness.Run(contracts);
            run.AssertCleanCompile();
            Snapshot.Verify(family, run.GeneratedSources.Select(s => (s.HintName, s.SourceText.ToString())));
        }

        var test = new GeneratorTest(framework);
        foreach (var contract in contracts) test.TestState.Sources.Add((contract.Path, contract.Text));
        foreach (var (hintName, text) in Snapshot.Load(family))
        {
            test.TestState.GeneratedSources.Add((typeof(RpcServiceGenerator), hintName, SourceText.From(text, Encoding.UTF8)));
        }

        await test.RunAsync();
    }

    private static SourceFile Contract(string name, [CallerFilePath] string callerPath = "")
    {
        var path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(callerPath)!, "..", "Rpc.IntegrationTests", "Shapes", "Contracts", name));
        return new SourceFile(path, File.ReadAllText(path));
    }
}
