using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RpcGen.Transport;

namespace RpcGen.Client;

/// <summary>
/// Makes sure an events exchange exists before the first event is published to it, once per exchange and connection
/// (durable, of the interface's type, or as its <see cref="RpcExchangeTopology"/> says: <see cref="ExchangeDeclarations"/>). An event no queue is bound for is returned
/// by the broker: <see cref="WorkPublisher"/> logs it (event 2003) and counts it, and fails the publish only when
/// <see cref="RpcClientOptions.FailUnroutableEvents"/> is set.
/// </summary>
internal sealed class EventExchanges
{
    private readonly IConnection _connection;
    private readonly RpcSettings _options;
    private readonly ConcurrentDictionary<string, Task> _exchanges = new(StringComparer.Ordinal);

    public EventExchanges(IConnection connection, RpcSettings options)
    {
        _connection = connection;
        _options = options;
    }

    /// <summary>Declared on a short-lived channel of its own: a refused declaration closes its channel, and the send channel must live on.</summary>
    public Task EnsureAsync(RpcEventsDescriptor service, string exchange, CancellationToken cancellationToken)
    {
        var declared = _exchanges.GetOrAdd(exchange, static (name, state) =>
            ExchangeDeclarations.DeclareOrFindAsync(state.Connection, state.Options, state.Service, name, CancellationToken.None),
            (Connection: _connection, Options: _options, Service: service));
        if (declared.IsCompletedSuccessfully) return Task.CompletedTask;
        return AwaitAsync(declared, exchange, cancellationToken);
    }

    private async Task AwaitAsync(Task declared, string exchange, CancellationToken cancellationToken)
    {
        try
        {
            await declared.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Not remembered: the next publish tries again (the connection may be back by then).
            _exchanges.TryRemove(new(exchange, declared));
            throw;
        }
    }
}
