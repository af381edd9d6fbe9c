using System.Collections.Concurrent;
using System.Reflection;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace RpcGen.Runtime.Tests.Fakes;

/// <summary>
/// An <see cref="IConnection"/> that makes <see cref="FakeChannel"/>s and reports recovery: what
/// <see cref="RpcGen.Transport.ManagedChannel"/> does with a connection. Any other member throws
/// <see cref="NotSupportedException"/>.
/// </summary>
public class FakeConnection : DispatchProxy
{
    private readonly object _gate = new();
    private readonly ConcurrentQueue<IChannel> _channels = new();
    private AsyncEventHandler<AsyncEventArgs>? _recovered;
    private volatile bool _isOpen = true;
    private int _attempts;

    /// <summary>
    /// Runs before each channel is made (argument: the attempt, 1 for the first) and may wait or throw, as a broker
    /// that is slow or refuses; null: every channel is made at once.
    /// </summary>
    public Func<int, CancellationToken, Task>? BeforeCreate { get; set; }

    /// <summary>How many times a channel was asked for, made or not.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>The channels made, oldest first.</summary>
    public IReadOnlyList<IChannel> Channels => _channels.ToArray();

    public int RecoveryHandlers
    {
        get
        {
            lock (_gate) return _recovered?.GetInvocationList().Length ?? 0;
        }
    }

    public static IConnection Create() => Create<IConnection, FakeConnection>();

    public static FakeConnection Of(IConnection connection) => (FakeConnection)(object)connection;

    /// <summary>The connection goes down (false) or comes back (true) without telling anyone: see <see cref="RecoverAsync"/>.</summary>
    public void SetOpen(bool open) => _isOpen = open;

    /// <summary>Automatic recovery restored the connection.</summary>
    public async Task RecoverAsync()
    {
        _isOpen = true;
        AsyncEventHandler<AsyncEventArgs>? handlers;
        lock (_gate) handlers = _recovered;
        if (handlers is null) return;
        foreach (AsyncEventHandler<AsyncEventArgs> handler in handlers.GetInvocationList()) await handler(this, AsyncEventArgs.Empty);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        switch (targetMethod!.Name)
        {
            case "get_IsOpen":
                return _isOpen;
            case "add_RecoverySucceededAsync":
                lock (_gate) _recovered += (AsyncEventHandler<AsyncEventArgs>)args![0]!;
                return null;
            case "remove_RecoverySucceededAsync":
                lock (_gate) _recovered -= (AsyncEventHandler<AsyncEventArgs>)args![0]!;
                return null;
            case "CreateChannelAsync":
                return CreateChannelAsync((CancellationToken)args![1]!);
            default:
                throw new NotSupportedException($"FakeConnection does not model IConnection.{targetMethod.Name}.");
        }
    }

    private async Task<IChannel> CreateChannelAsync(CancellationToken cancellationToken)
    {
        int attempt = Interlocked.Increment(ref _attempts);
        if (BeforeCreate is { } before) await before(attempt, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        var channel = FakeChannel.Create(_channels.Count + 1);
        _channels.Enqueue(channel);
        return channel;
    }
}
