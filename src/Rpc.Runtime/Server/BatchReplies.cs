using System;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RpcGen.Wire;

namespace RpcGen.Server;

/// <summary>
/// The replies to one batch of requests, sent to its caller as batches of replies (docs/wire-format.md, "Batched
/// calls"). Replies ready together go out together: those finished by the time every request of the batch has started
/// form the first message, and each one after that goes out as it finishes, joined by any that finish while a publish
/// is under way. So a slow call never holds back the replies of the fast ones beside it.
/// </summary>
internal sealed class BatchReplies : IDisposable
{
    private readonly object _gate = new();
    private readonly IChannel _channel;
    private readonly string _replyTo;
    private readonly string? _correlationId;
    private PooledBufferWriter _ready = NewBatch();
    private int _count;
    private bool _holding = true;
    private bool _publishing;
    private Task _publisher = Task.CompletedTask;

    /// <param name="channel">The channel the batch was delivered on, where its replies go out (as a lone reply's would).</param>
    /// <param name="replyTo">The batch's reply_to.</param>
    /// <param name="correlationId">The batch's own correlation id, which its reply messages carry.</param>
    public BatchReplies(IChannel channel, string replyTo, string? correlationId)
    {
        _channel = channel;
        _replyTo = replyTo;
        _correlationId = correlationId;
    }

    /// <summary>Adds one call's reply; the body is copied, so the caller may reuse its buffer at once.</summary>
    public void Add(string? correlationId, bool isError, ReadOnlySpan<byte> body)
    {
        lock (_gate)
        {
            CallBatch.WriteReply(_ready, correlationId, isError, body);
            _count++;
        }

        PublishReady();
    }

    /// <summary>Every request of the batch has started: what is ready goes out now, and from here on each reply as it comes.</summary>
    public void StopHolding()
    {
        lock (_gate) _holding = false;
        PublishReady();
    }

    /// <summary>Sends what is left and waits until every reply is out (or the channel is gone, taking the batch with it).</summary>
    public async Task CompleteAsync()
    {
        lock (_gate) _holding = false;
        while (true)
        {
            // Each turn starts a publisher for what is ready, so the loop never waits on a finished one while replies wait.
            PublishReady();
            Task publisher;
            lock (_gate)
            {
                if (!_publishing && _count == 0) return;
                publisher = _publisher;
            }

            await publisher.ConfigureAwait(false);
        }
    }

    private void PublishReady()
    {
        lock (_gate)
        {
            if (_holding || _publishing || _count == 0) return;
            _publishing = true;
            // Started under the lock so that CompleteAsync always finds the publisher it must wait for.
            _publisher = PublishLoopAsync();
        }
    }

    private async Task PublishLoopAsync()
    {
        // Off the lock and off the thread that added the reply: that thread is the handler's, with its own call to finish.
        await Task.Yield();
        while (true)
        {
            PooledBufferWriter batch;
            lock (_gate)
            {
                if (_count == 0)
                {
                    _publishing = false;
                    return;
                }

                batch = _ready;
                _ready = NewBatch();
                _count = 0;
            }

            try
            {
                var properties = new BasicProperties { CorrelationId = _correlationId, ContentType = CallBatch.ContentType };
                // Not mandatory, as a lone reply: a caller that is gone is the broker's to drop.
                await _channel.BasicPublishAsync(WireContract.DefaultExchange, _replyTo, mandatory: false, properties, batch.WrittenMemory)
                    .ConfigureAwait(false);
            }
            catch (Exception e) when (RpcServer.IsChannelGone(e))
            {
                // The batch went with its channel: the broker redelivers it, and every call in it is answered again.
            }
            finally
            {
                batch.Dispose();
            }
        }
    }

    private static PooledBufferWriter NewBatch()
    {
        var writer = new PooledBufferWriter();
        CallBatch.BeginBatch(writer);
        return writer;
    }

    public void Dispose()
    {
        lock (_gate) _ready.Dispose();
    }
}
