using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using RpcGen.Transport;

namespace RpcGen.Client;

/// <summary>
/// Makes sure a service queue exists before one-way work is sent to it, once per queue and connection, so work sent
/// before any server ever ran waits in the durable queue instead of being returned unroutable.
/// </summary>
internal sealed class WorkQueues
{
    private const ushort AccessRefused = 403;
    private const ushort ResourceLocked = 405;
    private const ushort PreconditionFailed = 406;

    private readonly IConnection _connection;
    private readonly RpcSettings _options;
    private readonly ConcurrentDictionary<string, Task> _declared = new(StringComparer.Ordinal);

    private readonly LostQueueDetector? _lostQueues;

    public WorkQueues(IConnection connection, RpcSettings options, LostQueueDetector? lostQueues)
    {
        _connection = connection;
        _options = options;
        _lostQueues = lostQueues;
    }

    public IConnection Connection => _connection;

    public Task EnsureAsync(RpcServiceDescriptor service, string queue, CancellationToken cancellationToken)
    {
        var declared = _declared.GetOrAdd(queue, _ => DeclareAsync(service, queue));
        if (declared.IsCompletedSuccessfully) return Task.CompletedTask;
        return AwaitAsync(declared, queue, cancellationToken);
    }

    /// <summary>
    /// A send to <paramref name="queue"/> came back unroutable: the queue was deleted after it was declared here (an
    /// operator, a script). The next send declares it again, so work waits in it again instead of failing until the
    /// connection is replaced.
    /// </summary>
    public void Forget(string queue) => _declared.TryRemove(queue, out _);

    private async Task AwaitAsync(Task declared, string queue, CancellationToken cancellationToken)
    {
        try
        {
            await declared.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Not remembered: the next send tries again (the connection may be back by then).
            _declared.TryRemove(new(queue, declared));
            throw;
        }
    }

    /// <summary>
    /// On its own short-lived channel: a refused declaration closes the channel it ran on, and the send channel must
    /// live on. A queue that exists with other settings (a plain server's non-durable or exclusive queue, or one a
    /// newer server declared with other arguments) is refused, and that is fine: it exists, so the work is routed.
    /// </summary>
    private async Task DeclareAsync(RpcServiceDescriptor service, string queue)
    {
        try
        {
            await ManagedChannel.WithScratchChannelAsync(_connection, (Work: this, Service: service, Queue: queue),
                static (channel, state) => state.Work.DeclareOnAsync(channel, state.Service, state.Queue)).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.InnerException is OperationInterruptedException inner &&
            inner.ShutdownReason?.ReplyCode is PreconditionFailed or ResourceLocked or AccessRefused)
        {
            // Exists in another shape, or the user may publish but not declare: the mandatory publish tells whether it routes.
        }
    }

    private async Task DeclareOnAsync(IChannel channel, RpcServiceDescriptor service, string queue)
    {
        await QueueDeclarations.DeclareDurableAsync(channel, _options, queue, service.Name, CancellationToken.None,
            singleActiveConsumer: service.Ordered).ConfigureAwait(false);
        _lostQueues?.Declared(queue, again => QueueDeclarations.DeclareDurableAsync(again, _options, queue, service.Name, CancellationToken.None,
            singleActiveConsumer: service.Ordered));
    }
}
