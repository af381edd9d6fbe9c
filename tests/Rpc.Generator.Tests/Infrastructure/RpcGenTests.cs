using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace RpcGen.Generator.Tests.Infrastructure;

/// <summary>
/// The settings every test built on the Roslyn testing packages shares, set once here rather than in each test: the
/// framework's references from the build (no download, no CS1705), and the options of a strict user project (nullable
/// enabled, every warning wave, XML documentation checked).
/// </summary>
internal static class StrictProject
{
    public static void Configure(SolutionState state, List<Func<Solution, ProjectId, Solution>> transforms, string framework)
    {
        TargetFramework.Apply(state, framework);
        transforms.Add((solution, projectId) =>
        {
            var project = solution.GetProject(projectId)!;
            var options = ((CSharpCompilationOptions)project.CompilationOptions!)
                .WithNullableContextOptions(NullableContextOptions.Enable)
                .WithWarningLevel(9999)
                .WithAllowUnsafe(true);
            var parse = ((CSharpParseOptions)project.ParseOptions!).WithLanguageVersion(LanguageVersion.Latest).WithDocumentationMode(DocumentationMode.Diagnose);
            return solution.WithProjectCompilationOptions(projectId, options).WithProjectParseOptions(projectId, parse);
        });
    }
}

/// <summary>
/// The generator under the package's <see cref="CSharpSourceGeneratorTest{TSourceGenerator, TVerifier}"/>: generated
/// sources must equal <c>TestState.GeneratedSources</c>, and the whole compilation must have no warning at all.
/// </summary>
internal sealed class GeneratorTest : CSharpSourceGeneratorTest<RpcServiceGenerator, DefaultVerifier>
{
    public GeneratorTest(string framework)
    {
        ReferenceAssemblies = TargetFramework.NoPackage(framework);
        CompilerDiagnostics = CompilerDiagnostics.Warnings;
        StrictProject.Configure(TestState, SolutionTransforms, framework);
    }
}

/// <summary>
/// The analyzer with the generator running before it, as in a real build: diagnostics are compared with the markup
/// (<c>{|RPCGEN001:Run|}</c>, or <c>{|#0:Run|}</c> with an expected message) and the generated sources with
/// <c>TestState.GeneratedSources</c>.
/// </summary>
internal sealed class AnalyzerTest : CSharpAnalyzerTest<RpcServiceAnalyzer, DefaultVerifier>
{
    public AnalyzerTest(string framework = TargetFramework.Net10)
    {
        // The suggestion to add a CancellationToken would otherwise be expected on nearly every sample method.
        DisabledDiagnostics.Add(RpcGen.Generator.Diagnostics.DiagnosticDescriptors.NoCancellationToken.Id);
        ReferenceAssemblies = TargetFramework.NoPackage(framework);
        CompilerDiagnostics = CompilerDiagnostics.Warnings;
        StrictProject.Configure(TestState, SolutionTransforms, framework);
    }

    protected override IEnumerable<Type> GetSourceGenerators() => new[] { typeof(RpcServiceGenerator) };
}

/// <summary>A code fix of <typeparamref name="TCodeFix"/> for the analyzer's diagnostics, before and after.</summary>
internal sealed class RpcGenCodeFixTest<TCodeFix> : CSharpCodeFixTest<RpcServiceAnalyzer, TCodeFix, DefaultVerifier>
    where TCodeFix : CodeFixProvider, new()
{
    public RpcGenCodeFixTest(string framework = TargetFramework.Net10)
    {
        DisabledDiagnostics.Add(RpcGen.Generator.Diagnostics.DiagnosticDescriptors.NoCancellationToken.Id);
        ReferenceAssemblies = TargetFramework.NoPackage(framework);
        StrictProject.Configure(TestState, SolutionTransforms, framework);
    }

    protected override IEnumerable<Type> GetSourceGenerators() => new[] { typeof(RpcServiceGenerator) };
}
