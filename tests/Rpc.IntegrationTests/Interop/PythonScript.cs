using System.Diagnostics;
using System.Text;

namespace RpcGen.IntegrationTests.Interop;

/// <summary>
/// One run of a Python script from this folder under Debian's /usr/bin/python3 (which has python3-pika). Output is
/// collected line by line; every wait is bounded, and a script still running when disposed is killed.
/// </summary>
public sealed class PythonScript : IAsyncDisposable
{
    public const string Interpreter = "/usr/bin/python3";

    private readonly Process _process;
    private readonly List<string> _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly string _commandLine;

    private PythonScript(Process process, string commandLine)
    {
        _process = process;
        _commandLine = commandLine;
    }

    /// <summary>Lines the script printed to stdout so far.</summary>
    public IReadOnlyList<string> Output
    {
        get { lock (_stdout) return _stdout.ToArray(); }
    }

    public string Errors
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    /// <summary>The folder holding the scripts: this source folder, found from the test assembly's location.</summary>
    public static string Folder { get; } = Path.Combine(RepositoryRoot(), "tests", "Rpc.IntegrationTests", "Interop");

    public static string PathOf(string script) => Path.Combine(Folder, script);

    public static PythonScript Start(string script, params string[] arguments)
    {
        if (!File.Exists(Interpreter))
        {
            throw new InvalidOperationException($"{Interpreter} is missing; the interop tests need Debian's python3 with python3-pika (./build.sh test installs it).");
        }

        var info = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = Folder,
        };
        info.ArgumentList.Add(PathOf(script));
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        // UTF-8 arguments and output whatever the locale; no __pycache__ in the source tree.
        info.Environment["PYTHONUTF8"] = "1";
        info.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        info.Environment["PYTHONUNBUFFERED"] = "1";

        var process = new Process { StartInfo = info };
        var run = new PythonScript(process, script + " " + string.Join(' ', arguments.Select(a => a.Contains(' ') || a.Length == 0 ? "'" + a + "'" : a)));
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (run._stdout)
            {
                run._stdout.Add(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (run._stderr) run._stderr.AppendLine(e.Data);
        };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return run;
    }

    /// <summary>Runs a script to its end (killing it after <paramref name="timeout"/>) and returns its stdout lines.</summary>
    public static async Task<IReadOnlyList<string>> RunAsync(TimeSpan timeout, string script, params string[] arguments)
    {
        await using var run = Start(script, arguments);
        var exitCode = await run.WaitForExitAsync(timeout);
        if (exitCode != 0) throw new InvalidOperationException(run.Describe($"exited with code {exitCode}"));
        return run.Output;
    }

    /// <summary>Waits until the script prints a line starting with <paramref name="prefix"/>; fails if it exits or takes too long.</summary>
    public async Task WaitForLineAsync(string prefix, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Output.Any(line => line.StartsWith(prefix, StringComparison.Ordinal))) return;
            if (_process.HasExited)
            {
                await WaitForOutputDrainedAsync();
                if (Output.Any(line => line.StartsWith(prefix, StringComparison.Ordinal))) return;
                throw new InvalidOperationException(Describe($"exited before printing '{prefix}'"));
            }

            await Task.Delay(20);
        }

        throw new TimeoutException(Describe($"did not print '{prefix}' within {timeout.TotalSeconds:0.#} s"));
    }

    /// <summary>Waits for the script to exit and returns its exit code; kills it and throws when it takes longer than <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            // Also waits for the last lines of redirected output, which arrive after the exit itself.
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException(Describe($"did not exit within {timeout.TotalSeconds:0.#} s and was killed"));
        }

        return _process.ExitCode;
    }

    public string Describe(string what) =>
        $"python3 {_commandLine} {what}.\n--- stdout ---\n{string.Join('\n', Output)}\n--- stderr ---\n{Errors}";

    private async Task WaitForOutputDrainedAsync()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            // Something else holds the output open; report what arrived.
        }
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Kill();
            await WaitForOutputDrainedAsync();
        }

        _process.Dispose();
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "RpcGen.sln"))) return directory.FullName;
        }

        throw new InvalidOperationException($"No RpcGen.sln above {AppContext.BaseDirectory}: the interop tests run from the source tree.");
    }
}
