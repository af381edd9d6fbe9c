using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace RpcGen.Generator.Tests.Infrastructure;

/// <summary>One source file of a test compilation.</summary>
public sealed record SourceFile(string Path, string Text);

/// <summary>
/// Runs <see cref="RpcServiceGenerator"/> over in-memory sources the way the compiler does, against the framework
/// reference assemblies and the RpcGen runtime assembly, with the settings of a strict user project: nullable
/// enabled, every warning wave on, warnings as errors, XML documentation checked.
/// </summary>
public static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest, DocumentationMode.Diagnose);

    public static readonly CSharpCompilationOptions CompilationOptions = new(
        OutputKind.DynamicallyLinkedLibrary,
        nullableContextOptions: NullableContextOptions.Enable,
        generalDiagnosticOption: ReportDiagnostic.Error,
        warningLevel: 9999,
        deterministic: true);

    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(LoadReferences);

    /// <summary>The framework reference assemblies and RpcGen.dll (written by the test project's build).</summary>
    public static ImmutableArray<MetadataReference> References => s_references.Value;

    public static CSharpCompilation CreateCompilation(params SourceFile[] sources) =>
        CSharpCompilation.Create(
            "RpcGen.Generator.Tests.Sample",
            sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, ParseOptions, s.Path)),
            References,
            CompilationOptions);

    public static GeneratorDriver CreateDriver(bool trackSteps = false) =>
        CSharpGeneratorDriver.Create(
            new[] { new RpcServiceGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Runs the generator once over <paramref name="sources"/>.</summary>
    public static GeneratorRun Run(params SourceFile[] sources) => Run(CreateCompilation(sources));

    public static GeneratorRun Run(string source) => Run(new SourceFile("Sample.cs", source));

    public static GeneratorRun Run(CSharpCompilation input)
    {
        var driver = CreateDriver().RunGeneratorsAndUpdateCompilation(input, out var output, out var generatorDiagnostics);
        return new GeneratorRun(input, output, driver.GetRunResult(), generatorDiagnostics);
    }

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        var list = Path.Combine(AppContext.BaseDirectory, "compilation-references.txt");
        if (!File.Exists(list)) throw new InvalidOperationException($"{list} is missing: the test project's build writes it (target WriteCompilationReferences).");
        var paths = File.ReadAllLines(list).Where(line => line.Length > 0).ToList();
        if (!paths.Any(p => Path.GetFileName(p) == "RpcGen.dll")) throw new InvalidOperationException($"{list} does not list RpcGen.dll.");
        if (!paths.Any(p => Path.GetFileName(p) == "System.Runtime.dll")) throw new InvalidOperationException($"{list} does not list the framework reference assemblies.");
        return paths.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
    }
}

/// <summary>What one generator run produced.</summary>
public sealed class GeneratorRun
{
    public GeneratorRun(CSharpCompilation input, Compilation output, GeneratorDriverRunResult result, ImmutableArray<Diagnostic> generatorDiagnostics)
    {
        Input = input;
        Output = output;
        Result = result;
        GeneratorDiagnostics = generatorDiagnostics;
    }

    public CSharpCompilation Input { get; }

    /// <summary>The input plus the generated files.</summary>
    public Compilation Output { get; }

    public GeneratorDriverRunResult Result { get; }

    /// <summary>What the generator reported (its own RPCGEN diagnostics, or a crash as CS8785).</summary>
    public ImmutableArray<Diagnostic> GeneratorDiagnostics { get; }

    public IReadOnlyList<GeneratedSourceResult> GeneratedSources =>
        Result.Results.SelectMany(r => r.GeneratedSources).OrderBy(s => s.HintName, StringComparer.Ordinal).ToList();

    /// <summary>Exceptions the generator threw (the driver turns them into a CS8785 warning and drops the output).</summary>
    public IReadOnlyList<Exception> Exceptions => Result.Results.Where(r => r.Exception is not null).Select(r => r.Exception!).ToList();

    /// <summary>Every warning and error of compiling and emitting the input plus the generated code.</summary>
    public IReadOnlyList<Diagnostic> CompilationProblems()
    {
        using var peStream = new MemoryStream();
        var emitted = Output.Emit(peStream);
        return emitted.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
    }

    /// <summary>Fails unless the generator ran without exceptions and diagnostics and the result compiles warning-free.</summary>
    public void AssertCleanCompile()
    {
        if (Exceptions.Count > 0) throw new Xunit.Sdk.XunitException("The generator threw: " + Exceptions[0]);
        var problems = GeneratorDiagnostics.Concat(CompilationProblems()).ToList();
        if (problems.Count > 0)
        {
            throw new Xunit.Sdk.XunitException(
                "Expected no warnings or errors, got:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(Describe)));
        }
    }

    internal static string Describe(Diagnostic diagnostic)
    {
        var span = diagnostic.Location.GetLineSpan();
        var source = diagnostic.Location.SourceTree?.GetText().Lines[span.StartLinePosition.Line].ToString().Trim();
        return $"  {diagnostic.Id} {diagnostic.Severity} at {span.Path}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1}): {diagnostic.GetMessage()}" +
            (source is null ? string.Empty : Environment.NewLine + "      " + source);
    }
}
