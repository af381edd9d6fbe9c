using System.Text.Json;
using Samples.Fibonacci;
using Samples.Shop;

namespace RpcGen.Cli.Tests.Infrastructure;

/// <summary>
/// The samples' contracts as the AsyncAPI documents rpcgen reads, written once per test run by the same code the samples'
/// "asyncapi DIR" command runs.
/// </summary>
public static class SampleContracts
{
    private static readonly Lazy<string> s_directory = new(Write);

    public static string Directory => s_directory.Value;

    private static string Write()
    {
        var directory = Path.Combine(Path.GetTempPath(), "rpcgen-cli-tests-" + Environment.ProcessId);
        System.IO.Directory.CreateDirectory(directory);
        AsyncApiFiles.Write(directory);
        File.WriteAllText(Path.Combine(directory, "Fibonacci.asyncapi.json"),
            RpcAsyncApi.CreateDocument<IFibonacci>().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(Path.Combine(directory, "FibonacciSequence.asyncapi.json"),
            RpcAsyncApi.CreateDocument<IFibonacciSequence>().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return directory;
    }
}
