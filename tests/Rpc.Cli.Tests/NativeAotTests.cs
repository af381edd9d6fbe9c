using System.Diagnostics;
using RpcGen.Cli.Tests.Infrastructure;
using RpcGen.IntegrationTests.Infrastructure;
using Samples.Fibonacci;

namespace RpcGen.Cli.Tests;

/// <summary>
/// eng/publish-cli.sh: rpcgen as one NativeAOT binary, published with warnings as errors, answering a call and a stream.
/// Heavy (a NativeAOT publish takes minutes on two cores): ./build.sh test leaves it out.
/// </summary>
[Trait("Category", "Heavy")]
public sealed class NativeAotTests
{
    [Fact]
    public async Task The_native_binary_calls_and_streams_like_the_tool()
    {
        var publish = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Build.RepoRoot };
        publish.ArgumentList.Add(Path.Combine(Build.RepoRoot, "eng", "publish-cli.sh"));
        using (var process = Process.Start(publish)!)
        {
            var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, output);
        }

        var binary = Path.Combine(Build.RepoRoot, "artifacts", "cli", "linux-x64", "rpcgen");
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(binary)!, "RpcGen.Cli.dll")), "the IL was published beside the binary");
        await using var broker = new TestBroker();
        var connection = await broker.ConnectAsync();
        await broker.ServeAsync<IFibonacci>(connection, new FibonacciService());
        await broker.ServeAsync<IFibonacciSequence>(connection, new FibonacciSequenceService());
        foreach (var (args, expected) in new[] { (new[] { "call", "Fibonacci.Fib", "30" }, "832040"), (["stream", "FibonacciSequence.Sequence", "{\"count\":5}"], "0\n1\n1\n2\n3") })
        {
            var start = CliProcess.StartInfo(broker.Prefix, null, args);
            start.FileName = binary;
            start.ArgumentList.RemoveAt(0); // the dotnet host's argument: the binary runs alone
            using var process = Process.Start(start)!;
            process.StandardInput.Close();
            var stdout = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, stdout + await process.StandardError.ReadToEndAsync());
            Assert.Equal(expected, stdout.Trim());
        }
    }
}
