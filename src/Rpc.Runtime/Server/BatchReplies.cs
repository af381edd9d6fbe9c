using System;
using System.Collections.Generic;
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
/// <remarks>
/// A message of replies never grows past what the broker is known to accept (<see cref="Transport.BrokerMessageLimit"/>):
/// the next reply starts a new message instead. A message the broker refuses all the same (a lone reply over its limit)
/// is not sent, and each call in it is answered <c>rpc:too-large</c>, so the batch is settled instead of redelivered.
/// </remarks>
internal sealed class BatchReplies : IDisposable
{
    private readonly object _gate = new();
    private readonly IReplyPublisher _replies;
    private readonly IChannel _channel;
    private readonly string _replyTo;
    private readonly string? _correlationId;
    // Messages full up to the broker's known limit, waiting for the publisher, oldest first.
    private readonly Queue<Message> _full = new();
    private Message _ready = new();
    private bool _holding = true;
    private bool _publishing;
    private Task _publisher = Task.CompletedTask;

    /// <param name="replies">Publishes the messages; its knowledge of the broker's max_message_size bounds each one.</param>
    /// <param name="channel">The channel the batch was delivered on, where its replies go out (as a lone reply's would).</param>
    /// <param name="replyTo">The batch's reply_to.</param>
    /// <param name="correlationId">The batch's own correlation id, which its reply messages carry.</param>
    public BatchReplies(IReplyPublisher replies, IChannel channel, string replyTo, string? correlationId)
    {
        _replies = replies;
        _channel = channel;
        _replyTo = replyTo;
        _correlationId = correlationId;
    }

    /// <summary>Adds one call's reply; the body is copied, so the caller may reuse its buffer at once.</summary>
    public void Add(string? correlationId, string? method, bool isError, ReadOnlySpan<byte> body)
    {
        lock (_gate)
        {
            int size = CallBatch.ReplyOverhead(correlationId) + body.Length;
            if (_ready.Calls.Count > 0 && _replies.MayRefuse(_ready.Body.WrittenCount + size))
            {
                _full.Enqueue(_ready);
                _ready = new Message();
            }

            CallBatch.WriteReply(_ready.Body, correlationId, isError, body);
            _ready.Calls.Add((correlationId, method));
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
                if (!_publishing && !HasReplies) return;
                publisher = _publisher;
            }

            await publisher.ConfigureAwait(false);
        }
    }

    private bool HasReplies => _full.Count > 0 || _ready.Calls.Count > 0;

    private void PublishReady()
    {
        lock (_gate)
        {
            if (_holding || _publishing || !HasReplies) return;
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
            Message message;
            lock (_gate)
            {
                if (!HasReplies)
                {
                    _publishing = false;
                    return;
                }

                if (!_full.TryDequeue(out message!))
                {
                    message = _ready;
                    _ready = new Message();
                }
            }

            try
            {
                var properties = new BasicProperties { CorrelationId = _correlationId, ContentType = CallBatch.ContentType };
                if (!await _replies.TryPublishAsync(_channel, _replyTo, properties, message.Body.WrittenMemory).ConfigureAwait(false))
                {
                    await PublishRefusedAsync(message, properties).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (RpcServer.IsChannelGone(e))
            {
                // The batch went with its channel: the broker redelivers it, and every call in it is answered again.
            }
            finally
            {
                message.Dispose();
            }
        }
    }

    /// <summary>The broker refuses the message as too large: each call in it is answered rpc:too-large instead.</summary>
    private async Task PublishRefusedAsync(Message refused, BasicProperties properties)
    {
        using var errors = new Message();
        using var error = new PooledBufferWriter();
        foreach (var (correlationId, method) in refused.Calls)
        {
            var reply = _replies.TooLarge(correlationId, method ?? "?", refused.Body.WrittenCount);
            error.Clear();
            ErrorBody.Write(error, reply.Type, reply.Message, null);
            CallBatch.WriteReply(errors.Body, correlationId, isError: true, error.WrittenSpan);
        }

        // A few hundred bytes per call, far below any broker's limit.
        await _replies.PublishAsync(_channel, _replyTo, properties, errors.Body.WrittenMemory).ConfigureAwait(false);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _ready.Dispose();
            while (_full.TryDequeue(out var message)) message.Dispose();
        }
    }

    /// <summary>One message of replies being gathered, and the calls it answers (to answer them rpc:too-large if refused).</summary>
    private sealed class Message : IDisposable
    {
        public Message()
        {
            CallBatch.BeginBatch(Body);
        }

        public PooledBufferWriter Body { get; } = new();

        public List<(string? CorrelationId, string? Method)> Calls { get; } = new();

        public void Dispose() => Body.Dispose();
    }
}
