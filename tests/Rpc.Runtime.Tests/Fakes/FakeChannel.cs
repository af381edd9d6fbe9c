using System.Reflection;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace RpcGen.Runtime.Tests.Fakes;

/// <summary>
/// An <see cref="IChannel"/> that only opens, closes and disposes: what <see cref="RpcGen.Transport.ManagedChannel"/>
/// does with a channel. Any other member throws <see cref="NotSupportedException"/>, so a test notices when the code
/// under test starts using more of the channel than the fake models.
/// </summary>
public class FakeChannel : DispatchProxy
{
    private readonly object _gate = new();
    private AsyncEventHandler<ShutdownEventArgs>? _shutdown;
    private volatile bool _isOpen = true;
    private int _closeCalls;
    private int _disposeCalls;

    /// <summary>Which channel of its connection this is (1 for the first).</summary>
    public int Number { get; private set; }

    public bool IsOpen => _isOpen;

    /// <summary>How many times the channel was closed on purpose (CloseAsync).</summary>
    public int CloseCalls => Volatile.Read(ref _closeCalls);

    public int DisposeCalls => Volatile.Read(ref _disposeCalls);

    /// <summary>What CloseAsync waits for before it completes; null: it completes at once.</summary>
    public Task? CloseBlocker { get; set; }

    public static IChannel Create(int number)
    {
        var channel = Create<IChannel, FakeChannel>();
        Of(channel).Number = number;
        return channel;
    }

    public static FakeChannel Of(IChannel channel) => (FakeChannel)(object)channel;

    /// <summary>The broker closes the channel (a 406, say) while the connection stays open.</summary>
    public Task CloseByBrokerAsync(ushort replyCode = 406, string replyText = "PRECONDITION_FAILED - test")
    {
        _isOpen = false;
        return RaiseShutdownAsync(new ShutdownEventArgs(ShutdownInitiator.Peer, replyCode, replyText));
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        switch (targetMethod!.Name)
        {
            case "get_IsOpen":
                return _isOpen;
            case "add_ChannelShutdownAsync":
                lock (_gate) _shutdown += (AsyncEventHandler<ShutdownEventArgs>)args![0]!;
                return null;
            case "remove_ChannelShutdownAsync":
                lock (_gate) _shutdown -= (AsyncEventHandler<ShutdownEventArgs>)args![0]!;
                return null;
            case "CloseAsync" when args!.Length == 4:
                return CloseAsync();
            case "Dispose":
                Interlocked.Increment(ref _disposeCalls);
                _isOpen = false;
                return null;
            default:
                throw new NotSupportedException($"FakeChannel does not model IChannel.{targetMethod.Name}.");
        }
    }

    private async Task CloseAsync()
    {
        Interlocked.Increment(ref _closeCalls);
        if (CloseBlocker is { } blocker) await blocker;
        if (!_isOpen) return;
        _isOpen = false;
        // As the library does: a close on purpose is heard as a shutdown the application initiated.
        await RaiseShutdownAsync(new ShutdownEventArgs(ShutdownInitiator.Application, 200, "Goodbye"));
    }

    private async Task RaiseShutdownAsync(ShutdownEventArgs reason)
    {
        AsyncEventHandler<ShutdownEventArgs>? handlers;
        lock (_gate) handlers = _shutdown;
        if (handlers is null) return;
        foreach (AsyncEventHandler<ShutdownEventArgs> handler in handlers.GetInvocationList()) await handler(this, reason);
    }
}
