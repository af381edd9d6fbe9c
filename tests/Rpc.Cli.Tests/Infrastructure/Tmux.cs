using System.Diagnostics;

namespace RpcGen.Cli.Tests.Infrastructure;

/// <summary>
/// A real terminal: a tmux session on a socket of its own, running one command, read with capture-pane and typed into
/// with send-keys. tmux is installed by ./build.sh test when missing.
/// </summary>
public sealed class Tmux : IDisposable
{
    private const string Socket = "rpcgen-cli-tests";
    private readonly string _session = "t" + Guid.NewGuid().ToString("N")[..8];

    public static Tmux Start(string prefix, Uri broker, params string[] args)
    {
        var start = CliProcess.StartInfo(prefix, broker, args);
        var environment = string.Join(' ', new[] { "RPCGEN_CONTRACTS", "RPCGEN_AMQP", "RPCGEN_QUEUE_PREFIX" }.Select(k => $"{k}='{start.Environment[k]}'"));
        var command = $"env {environment} dotnet {string.Join(' ', start.ArgumentList.Select(a => "'" + a.Replace("'", "'\\''") + "'"))}; echo \"[exit $?]\"; sleep 120";
        var tmux = new Tmux();
        Run("new-session", "-d", "-s", tmux._session, "-x", "160", "-y", "45", command);
        return tmux;
    }

    public string Capture() => Run("capture-pane", "-p", "-t", _session);

    public void SendKeys(params string[] keys) => Run(["send-keys", "-t", _session, .. keys]);

    public async Task<string> WaitForAsync(Func<string, bool> condition, string what, double seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var screen = Capture();
            if (condition(screen)) return screen;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the terminal did not show {what} within {seconds} s; it shows:\n{screen}");
            await Task.Delay(100);
        }
    }

    public void Dispose() => Run("kill-session", "-t", _session);

    private static string Run(params string[] args)
    {
        var start = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-L");
        start.ArgumentList.Add(Socket);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("tmux did not start; ./build.sh test installs it.");
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"tmux {string.Join(' ', args)} failed: {error}");
        return output;
    }
}
