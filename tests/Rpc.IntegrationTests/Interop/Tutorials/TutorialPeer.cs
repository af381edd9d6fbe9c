using System.Diagnostics;
using System.Text;

namespace RpcGen.IntegrationTests.Interop.Tutorials;

/// <summary>The languages of the RabbitMQ tutorials that the peers (README.md beside this file) are written in.</summary>
public enum TutorialLanguage
{
    Python,
    Go,
    Java,
    JavaScript,
    DotNet,
}

/// <summary>
/// One run of a tutorial peer: a process (Python, Go, Java, JavaScript) or, for .NET, a task in this process. Its output
/// is collected line by line; a line can be written to its stdin (the topic publisher waits for one); every wait is
/// bounded, and a run still going when disposed is stopped.
/// </summary>
public abstract class TutorialPeer : IAsyncDisposable
{
    private readonly List<string> _output = new();
    private readonly StringBuilder _errors = new();

    protected TutorialPeer(TutorialLanguage language, string role, IReadOnlyList<string> arguments)
    {
        Language = language;
        Description = $"{language} {role} {string.Join(' ', arguments.Select(a => a.Contains(' ') ? "'" + a + "'" : a))}";
    }

    public TutorialLanguage Language { get; }

    public string Description { get; }

    /// <summary>The lines printed so far.</summary>
    public IReadOnlyList<string> Output
    {
        get { lock (_output) return _output.ToArray(); }
    }

    /// <summary>What the peer printed after <paramref name="prefix"/> on each line that starts with it.</summary>
    public IReadOnlyList<string> LinesAfter(string prefix) =>
        Output.Where(line => line.StartsWith(prefix, StringComparison.Ordinal)).Select(line => line[prefix.Length..]).ToArray();

    public string Errors
    {
        get { lock (_errors) return _errors.ToString(); }
    }

    /// <summary>Starts <paramref name="role"/> (README.md: new_task, worker, emit_log_topic, ...) in <paramref name="language"/>.</summary>
    public static TutorialPeer Start(TutorialLanguage language, string role, params string[] arguments) => language switch
    {
        TutorialLanguage.DotNet => DotNetTutorial.Start(role, arguments),
        _ => ProcessPeer.Launch(language, role, arguments),
    };

    public abstract Task WriteLineAsync(string line);

    /// <summary>Waits until the peer prints a line starting with <paramref name="prefix"/>; fails if it ends first or takes too long.</summary>
    public async Task WaitForLineAsync(string prefix, double seconds = 30)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (Output.Any(line => line.StartsWith(prefix, StringComparison.Ordinal))) return;
            if (HasEnded)
            {
                await WaitForExitAsync(5);
                if (Output.Any(line => line.StartsWith(prefix, StringComparison.Ordinal))) return;
                throw new InvalidOperationException(Describe($"ended before printing '{prefix}'"));
            }

            await Task.Delay(20);
        }

        throw new TimeoutException(Describe($"did not print '{prefix}' within {seconds} s"));
    }

    /// <summary>Waits for the end of the run and throws unless it succeeded.</summary>
    public async Task WaitForSuccessAsync(double seconds = 30)
    {
        int exitCode = await WaitForExitAsync(seconds);
        if (exitCode != 0) throw new InvalidOperationException(Describe($"ended with exit code {exitCode}"));
    }

    /// <summary>The exit code; stops the run and throws <see cref="TimeoutException"/> when it takes longer than <paramref name="seconds"/>.</summary>
    public abstract Task<int> WaitForExitAsync(double seconds);

    protected abstract bool HasEnded { get; }

    public string Describe(string what) =>
        $"{Description} {what}.\n--- stdout ---\n{string.Join('\n', Output)}\n--- stderr ---\n{Errors}";

    protected void AddLine(string line)
    {
        lock (_output) _output.Add(line);
    }

    protected void AddError(string line)
    {
        lock (_errors) _errors.AppendLine(line);
    }

    public abstract ValueTask DisposeAsync();

    /// <summary>A peer in another language, run as a process (compiled once per test run where the language needs it).</summary>
    private sealed class ProcessPeer : TutorialPeer
    {
        private readonly Process _process;

        private ProcessPeer(TutorialLanguage language, string role, IReadOnlyList<string> arguments, Process process) : base(language, role, arguments)
        {
            _process = process;
        }

        public static ProcessPeer Launch(TutorialLanguage language, string role, string[] arguments)
        {
            var (program, leading) = TutorialPrograms.CommandFor(language);
            var info = new ProcessStartInfo(program)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
                StandardOutputEncoding = Encoding.UTF8,
                StandardErrorEncoding = Encoding.UTF8,
                StandardInputEncoding = new UTF8Encoding(false),
                WorkingDirectory = TutorialPrograms.Folder,
            };
            foreach (var argument in leading) info.ArgumentList.Add(argument);
            info.ArgumentList.Add(role);
            foreach (var argument in arguments) info.ArgumentList.Add(argument);
            // UTF-8 arguments and output whatever the machine's locale (Java decodes its arguments by it).
            info.Environment["LC_ALL"] = "C.UTF-8";
            info.Environment["PYTHONUTF8"] = "1";
            info.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
            info.Environment["PYTHONUNBUFFERED"] = "1";

            var process = new Process { StartInfo = info };
            var peer = new ProcessPeer(language, role, arguments, process);
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) peer.AddLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) peer.AddError(e.Data); };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return peer;
        }

        protected override bool HasEnded => _process.HasExited;

        public override async Task WriteLineAsync(string line)
        {
            await _process.StandardInput.WriteLineAsync(line);
            await _process.StandardInput.FlushAsync();
        }

        public override async Task<int> WaitForExitAsync(double seconds)
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
            try
            {
                // Also waits for the last lines of redirected output, which arrive after the exit itself.
                await _process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                Kill();
                throw new TimeoutException(Describe($"did not end within {seconds} s and was killed"));
            }

            return _process.ExitCode;
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

        public override async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                Kill();
                using var drained = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    await _process.WaitForExitAsync(drained.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }

            _process.Dispose();
        }
    }

    /// <summary>A peer run as a task of this process; <see cref="DotNetTutorial"/> gives it its work.</summary>
    internal sealed class InProcess : TutorialPeer
    {
        private readonly TaskCompletionSource<string> _stdin = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenSource _stop = new();
        private Task _run = Task.CompletedTask;

        public InProcess(string role, IReadOnlyList<string> arguments) : base(TutorialLanguage.DotNet, role, arguments)
        {
        }

        public CancellationToken Stopping => _stop.Token;

        public void Say(string line) => AddLine(line);

        public Task<string> ReadLineAsync() => _stdin.Task.WaitAsync(_stop.Token);

        public void Run(Func<Task> work) => _run = Task.Run(work);

        protected override bool HasEnded => _run.IsCompleted;

        public override Task WriteLineAsync(string line)
        {
            _stdin.TrySetResult(line);
            return Task.CompletedTask;
        }

        public override async Task<int> WaitForExitAsync(double seconds)
        {
            try
            {
                await _run.WaitAsync(TimeSpan.FromSeconds(seconds));
                return 0;
            }
            catch (TimeoutException)
            {
                _stop.Cancel();
                throw new TimeoutException(Describe($"did not end within {seconds} s and was stopped"));
            }
            catch (Exception e) when (e is not TimeoutException)
            {
                AddError(e.ToString());
                return 1;
            }
        }

        public override async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            try
            {
                await _run.WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception)
            {
                // Stopped, failed or stuck: the test has read what it needed.
            }

            _stop.Dispose();
        }
    }
}
