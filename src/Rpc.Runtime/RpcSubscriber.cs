using System;
using System.Threading.Tasks;

namespace RpcGen;

/// <summary>
/// A running subscription, from <see cref="RpcConnection.SubscribeAsync{TEvents}(TEvents, RpcSubscription, System.Threading.CancellationToken)"/>:
/// it consumes its queue until disposed. Disposing it stops taking events, finishes those in flight (as a server
/// drains) and, for an exclusive subscription, deletes its queue.
/// </summary>
public sealed class RpcSubscriber : IAsyncDisposable
{
    private readonly RpcServer _server;
    private readonly Action<RpcServer> _stopped;

    internal RpcSubscriber(RpcServer server, Action<RpcServer> stopped)
    {
        _server = server;
        _stopped = stopped;
    }

    /// <summary>The queue this subscriber consumes: the subscription's named queue (with its prefix) or the broker's name for an exclusive one.</summary>
    public string Queue => _server.Queue;

    /// <summary>Where events whose handler kept failing, or that can never be handled, are moved (<c>{queue}.dead-letter</c>; <c>{exchange}.dead-letter</c> for an exclusive subscription).</summary>
    public string DeadLetterQueue => _server.DeadLetterQueue;

    /// <summary>Events handled (or given up) since the subscription started.</summary>
    public long Handled => _server.Served;

    /// <summary>Events put back in the queue for another try.</summary>
    public long Retried => _server.Retried;

    /// <summary>Events moved to <see cref="DeadLetterQueue"/>.</summary>
    public long DeadLettered => _server.DeadLettered;

    /// <summary>Events being handled right now.</summary>
    public int InFlight => _server.InFlight;

    /// <summary>Stops the subscription (draining events in flight, up to <see cref="RpcServerOptions.DrainTimeout"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync().ConfigureAwait(false);
        _stopped(_server);
    }
}
