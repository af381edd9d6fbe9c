namespace RpcGen.TestServer;

/// <summary>What a worker reports back: which server ran the call, and whether the broker had delivered it before.</summary>
public sealed record WorkResult(int Id, string Server, bool Redelivered);

[RpcService(Queue = "work")]
public interface IWorkService
{
    Task<WorkResult> DoAsync(int id, int delayMilliseconds);
}

/// <summary>Sleeps, then says who it is. Logs each start to stdout so a test knows when a call is in flight.</summary>
public sealed class WorkService : IWorkService
{
    private readonly string _name;
    private readonly bool _log;
    private int _started;

    public WorkService(string name, bool log = false)
    {
        _name = name;
        _log = log;
    }

    public int Started => Volatile.Read(ref _started);

    public async Task<WorkResult> DoAsync(int id, int delayMilliseconds)
    {
        Interlocked.Increment(ref _started);
        if (_log) Console.WriteLine($"begin {id}");
        await Task.Delay(delayMilliseconds);
        return new WorkResult(id, _name, RpcContext.Current?.Redelivered ?? false);
    }
}
