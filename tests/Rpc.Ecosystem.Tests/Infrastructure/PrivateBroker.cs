using System.Diagnostics;

namespace RpcGen.Ecosystem.Tests.Infrastructure;

/// <summary>
/// A private RabbitMQ node that tests may kill and restart (started through ./build.sh like the shared one, on its
/// own port and data folder), so the health tests never disturb the broker the other tests share.
/// </summary>
public sealed class PrivateBroker : IAsyncLifetime
{
    /// <summary>5695 (the integration tests' private nodes use 5691-5693), moved by RPCGEN_TEST_PORT_OFFSET.</summary>
    public static int Port { get; } = TestPorts.Offset + 5695;

    public static string Node { get; } = $"rpcgen-eco{TestPorts.Suffix}@localhost";

    public Uri Uri { get; } = new($"amqp://guest:guest@localhost:{Port}/");

    public Task InitializeAsync() => StartAsync();

    public Task DisposeAsync() => StopAsync();

    public Task StartAsync() => RunAsync("broker", "start");

    /// <summary>Kills the Erlang VM (kill -9): connections drop without a close handshake, as in a crash.</summary>
    public Task KillAsync() => RunAsync("broker", "kill");

    public Task StopAsync() => RunAsync("broker", "stop");

    /// <summary>Runs rabbitmqctl against this node.</summary>
    public Task<string> CtlAsync(params string[] args) => RunAsync(["broker", "ctl", .. args]);

    private static async Task<string> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repo.Root };
        start.ArgumentList.Add(Path.Combine(Repo.Root, "build.sh"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["RPCGEN_PORT"] = Port.ToString();
        start.Environment["RPCGEN_NODE"] = Node;
        start.Environment.Remove("RPCGEN_DIST_PORT");
        start.Environment.Remove("RPCGEN_BROKER_DIR");
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
}

[CollectionDefinition(Name)]
public sealed class PrivateBrokerCollection : ICollectionFixture<PrivateBroker>
{
    public const string Name = "private broker";
}

/// <summary>
/// Private nodes' ports are fixed numbers plus RPCGEN_TEST_PORT_OFFSET (default 0), and their node names carry the
/// offset, so test runs of two checkouts on one machine do not share a node.
/// </summary>
public static class TestPorts
{
    public static int Offset { get; } = int.TryParse(Environment.GetEnvironmentVariable("RPCGEN_TEST_PORT_OFFSET"), out var offset) ? offset : 0;

    public static string Suffix => Offset == 0 ? "" : "-" + Offset;
}
