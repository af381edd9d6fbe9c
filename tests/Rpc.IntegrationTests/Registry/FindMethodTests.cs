using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using RpcGen.Generated;
using RpcGen.Generator;
using Xunit;

namespace RpcGen.IntegrationTests.Registry;

/// <summary>
/// RpcServiceRegistry.FindMethod, which a relay uses to publish a captured message whose contract nothing in the process
/// has used yet: it runs the generated registrations of loaded contracts assemblies, and no other assembly's module
/// initializer.
/// </summary>
public sealed class FindMethodTests
{
    private static readonly Lazy<MetadataReference[]> s_references = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToArray());

    [Fact]
    public void A_contract_nothing_has_used_is_found_and_an_assembly_without_RpcGen_does_not_have_its_initializer_run()
    {
        string flag = "rpcgen-test-initializer-" + Guid.NewGuid().ToString("N");
        Load("NoContracts" + Guid.NewGuid().ToString("N"), $$"""
            namespace NoContracts;
            internal static class Init
            {
                [System.Runtime.CompilerServices.ModuleInitializer]
                internal static void Run() => System.AppContext.SetData("{{flag}}", "ran");
            }
            """);
        string service = "Unused" + Guid.NewGuid().ToString("N")[..8];
        Load("Contracts" + service, $$"""
            using System.Threading.Tasks;
            namespace Contracts;
            [RpcGen.RpcService]
            public interface I{{service}}
            {
                Task<int> PingAsync(int n);
            }
            """);

        var method = RpcServiceRegistry.FindMethod(service, "Ping", "nowhere");

        Assert.NotNull(method);
        Assert.Equal(service, method.Service.Name);
        Assert.Null(AppContext.GetData(flag));
    }

    private static void Load(string assemblyName, string source)
    {
        var compilation = CSharpCompilation.Create(assemblyName,
            new[] { CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest)) },
            s_references.Value, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        CSharpGeneratorDriver.Create(new RpcServiceGenerator()).RunGeneratorsAndUpdateCompilation(compilation, out var generated, out _);
        using var image = new MemoryStream();
        var emitted = generated.Emit(image);
        Assert.True(emitted.Success, string.Join(Environment.NewLine, emitted.Diagnostics));
        image.Position = 0;
        // Loaded, and nothing of it used: its module initializer has not run.
        new AssemblyLoadContext(assemblyName, isCollectible: true).LoadFromStream(image);
    }
}
