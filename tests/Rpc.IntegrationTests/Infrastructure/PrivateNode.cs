using System.Diagnostics;

namespace RpcGen.IntegrationTests.Infrastructure;

/// <summary>
/// A private RabbitMQ node that tests may kill, stop and restart, started through ./build.sh like the shared one but on
/// its own port and data folder, so they never disturb the broker the other tests share. One runner for the
/// integration tests' FaultBroker and the ecosystem tests' PrivateBroker (this file is linked into both projects).
/// </summary>
public abstract class PrivateNode(int port, string node) : Xunit.IAsyncLifetime
{
    public Uri Uri { get; } = new($"amqp://guest:guest@localhost:{port}/");

    public Task InitializeAsync() => StartAsync();

    public Task DisposeAsync() => StopAsync();

    public Task StartAsync() => Build.RunAsync(Environment(), "broker", "start");

    /// <summary>Kills the Erlang VM (kill -9): connections drop without a close handshake, as in a crash.</summary>
    public Task KillAsync() => Build.RunAsync(Environment(), "broker", "kill");

    public Task StopAsync() => Build.RunAsync(Environment(), "broker", "stop");

    /// <summary>Runs rabbitmqctl against this node.</summary>
    public Task<string> CtlAsync(params string[] args) => Build.RunAsync(Environment(), ["broker", "ctl", .. args]);

    private Dictionary<string, string?> Environment() => new()
    {
        ["RPCGEN_PORT"] = port.ToString(),
        ["RPCGEN_NODE"] = node,
        // build.sh derives these from the port; values exported for the shared node would put this one on its data
        // folder and distribution port.
        ["RPCGEN_DIST_PORT"] = null,
        ["RPCGEN_BROKER_DIR"] = null,
    };
}

/// <summary>
/// The private nodes' ports are fixed numbers plus RPCGEN_TEST_PORT_OFFSET (default 0), and their node names carry the
/// offset, so test runs of two checkouts on one machine do not share a node.
/// </summary>
public static class TestPorts
{
    public static int Offset { get; } = int.TryParse(System.Environment.GetEnvironmentVariable("RPCGEN_TEST_PORT_OFFSET"), out var offset) ? offset : 0;

    public static string Suffix => Offset == 0 ? "" : "-" + Offset;
}

/// <summary>Runs ./build.sh from the repository root.</summary>
public static class Build
{
    public static string RepoRoot { get; } = FindRoot();

    /// <summary>Runs ./build.sh with <paramref name="args"/>; <paramref name="environment"/> sets variables, and unsets those whose value is null.</summary>
    public static async Task<string> RunAsync(Dictionary<string, string?> environment, params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoRoot };
        start.ArgumentList.Add(Path.Combine(RepoRoot, "build.sh"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (key, value) in environment)
        {
            if (value is null) start.Environment.Remove(key);
            else start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"./build.sh {string.Join(' ', args)} did not finish in 3 minutes");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"./build.sh {string.Join(' ', args)} exited with {process.ExitCode}: {await stdout}{await stderr}");
        }

        return await stdout;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RpcGen.sln"))) return dir.FullName;
        }

        throw new InvalidOperationException("RpcGen.sln not found above " + AppContext.BaseDirectory);
    }
}
