using System.Text.RegularExpressions;
using RpcGen.Ecosystem.Tests.Infrastructure;

namespace RpcGen.Ecosystem.Tests;

/// <summary>
/// The hosting sample published trimmed (self-contained, linux-x64) with its JsonSerializerContext: zero warnings
/// from the trimmer and analyzers, and the trimmed binary serves and calls over the real broker.
/// </summary>
public sealed class TrimmingTests
{
    [Fact]
    public async Task The_sample_publishes_trimmed_without_warnings_and_the_trimmed_binary_completes_calls_over_the_broker()
    {
        await using var broker = new TestBroker();
        using var sample = await PublishedSample.PublishAsync("Samples.Hosting", "trimmed", TimeSpan.FromMinutes(8));

        Assert.True(sample.ExitCode == 0, "The trimmed publish failed:\n" + sample.Log);
        Assert.DoesNotMatch(new Regex(@"\bwarning\b", RegexOptions.IgnoreCase), sample.Log);
        Assert.Contains("Optimizing assemblies for size", sample.Log); // the trimmer ran
        Assert.False(File.Exists(Path.Combine(sample.OutputFolder, "System.Private.Xml.dll")), "An untrimmed runtime was published.");
        var runtimeConfig = File.ReadAllText(Path.Combine(sample.OutputFolder, "Samples.Hosting.runtimeconfig.json"));
        Assert.Contains("\"System.Text.Json.JsonSerializer.IsReflectionEnabledByDefault\": false", runtimeConfig);

        broker.Queue("Calculator");
        var run = await sample.RunAsync("Samples.Hosting", broker);

        Assert.True(run.ExitCode == 0, "The trimmed sample failed:\n" + run.Output);
        Assert.Contains("2 + 3 = 5", run.Output);
        Assert.Contains("summary of [1.5, 2.5, 9] = count 3, mean 4.333333333333333, min 1.5, max 9", run.Output);
        Assert.Contains("summary of [] fails on the server, as it should: System.ArgumentException", run.Output);
    }
}
