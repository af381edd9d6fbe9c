using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RpcGen.Server;
using RpcGen.Server.Requests;
using RpcGen.Wire;

namespace RpcGen;

// One delivery carrying a batch of requests (docs/wire-format.md, "Batched calls"): each request is answered as a lone
// one would be, its reply joins the batch's replies, and HandleAsync settles the delivery once, after the last reply is out.
public sealed partial class RpcServer
{
    /// <summary>
    /// Answers every request of a batch delivery (HandleAsync settles it, as any delivery); false when it must go back
    /// to the queue. A batch that cannot be read is acked unrun.
    /// </summary>
    private async Task<bool> AnswerBatchAsync(RequestConsumer consumer, bool redelivered, string exchange, string routingKey,
        IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body)
    {
        if (RefusesReplyQueue(properties)) return true;
        var requests = new List<CallBatch.Request>();
        if (!CallBatch.TryReadRequests(body, requests, out var error))
        {
            // Acked unrun, so it is not redelivered in a loop; its callers time out (no call id can be trusted).
            Diagnostics.RpcLog.BatchRejected(_options.Loggers.Server, _service.Name, _queue, properties.CorrelationId, body.Length, error);
            return true;
        }

        _counters.BatchAnswered();
        using var replies = new BatchReplies(_replies, consumer.Channel, properties.ReplyTo ?? string.Empty, properties.CorrelationId);
        bool settled = await AnswerAllAsync(consumer, redelivered, exchange, routingKey, properties, requests, replies).ConfigureAwait(false);
        await replies.CompleteAsync().ConfigureAwait(false);
        return settled;
    }

    /// <summary>
    /// Runs the requests of the batch, up to Prefetch at once (an ordered service's one after another); false when one of them must
    /// go back to the queue, which takes the whole batch back (its other calls are answered again: at least once).
    /// </summary>
    private async Task<bool> AnswerAllAsync(RequestConsumer consumer, bool redelivered, string exchange, string routingKey,
        IReadOnlyBasicProperties batch, List<CallBatch.Request> requests, BatchReplies replies)
    {
        var answers = new Task<bool>[requests.Count];
        var slots = BatchSlots;
        var item = _strategies.ForBatch(replies);
        for (int i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            if (_service.Ordered)
            {
                var answer = AnswerAsync(consumer, redelivered, exchange, routingKey, PropertiesOf(batch, request), request.Body, item);
                await ((Task)answer).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                answers[i] = answer;
                continue;
            }

            if (!slots.Wait(0))
            {
                // The rest start as others finish: meanwhile the replies of those finished go out.
                replies.StopHolding();
                await slots.WaitAsync().ConfigureAwait(false);
            }

            answers[i] = AnswerInSlotAsync(consumer, redelivered, exchange, routingKey, PropertiesOf(batch, request), request.Body, item, slots);
        }

        replies.StopHolding();
        bool settled = true;
        foreach (var answer in answers)
        {
            try
            {
                if (!await answer.ConfigureAwait(false)) settled = false;
            }
            catch (Exception e)
            {
                // As for a lone request: logged, and the delivery is still settled.
                Diagnostics.RpcLog.AnswerFailed(_options.Loggers.Server, e, _service.Name, _queue, batch.CorrelationId);
            }
        }

        return settled;
    }

    private async Task<bool> AnswerInSlotAsync(RequestConsumer consumer, bool redelivered, string exchange, string routingKey,
        IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, RequestStrategy item, SemaphoreSlim slots)
    {
        try
        {
            return await AnswerAsync(consumer, redelivered, exchange, routingKey, properties, body, item).ConfigureAwait(false);
        }
        finally
        {
            slots.Release();
        }
    }

    /// <summary>
    /// The batch items this server runs at once, across all batches: Prefetch, as for lone requests. A batch no longer
    /// runs up to 1,024 calls at once, whatever the server's Prefetch (a hostile caller's batch would have).
    /// </summary>
    private SemaphoreSlim BatchSlots => Volatile.Read(ref _batchSlots) ?? LazyInitializer.EnsureInitialized(ref _batchSlots, () => new SemaphoreSlim(Prefetch));

    private SemaphoreSlim? _batchSlots;

    /// <summary>What a lone request with this item's id, method and deadline would carry, from the batch's reply_to and user_id.</summary>
    private static BasicProperties PropertiesOf(IReadOnlyBasicProperties batch, CallBatch.Request request) => new()
    {
        CorrelationId = request.CorrelationId,
        Type = request.Method,
        ReplyTo = batch.ReplyTo,
        UserId = batch.UserId,
        ContentType = WireContract.JsonContentType,
        Headers = request.Deadline != 0 ? new Dictionary<string, object?>(1) { [WireContract.DeadlineHeader] = request.Deadline } : null,
    };
}
