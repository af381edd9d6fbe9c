using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RpcGen.Diagnostics;

namespace RpcGen.Transport;

/// <summary>
/// What the connection allows right now: whether it is down (lost, automatic recovery not finished) and whether the
/// broker blocks its publishers (<c>connection.blocked</c>). Publishers ask <see cref="Refusal"/> before each publish,
/// so a call fails at once with the reason instead of waiting its whole timeout on a socket the broker stopped reading.
/// </summary>
internal sealed class ConnectionState
{
    private const int Down = 1, Blocked = 2;

    private readonly string _uri;
    private readonly RpcSettings _options;
    private volatile int _flags;
    private volatile string? _downReason;
    private volatile string? _blockedReason;
    private long _blockedAtTimestamp;
    private long _blockedSinceUnixMs;

    public ConnectionState(IConnection connection, RpcSettings options)
    {
        _options = options;
        _uri = AmqpConnector.MaskPassword(options.Uri);
        connection.ConnectionShutdownAsync += OnShutdownAsync;
        // Recovery restores the channels first and their consumers after; this fires once both are back, so no call
        // is published to direct reply-to while its consumer is missing (rabbitmq-dotnet-client #1076).
        connection.RecoverySucceededAsync += OnRecoveredAsync;
        connection.ConnectionBlockedAsync += OnBlockedAsync;
        connection.ConnectionUnblockedAsync += OnUnblockedAsync;
    }

    /// <summary>
    /// The broker started blocking publishers, with its reason. RabbitMQ sends <c>connection.blocked</c> only once the
    /// connection publishes during an alarm, and stops reading it after that publish: calls waiting then get no reply
    /// until the alarm clears (the server's replies are held too), so their owner fails them now.
    /// </summary>
    public event Action<string>? PublishersBlocked;

    /// <summary>Where durable queues declared on this connection are recorded, so a recovery that finds one lost says so; null on an app's own connection.</summary>
    public LostQueueDetector? LostQueues { get; init; }

    /// <summary>True between a lost connection and the end of its recovery.</summary>
    public bool IsDown => (_flags & Down) != 0;

    /// <summary>The broker's reason while it blocks this connection's publishers, otherwise <see langword="null"/>.</summary>
    public string? BlockedReason => (_flags & Blocked) != 0 ? _blockedReason : null;

    /// <summary>When the current block began, or <see langword="null"/>.</summary>
    public DateTimeOffset? BlockedSince =>
        (_flags & Blocked) != 0 ? DateTimeOffset.FromUnixTimeMilliseconds(Interlocked.Read(ref _blockedSinceUnixMs)) : null;

    /// <summary>Why a request to <paramref name="method"/> must not be published now, or <see langword="null"/> (one volatile read when all is well).</summary>
    public RpcConnectionException? Refusal(RpcMethodDescriptor method)
    {
        int flags = _flags;
        if (flags == 0) return null;
        var service = method.Service.Name;
        if ((flags & Down) != 0)
        {
            return new RpcConnectionException(
                $"RPC {service}.{method.WireName}: not connected to RabbitMQ ({_downReason}); the request was not sent.", service, method.WireName);
        }

        var reason = _blockedReason ?? "no reason given";
        return new RpcBrokerBlockedException(
            $"RPC {service}.{method.WireName}: RabbitMQ blocks this connection's publishers ({reason}: a memory or disk alarm); the request was not sent.",
            reason, service, method.WireName);
    }

    private Task OnShutdownAsync(object sender, ShutdownEventArgs reason)
    {
        if (reason.Initiator == ShutdownInitiator.Application) return Task.CompletedTask;
        _downReason = reason.ReplyText;
        Set(Down, on: true);
        // A blocked connection that is lost starts unblocked on the new one.
        Set(Blocked, on: false);
        return Task.CompletedTask;
    }

    private Task OnRecoveredAsync(object sender, AsyncEventArgs args)
    {
        Set(Down, on: false);
        return Task.CompletedTask;
    }

    private Task OnBlockedAsync(object sender, ConnectionBlockedEventArgs args)
    {
        _blockedReason = args.Reason;
        Interlocked.Exchange(ref _blockedAtTimestamp, Stopwatch.GetTimestamp());
        Interlocked.Exchange(ref _blockedSinceUnixMs, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Set(Blocked, on: true);
        RpcLog.PublishersBlocked(_options.Loggers.Connection, _uri, args.Reason);
        PublishersBlocked?.Invoke(args.Reason);
        return Task.CompletedTask;
    }

    private Task OnUnblockedAsync(object sender, AsyncEventArgs args)
    {
        Set(Blocked, on: false);
        var blockedFor = Stopwatch.GetElapsedTime(Interlocked.Read(ref _blockedAtTimestamp));
        RpcLog.PublishersUnblocked(_options.Loggers.Connection, _uri, (long)blockedFor.TotalMilliseconds);
        return Task.CompletedTask;
    }

    private void Set(int flag, bool on)
    {
        int current, next;
        do
        {
            current = _flags;
            next = on ? current | flag : current & ~flag;
        }
        while (Interlocked.CompareExchange(ref _flags, next, current) != current);
    }
}
