using System.Runtime.CompilerServices;
using RpcGen.Generator.Tests.Infrastructure;
using Xunit;

namespace RpcGen.Generator.Tests;

/// <summary>
/// One snapshot per shape family of the generator issue. The inputs are the very contracts the integration tests
/// serve over the broker (tests/Rpc.IntegrationTests/Shapes/Contracts), so every snapshotted shape also has a round
/// trip. Each family's generated code must compile warning-free under the strictest settings.
/// Rewrite the expected files with RPCGEN_UPDATE_SNAPSHOTS=1 dotnet test tests/Rpc.Generator.Tests.
/// </summary>
public sealed class SnapshotTests
{
    [Fact]
    public void Declarations_global_file_scoped_nested_namespaces_and_nested_in_classes() =>
        Verify("Declarations", "GlobalNamespace.cs", "FileScopedNamespace.cs", "NestedNamespaces.cs", "NestedInClasses.cs");

    [Fact]
    public void Same_named_interfaces_in_two_namespaces() => Verify("SameName", "SameNameTwoNamespaces.cs");

    [Fact]
    public void Inherited_methods_a_diamond_a_generic_base_and_shared_signatures() => Verify("Inheritance", "Inheritance.cs");

    [Fact]
    public void Method_names_a_client_cannot_declare_as_is() => Verify("MethodNames", "MethodNames.cs");

    [Fact]
    public void Parameter_names_that_are_keywords_or_clash_with_generated_names() => Verify("ParameterNames", "ParameterNames.cs");

    [Fact]
    public void Parameter_types_defaults_params_and_nullables() => Verify("ParameterTypes", "ParameterTypes.cs", "SharedTypes.cs");

    [Fact]
    public void User_types_named_like_System_types() => Verify("ClashingTypeNames", "ClashingTypeNames.cs");

    [Fact]
    public void Return_types() => Verify("Returns", "Returns.cs", "SharedTypes.cs");

    [Fact]
    public void CancellationToken_anywhere() => Verify("CancellationTokens", "CancellationTokens.cs");

    [Fact]
    public void Overloads_with_distinct_wire_names() => Verify("Overloads", "Overloads.cs");

    [Fact]
    public void One_way_methods() => Verify("OneWay", "OneWay.cs");

    [Fact]
    public void Timeouts_and_declared_faults() => Verify("FaultsAndTimeouts", "FaultsAndTimeouts.cs");

    private static void Verify(string family, params string[] contractFiles)
    {
        var run = GeneratorHarness.Run(contractFiles.Select(name => Contract(name)).ToArray());
        run.AssertCleanCompile();
        Snapshot.Verify(family, run.GeneratedSources.Select(s => (s.HintName, s.SourceText.ToString())));
    }

    private static SourceFile Contract(string name, [CallerFilePath] string callerPath = "")
    {
        var path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(callerPath)!, "..", "Rpc.IntegrationTests", "Shapes", "Contracts", name));
        return new SourceFile(path, File.ReadAllText(path));
    }
}
