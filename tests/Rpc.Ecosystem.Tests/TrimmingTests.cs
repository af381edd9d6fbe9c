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
        var folder = Repo.NewArtifactsFolder("trimmed");
        await using var broker = new TestBroker();
        try
        {
            var output = Path.Combine(folder, "out");
            var project = Path.Combine(Repo.Root, "src", "Samples.Hosting", "Samples.Hosting.csproj");
            // Its own artifacts folder: the RID-specific restore and build never touch the working tree's obj folders.
            var publish = await Repo.DotNetAsync(
                $"publish \"{project}\" -c Release -r linux-x64 --artifacts-path \"{Path.Combine(folder, "artifacts")}\" -o \"{output}\" -nologo",
                Repo.Root, TimeSpan.FromMinutes(8));

            Assert.True(publish.ExitCode == 0, "The trimmed publish failed:\n" + publish.Output);
            Assert.DoesNotMatch(new Regex(@"\bwarning\b", RegexOptions.IgnoreCase), publish.Output);
            Assert.Contains("Optimizing assemblies for size", publish.Output); // the trimmer ran
            Assert.False(File.Exists(Path.Combine(output, "System.Private.Xml.dll")), "An untrimmed runtime was published.");
            var runtimeConfig = File.ReadAllText(Path.Combine(output, "Samples.Hosting.runtimeconfig.json"));
            Assert.Contains("\"System.Text.Json.JsonSerializer.IsReflectionEnabledByDefault\": false", runtimeConfig);

            broker.Queue("Calculator");
            var run = await Repo.RunAsync(Path.Combine(output, "Samples.Hosting"), "", folder, TimeSpan.FromMinutes(1), new Dictionary<string, string>
            {
                ["RpcGen__Uri"] = TestBroker.Uri.ToString(),
                ["RpcGen__QueuePrefix"] = broker.Prefix,
            });

            Assert.True(run.ExitCode == 0, "The trimmed sample failed:\n" + run.Output);
            Assert.Contains("2 + 3 = 5", run.Output);
            Assert.Contains("summary of [1.5, 2.5, 9] = count 3, mean 4.333333333333333, min 1.5, max 9", run.Output);
            Assert.Contains("summary of [] fails on the server, as it should: System.ArgumentException", run.Output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
