using System.Globalization;
using System.Text.RegularExpressions;
using RpcGen.Ecosystem.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RpcGen.Ecosystem.Tests;

/// <summary>
/// src/Samples.NativeAot published with NativeAOT (PublishAot=true, linux-x64) and warnings as errors: one native
/// executable that serves IInventory and calls every method of it over the real broker. The runtime itself must be
/// marked AOT-compatible, or its own build would not run the analyzers that keep it so.
/// </summary>
public sealed class NativeAotTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("net8.0")]
    [InlineData("net10.0")]
    public async Task The_runtime_is_built_with_the_trim_and_AOT_analyzers_on(string targetFramework)
    {
        var project = Path.Combine(Repo.Root, "src", "Rpc.Runtime", "Rpc.Runtime.csproj");
        var (exitCode, properties) = await Repo.DotNetAsync(
            $"msbuild \"{project}\" -p:TargetFramework={targetFramework} -p:Configuration=Release -nologo " +
            "-getProperty:IsAotCompatible -getProperty:IsTrimmable -getProperty:EnableAotAnalyzer -getProperty:EnableTrimAnalyzer " +
            "-getProperty:EnableSingleFileAnalyzer -getProperty:TreatWarningsAsErrors",
            Repo.Root, TimeSpan.FromMinutes(2));

        Assert.True(exitCode == 0, properties);
        foreach (var name in new[] { "IsAotCompatible", "IsTrimmable", "EnableAotAnalyzer", "EnableTrimAnalyzer", "EnableSingleFileAnalyzer", "TreatWarningsAsErrors" })
        {
            Assert.Matches(new Regex("\"" + name + "\":\\s*\"true\"", RegexOptions.IgnoreCase), properties);
        }
    }

    [Fact]
    public async Task The_sample_publishes_with_NativeAOT_without_warnings_and_the_native_binary_answers_calls_over_the_broker()
    {
        await using var broker = new TestBroker();
        using var sample = await PublishedSample.PublishAsync("Samples.NativeAot", "aot", TimeSpan.FromMinutes(10));

        Assert.True(sample.ExitCode == 0, "The NativeAOT publish failed:\n" + sample.Log);
        Assert.DoesNotMatch(new Regex(@"\bwarning\b", RegexOptions.IgnoreCase), sample.Log);
        Assert.Contains("Generating native code", sample.Log); // ILC ran, not only the trimmer
        var binary = Path.Combine(sample.OutputFolder, "Samples.NativeAot");
        Assert.Equal("\u007fELF"u8.ToArray(), File.ReadAllBytes(binary)[..4]);
        // One native executable: no IL of the app and no runtime beside it to JIT with.
        Assert.False(File.Exists(Path.Combine(sample.OutputFolder, "Samples.NativeAot.dll")), "The app's IL was published beside the binary.");
        Assert.Empty(Directory.GetFiles(sample.OutputFolder, "*.so"));
        var size = new FileInfo(binary).Length;
        output.WriteLine($"native binary: {size:N0} bytes ({size / 1048576.0:F1} MiB)");

        broker.Queue("Inventory");
        var run = await sample.RunAsync("Samples.NativeAot", broker);
        output.WriteLine(run.Output);

        Assert.True(run.ExitCode == 0, "The native sample failed:\n" + run.Output);
        Assert.Contains("store apple 3 = apple 3 at 0.35", run.Output);
        Assert.Contains("count apple = 7", run.Output);
        Assert.Contains("prices = apple 0.35, pear 0.42", run.Output);
        Assert.Contains("count plum fails on the server: System.Collections.Generic.KeyNotFoundException", run.Output);
        // Measured and reported (docs/trimming-and-aot.md), not asserted: timing on a shared CI machine is noise.
        var firstCall = Regex.Match(run.Output, @"first call answered (\d+) ms after process start");
        Assert.True(firstCall.Success, run.Output);
        output.WriteLine("time to first call: " + int.Parse(firstCall.Groups[1].Value, CultureInfo.InvariantCulture) + " ms");
    }
}
