using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using Xunit;

namespace RpcGen.Generator.Tests.Infrastructure;

/// <summary>
/// The frameworks RpcGen supports, each as the reference assemblies a user's compilation sees: the framework's own and
/// RpcGen.dll built for it (mixing RpcGen for net10.0 with net8.0's System.Runtime is CS1705). The test project's
/// build writes the paths (target WriteCompilationReferences), so nothing is downloaded while the tests run.
/// </summary>
public static class TargetFramework
{
    public const string Net8 = "net8.0";
    public const string Net10 = "net10.0";

    /// <summary>For [MemberData]: every supported framework.</summary>
    public static TheoryData<string> All => new() { Net8, Net10 };

    private static readonly ConcurrentDictionary<string, ImmutableArray<MetadataReference>> s_references = new();

    public static ImmutableArray<MetadataReference> References(string framework) => s_references.GetOrAdd(framework, Load);

    /// <summary>
    /// For the Roslyn testing packages: a ReferenceAssemblies with no package, so it resolves nothing itself and never
    /// reaches for the network; <see cref="Apply"/> adds the real references.
    /// </summary>
    public static ReferenceAssemblies NoPackage(string framework) => new(framework);

    /// <summary>Points a testing-package test at <paramref name="framework"/>'s references.</summary>
    public static void Apply(SolutionState state, string framework)
    {
        state.AdditionalReferences.AddRange(References(framework));
    }

    private static ImmutableArray<MetadataReference> Load(string framework)
    {
        var file = framework == Net10 ? "compilation-references.txt" : $"compilation-references.{framework}.txt";
        var list = Path.Combine(AppContext.BaseDirectory, file);
        if (!File.Exists(list)) throw new InvalidOperationException($"{list} is missing: the test project's build writes it (target WriteCompilationReferences).");
        var paths = File.ReadAllLines(list).Where(line => line.Length > 0).ToList();
        if (!paths.Any(p => Path.GetFileName(p) == "RpcGen.dll")) throw new InvalidOperationException($"{list} does not list RpcGen.dll.");
        if (!paths.Any(p => Path.GetFileName(p) == "System.Runtime.dll")) throw new InvalidOperationException($"{list} does not list the framework reference assemblies.");
        if (!paths.Any(p => p.Contains(framework, StringComparison.Ordinal))) throw new InvalidOperationException($"{list} lists no {framework} assembly.");
        return paths.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
    }
}
