using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using RpcGen.Server;
using RpcGen.Transport;
using RpcGen.Wire;

namespace RpcGen;

// The batch queue (docs/wire-format.md, "Batched calls"; docs/architecture.md, "Who reads batches"): clients publish
// request batches to rpc-batch.{queue}, which only servers that read batches consume, so a plain server of the same
// queue never receives one. A client batches only while that queue has a consumer; a server that stops answers the
// batches left in it and deletes it when it was the last reader, so a later batch comes back to its client (mandatory)
// and is sent again as lone calls.
public sealed partial class RpcServer
{
    private volatile string? _batchConsumerTag;
    private volatile bool _answeringLeftBatches;

    /// <summary>
    /// A server of calls that runs at least <see cref="CallBatch.MinReaderPrefetch"/> at once reads batches; an ordered
    /// service, a subscriber and a server with a smaller prefetch do not. A batch's calls run within the prefetch of the
    /// one server that took it: at a prefetch of 1 (one call at a time, for heavy handlers) a batch of three ran one
    /// after another while lone calls would have gone to three servers (ServerCancellationTests, red with batching on).
    /// </summary>
    private bool ReadsBatches => _subscription is null && !_service.Ordered && Prefetch >= CallBatch.MinReaderPrefetch;

    private string BatchQueue => CallBatch.QueueFor(_queue);

    /// <summary>
    /// On every server channel, after the service queue: the batch queue, declared (idempotent) and consumed with the
    /// same acknowledgements (delivery tags are per channel) and the same prefetch.
    /// </summary>
    private async Task ConsumeBatchesAsync(IChannel channel, RequestConsumer requests, CancellationToken cancellationToken)
    {
        if (!ReadsBatches || _stopping || !await MayReadBatchesAsync(cancellationToken).ConfigureAwait(false)) return;
        await DeclareBatchQueueAsync(channel, cancellationToken).ConfigureAwait(false);
        _batchConsumerTag = await channel.BasicConsumeAsync(BatchQueue, autoAck: false,
            new RequestConsumer(this, channel, requests.Acks, requests.ChannelLost), cancellationToken).ConfigureAwait(false);
    }

    private Task DeclareBatchQueueAsync(IChannel channel, CancellationToken cancellationToken) =>
        channel.QueueDeclareAsync(BatchQueue, durable: false, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-expires"] = CallBatch.QueueExpiresMs }, cancellationToken: cancellationToken);

    private bool? _batchesPermitted;

    /// <summary>
    /// Whether this server's user may declare and consume the batch queue, tried once on a channel of its own (a refusal
    /// closes the channel it happens on). A server whose permissions predate the batch queue (docs/security.md) serves
    /// lone calls only, as a plain server would; its clients learn that nobody reads batches and send none.
    /// </summary>
    private async Task<bool> MayReadBatchesAsync(CancellationToken cancellationToken)
    {
        if (_batchesPermitted is { } known) return known;
        try
        {
            await ManagedChannel.WithScratchChannelAsync(_connection, this, static async (scratch, server) =>
            {
                await server.DeclareBatchQueueAsync(scratch, CancellationToken.None).ConfigureAwait(false);
                // Consumed and cancelled at once; a batch delivered meanwhile goes back to the queue as the channel closes.
                var tag = await scratch.BasicConsumeAsync(server.BatchQueue, autoAck: false, new AsyncDefaultBasicConsumer(scratch)).ConfigureAwait(false);
                await scratch.BasicCancelAsync(tag).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
            _batchesPermitted = true;
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 403)
        {
            Diagnostics.RpcLog.BatchQueueRefused(_options.Loggers.Server, _service.Name, _queue, BatchQueue, e.ShutdownReason.ReplyText);
            _batchesPermitted = false;
        }

        return _batchesPermitted.Value;
    }

    /// <summary>Stops taking batches (stopping: the service queue's consumer is cancelled already).</summary>
    private async Task StopReadingBatchesAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _batchConsumerTag, null) is not { } tag) return;
        try
        {
            var channel = await _channel.ReadyAsync(cancellationToken).ConfigureAwait(false);
            await channel.BasicCancelAsync(tag, noWait: false, CancellationToken.None).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsChannelGone(e) || e is OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Once drained: the last reader deletes the batch queue, but only empty. Batches that came after it stopped reading
    /// (their clients did not know yet) are taken again and answered first, within <see cref="RpcServerOptions.DrainTimeout"/>;
    /// another reader still consuming keeps the queue.
    /// </summary>
    private async Task LeaveBatchQueueAsync(CancellationToken cancellationToken)
    {
        if (!ReadsBatches) return;
        var until = DateTime.UtcNow + _options.DrainTimeout;
        while (!cancellationToken.IsCancellationRequested && await TryDeleteBatchQueueAsync().ConfigureAwait(false) == BatchQueueLeft.NotEmpty
            && DateTime.UtcNow < until)
        {
            _answeringLeftBatches = true;
            try
            {
                var channel = await _channel.ReadyAsync(cancellationToken).ConfigureAwait(false);
                _batchConsumerTag = await channel.BasicConsumeAsync(BatchQueue, autoAck: false,
                    new RequestConsumer(this, channel, _consumer.Acks, _consumer.ChannelLost), cancellationToken).ConfigureAwait(false);
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
                await StopReadingBatchesAsync(cancellationToken).ConfigureAwait(false);
                await _inFlight.WhenIdleAsync(until - DateTime.UtcNow, cancellationToken).ConfigureAwait(false);
                await _consumer.Acks.WhenSentAsync().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsChannelGone(e) || e is OperationCanceledException or TimeoutException)
            {
                return;
            }
            finally
            {
                _answeringLeftBatches = false;
            }
        }
    }

    private enum BatchQueueLeft
    {
        Deleted,
        InUse,
        NotEmpty,
        Failed,
    }

    private async Task<BatchQueueLeft> TryDeleteBatchQueueAsync()
    {
        try
        {
            await ManagedChannel.WithScratchChannelAsync(_connection, BatchQueue,
                static (channel, queue) => channel.QueueDeleteAsync(queue, ifUnused: true, ifEmpty: true)).ConfigureAwait(false);
            return BatchQueueLeft.Deleted;
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            return BatchQueueLeft.Deleted;
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 406)
        {
            // RabbitMQ's words: "... in use" (another reader consumes it) or "... not empty".
            return e.ShutdownReason.ReplyText.Contains("not empty", StringComparison.OrdinalIgnoreCase) ? BatchQueueLeft.NotEmpty : BatchQueueLeft.InUse;
        }
        catch (Exception e) when (IsChannelGone(e) || e is TimeoutException)
        {
            return BatchQueueLeft.Failed;
        }
    }
}
