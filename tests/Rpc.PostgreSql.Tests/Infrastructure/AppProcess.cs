using System.Diagnostics;

namespace RpcGen.PostgreSql.Tests.Infrastructure;

/// <summary>Rpc.PostgreSql.TestApp in its own process, so a test can SIGKILL it like a crash.</summary>
internal sealed class AppProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = new();

    private AppProcess(Process process) => _process = process;

    public static async Task<AppProcess> StartAsync(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Rpc.PostgreSql.TestApp.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        var app = new AppProcess(Process.Start(start)!);
        app._process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (app._lines) app._lines.Add(e.Data); };
        app._process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (app._lines) app._lines.Add("stderr: " + e.Data); };
        app._process.BeginOutputReadLine();
        app._process.BeginErrorReadLine();
        await app.WaitForLineAsync("ready");
        return app;
    }

    public int CountLines(string startingWith)
    {
        lock (_lines) return _lines.Count(l => l.StartsWith(startingWith, StringComparison.Ordinal));
    }

    public bool HasExited => _process.HasExited;

    public async Task WaitForLineAsync(string line, double seconds = 60)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            lock (_lines) if (_lines.Contains(line)) return;
            if (_process.HasExited)
            {
                // Without a timeout, WaitForExit also waits for the output read so far to reach the handlers.
                _process.WaitForExit();
                if (Contains(line)) return;
                throw new InvalidOperationException($"the app exited with {_process.ExitCode} before printing '{line}': {Output()}");
            }

            await Task.Delay(10);
        }

        throw new TimeoutException($"the app did not print '{line}' within {seconds} s: {Output()}");
    }

    public Task WaitForExitAsync() => _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

    /// <summary>SIGKILL: no finally blocks, no flush, no close handshake.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    private bool Contains(string line)
    {
        lock (_lines) return _lines.Contains(line);
    }

    private string Output()
    {
        lock (_lines) return string.Join(" | ", _lines.TakeLast(20));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
