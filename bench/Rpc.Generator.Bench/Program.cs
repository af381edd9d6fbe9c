using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using RpcGen.Generator;
using RpcGen.Generator.Bench;

// Times the RpcGen source generator on a synthetic project, cold and after one-line edits, the way the compiler and
// the IDE run it (CSharpGeneratorDriver, incremental). Not a test: it prints a table for docs/performance.md.
// Usage: dotnet run -c Release --project bench/Rpc.Generator.Bench [-- --services 500 --methods 10 --runs 10]
int services = 500, methods = 10, runs = 10;
for (int i = 0; i + 1 < args.Length; i += 2)
{
    int value = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
    switch (args[i])
    {
        case "--services": services = value; break;
        case "--methods": methods = value; break;
        case "--runs": runs = value; break;
        default: Console.Error.WriteLine($"unknown option {args[i]}; use --services N --methods N --runs N"); return 2;
    }
}

var parseOptions = new CSharpParseOptions(LanguageVersion.Latest, DocumentationMode.Parse);
var references = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "compilation-references.txt"))
    .Where(line => line.Length > 0).Select(path => (MetadataReference)MetadataReference.CreateFromFile(path)).ToImmutableArray();
var project = new SyntheticProject(services, methods);
var trees = project.Files.Select(f => CSharpSyntaxTree.ParseText(f.Text, parseOptions, f.Path)).ToImmutableArray();
var baseCompilation = CSharpCompilation.Create("Bench.Synthetic", trees, references,
    new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

GeneratorDriver NewDriver() => CSharpGeneratorDriver.Create(
    new[] { new RpcServiceGenerator().AsSourceGenerator() }, parseOptions: parseOptions,
    driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: false));

CSharpCompilation Edited(CSharpCompilation compilation, string path, Func<string, int, string> edit, int version)
{
    var old = compilation.SyntaxTrees.Single(t => t.FilePath == path);
    var text = edit(old.GetText().ToString(), version);
    if (text == old.GetText().ToString()) throw new InvalidOperationException($"the edit of {path} changed nothing");
    return compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(text, parseOptions, path));
}

// Sanity: the synthetic project is valid RpcGen input and generates one file per service.
var check = NewDriver().RunGeneratorsAndUpdateCompilation(baseCompilation.Clone(), out var generated, out var generatorDiagnostics).GetRunResult();
if (generatorDiagnostics.Length > 0 || check.GeneratedTrees.Length != services)
{
    Console.Error.WriteLine($"bench: expected {services} generated files and no diagnostics, got {check.GeneratedTrees.Length} and {generatorDiagnostics.Length}: {generatorDiagnostics.FirstOrDefault()}");
    return 1;
}

var errors = generated.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
if (errors.Count > 0)
{
    Console.Error.WriteLine($"bench: the synthetic project does not compile: {errors[0]}");
    return 1;
}

long generatedLines = check.GeneratedTrees.Sum(t => (long)t.GetText().Lines.Count);

var rows = new List<Row>
{
    // A fresh driver on a fresh compilation (same parsed trees, no bound symbols): a clean build, or opening the project.
    Measure("Cold: first run on the project", runs, () => (NewDriver(), baseCompilation.Clone()), (d, c) => d.RunGenerators(c)),
    // Nothing changed: the driver's own cache.
    Measure("Rerun, nothing edited", runs, () => { var c = baseCompilation.Clone(); return (NewDriver().RunGenerators(c), c); }, (d, c) => d.RunGenerators(c)),
};

int version = 0;
foreach (var (name, path, edit) in new (string, string, Func<string, int, string>)[]
{
    ("One-line edit, unrelated file (method body)", SyntheticProject.UnrelatedFile, SyntheticProject.EditUnrelated),
    ("One-line edit, service file (comment)", SyntheticProject.ServiceFile, SyntheticProject.EditServiceComment),
    ("One-line edit, service contract (parameter)", SyntheticProject.ServiceFile, SyntheticProject.EditServiceSignature),
})
{
    rows.Add(Measure(name, runs, () =>
    {
        var before = baseCompilation.Clone();
        var warm = NewDriver().RunGenerators(before);
        return (warm, Edited(before, path, edit, ++version));
    }, (d, c) => d.RunGenerators(c)));
}

Console.WriteLine("## RpcGen generator benchmark");
Console.WriteLine();
Console.WriteLine(Invariant($"Date: {DateTime.UtcNow:yyyy-MM-dd}; machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}; .NET {Environment.Version} (SDK {DotnetVersion()}); Roslyn {typeof(CSharpCompilation).Assembly.GetName().Version}."));
Console.WriteLine(Invariant($"Load average (1, 5, 15 min) at the end: {LoadAverage()} on {Environment.ProcessorCount} cores; other work on the machine widens Min..Max."));
Console.WriteLine(Invariant($"Project: {services} services x {methods} methods ({services * methods} methods, {project.Files.Count} files); generated {check.GeneratedTrees.Length} files, {generatedLines:N0} lines. {runs} timed runs per row after one warm-up."));
Console.WriteLine();
Console.WriteLine("| Scenario | Median | Min | Max | Allocated (median) |");
Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
foreach (var row in rows)
{
    Console.WriteLine(Invariant($"| {row.Name} | {row.Median:0.0} ms | {row.Min:0.0} ms | {row.Max:0.0} ms | {row.AllocatedMedian / (1024.0 * 1024.0):0.0} MB |"));
}

return 0;

static Row Measure(string name, int runs, Func<(GeneratorDriver Driver, CSharpCompilation Compilation)> setup, Func<GeneratorDriver, CSharpCompilation, GeneratorDriver> run)
{
    var times = new List<double>();
    var allocated = new List<long>();
    for (int i = -1; i < runs; i++)
    {
        var (driver, compilation) = setup();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long bytes = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        var result = run(driver, compilation);
        watch.Stop();
        bytes = GC.GetTotalAllocatedBytes(precise: true) - bytes;
        GC.KeepAlive(result.GetRunResult());
        if (i < 0) continue;   // warm-up: JIT and first-use costs
        times.Add(watch.Elapsed.TotalMilliseconds);
        allocated.Add(bytes);
    }

    times.Sort();
    allocated.Sort();
    return new Row(name, times[times.Count / 2], times[0], times[^1], allocated[allocated.Count / 2]);
}

static string DotnetVersion()
{
    try
    {
        using var process = Process.Start(new ProcessStartInfo("dotnet", "--version") { RedirectStandardOutput = true, UseShellExecute = false })!;
        var version = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return version;
    }
    catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
    {
        return "unknown";
    }
}

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

internal sealed record Row(string Name, double Median, double Min, double Max, long AllocatedMedian);
