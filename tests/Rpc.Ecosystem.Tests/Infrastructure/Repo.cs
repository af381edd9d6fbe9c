using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace RpcGen.Ecosystem.Tests.Infrastructure;

/// <summary>Where the sources are, and a way to run the dotnet CLI on them as a developer would.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Configuration =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    private static string FindRoot()
    {
        var fromBuild = typeof(Repo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "RepoRoot")?.Value;
        if (fromBuild is not null && File.Exists(Path.Combine(fromBuild, "RpcGen.sln"))) return Path.GetFullPath(fromBuild);
        throw new InvalidOperationException($"The repository root '{fromBuild}' recorded at build time has no RpcGen.sln.");
    }

    /// <summary>
    /// A fresh folder under the repository's artifacts/ (ignored by git), deleted by the caller. Builds go here rather
    /// than to the temp folder so that their generated sources sit under the source root and get its path mapping.
    /// </summary>
    public static string NewArtifactsFolder(string name)
    {
        var path = Path.Combine(Root, "artifacts", "tests", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>A fresh folder under the system temp folder, deleted by the caller.</summary>
    public static string NewTempFolder(string name)
    {
        var path = Path.Combine(Path.GetTempPath(), "rpcgen-" + name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>
    /// Runs a process to completion (killed after <paramref name="limit"/>, so nothing hangs) and returns its exit code
    /// and combined output. The environment is this process's, minus MSBuild variables a test host may carry.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string fileName, string arguments, string workingDirectory,
        TimeSpan limit, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The test host runs under `dotnet test`; its MSBuild settings must not leak into a nested build.
        foreach (var name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "MSBuildLoadMicrosoftTargetsReadOnly" })
        {
            start.Environment.Remove(name);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        if (environment is not null)
        {
            foreach (var (key, value) in environment) start.Environment[key] = value;
        }

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var deadline = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            lock (output) throw new TimeoutException($"'{fileName} {arguments}' did not finish within {limit}. Output so far:\n{output}");
        }

        process.WaitForExit(); // flushes the asynchronous output readers
        lock (output) return (process.ExitCode, output.ToString());
    }

    public static Task<(int ExitCode, string Output)> DotNetAsync(string arguments, string workingDirectory, TimeSpan limit,
        IDictionary<string, string>? environment = null) =>
        RunAsync("dotnet", arguments, workingDirectory, limit, environment);
}
