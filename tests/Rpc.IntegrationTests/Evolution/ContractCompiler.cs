using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using RpcGen.Generator;

namespace RpcGen.IntegrationTests.Evolution;

/// <summary>
/// Compiles one version of a contract with the RpcGen generator, in memory, and loads it into a load context of its
/// own, so two versions whose types have the same names run side by side in one process as two deployments would.
/// The RpcGen runtime and this test assembly come from the default context and are shared.
/// </summary>
internal static class ContractCompiler
{
    private static readonly Lazy<MetadataReference[]> s_references = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToArray());

    public static IContractPeer Load(string assemblyName, string source)
    {
        var peer = LoadAssembly(assemblyName, source).GetType("Evolution.Peer", throwOnError: true)!;
        return (IContractPeer)Activator.CreateInstance(peer)!;
    }

    /// <summary>Compiles <paramref name="source"/> with the generator and loads it, using nothing of it (its module initializer has not run).</summary>
    public static Assembly LoadAssembly(string assemblyName, string source)
    {
        var compilation = CSharpCompilation.Create(
            assemblyName,
            new[] { CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest), assemblyName + ".cs") },
            s_references.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        CSharpGeneratorDriver.Create(new RpcServiceGenerator()).RunGeneratorsAndUpdateCompilation(compilation, out var generated, out var generatorDiagnostics);

        using var image = new MemoryStream();
        var emitted = generated.Emit(image);
        var problems = generatorDiagnostics.Concat(emitted.Diagnostics).Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        if (!emitted.Success || problems.Count > 0)
        {
            throw new InvalidOperationException($"{assemblyName} does not compile cleanly:{Environment.NewLine}{string.Join(Environment.NewLine, problems)}");
        }

        image.Position = 0;
        var context = new AssemblyLoadContext(assemblyName, isCollectible: true);
        return context.LoadFromStream(image);
    }
}
