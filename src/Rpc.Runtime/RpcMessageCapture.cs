using System;

namespace RpcGen;

/// <summary>
/// Makes clients and publishers whose one-way requests and events are captured (handed to an
/// <see cref="IRpcMessageSink"/> as <see cref="RpcOutgoingMessage"/>s) instead of published: what an outbox builds on.
/// Capturing needs no broker: the queue and exchange names, the JSON options, the size limit and the time-to-live
/// come from the options, exactly as a connection with the same options would send them.
/// </summary>
/// <remarks>
/// Only one-way methods and events can be captured: a method with a reply, or a stream, fails with
/// <see cref="NotSupportedException"/> (its reply cannot wait in a store). Captured messages are published with
/// <see cref="RpcConnection.PublishAsync(RpcOutgoingMessage, System.Threading.CancellationToken)"/>.
/// </remarks>
public sealed class RpcMessageCapture
{
    private readonly RpcSettings _settings;

    /// <summary>Captures as a connection opened with <paramref name="options"/> would send (its queue prefix, JSON options, size limit).</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names its class and property.</exception>
    public RpcMessageCapture(RpcConnectionOptions options)
    {
        _settings = RpcSettings.For(options);
    }

    /// <summary>Captures as <paramref name="connection"/> would send.</summary>
    public RpcMessageCapture(RpcConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _settings = connection.Settings;
    }

    /// <summary>Creates a client of <typeparamref name="TService"/> whose one-way methods hand their message to <paramref name="sink"/>.</summary>
    /// <exception cref="InvalidOperationException">No client was generated for <typeparamref name="TService"/>, or it is an [RpcEvents] interface.</exception>
    public TService CreateClient<TService>(IRpcMessageSink sink) where TService : class
    {
        ArgumentNullException.ThrowIfNull(sink);
        var registration = RpcServiceRegistry.Get<TService>();
        if (registration.Descriptor is RpcEventsDescriptor)
        {
            throw new InvalidOperationException($"{typeof(TService).FullName} is an [RpcEvents] interface: capture its events with CreatePublisher<{typeof(TService).Name}>().");
        }

        return registration.CreateClient(RpcConnection.Capturing(RpcInvoker.Capturing(_settings, sink)));
    }

    /// <summary>Creates a publisher of <typeparamref name="TEvents"/> whose events are handed to <paramref name="sink"/>.</summary>
    /// <exception cref="InvalidOperationException">No publisher was generated for <typeparamref name="TEvents"/>, or it is an [RpcService].</exception>
    public TEvents CreatePublisher<TEvents>(IRpcMessageSink sink) where TEvents : class
    {
        ArgumentNullException.ThrowIfNull(sink);
        var registration = RpcServiceRegistry.Get<TEvents>();
        if (registration.Descriptor is not RpcEventsDescriptor)
        {
            throw new InvalidOperationException($"{typeof(TEvents).FullName} is an [RpcService] interface, not [RpcEvents]: capture it with CreateClient.");
        }

        return registration.CreateClient(RpcConnection.Capturing(RpcInvoker.Capturing(_settings, sink)));
    }
}
