using System.Text;
using RabbitMQ.Client;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.Wire;
using Xunit;

namespace RpcGen.IntegrationTests.Security;

/// <summary>
/// A batch of replies may complete only the calls of the batch it answers (review finding 8: "batch replies complete
/// any id"). Random ids already keep a server from guessing other calls' ids; this is the rule for a server that knows
/// one anyway (an id leaked through a log, say): answering a batch, it can answer that batch's calls and no other.
/// </summary>
public sealed class BatchReplyTrustTests
{
    [Fact]
    public async Task A_server_answering_a_batch_cannot_complete_a_call_to_another_queue_even_knowing_its_id()
    {
        await using var broker = new TestBroker();
        var queueB = broker.QueueName("trust-b");
        broker.Track(queueB);
        await using var recorderB = await RawAmqp.ConnectAsync();
        var requestsToB = await recorderB.RecordRequestsAsync(queueB);

        var rpc = await broker.ConnectAsync(o => o.Client.BatchCalls = true);
        var victim = rpc.CreateClient<ITrustB>().WhoAsync(7);
        Assert.True(requestsToB.TryTake(out var victimRequest, TimeSpan.FromSeconds(10)), "the call to B never reached B's queue");
        var victimId = victimRequest.CorrelationId!;

        // The hostile server of A knows the victim's id. It answers A's batch with one message naming the victim as if
        // it were a batch of its own, then with the batch's real reply, the victim's item first.
        // It reads A's batches: it consumes A's batch queue, as a server that reads batches does.
        var batchesToA = CallBatch.QueueFor(broker.QueueName("trust-a"));
        broker.Track(batchesToA);
        await using var hostile = await HostileServer.StartAsync(broker, batchesToA, async (server, request) =>
        {
            if (request.Properties.ContentType != CallBatch.ContentType) return;
            var calls = new List<CallBatch.Request>();
            Assert.True(CallBatch.TryReadRequests(request.Body, calls, out var error), error);
            var replyTo = request.Properties.ReplyTo!;
            await server.SendAsync(replyTo, victimId, Batch((victimId, "forged by A")), contentType: CallBatch.ContentType);
            var items = new List<(string, string)> { (victimId, "forged by A") };
            items.AddRange(calls.Select(c => (c.CorrelationId, "A:" + Encoding.UTF8.GetString(c.Body.Span))));
            await server.SendAsync(replyTo, request.Properties.CorrelationId, Batch(items.ToArray()), contentType: CallBatch.ContentType);
        });

        var a = rpc.CreateClient<ITrustA>();
        Task<string> a1, a2;
        using var metrics = new RpcMetrics(rpc.Settings.QueueFor(TrustARpcDescriptor.Service));
        Assert.True(await rpc.Invoker.CheckBatchReadersAsync(TrustARpcDescriptor.Service));
        using (rpc.Invoker.HoldBatches(TrustARpcDescriptor.Service))
        {
            a1 = a.WhoAsync(1);
            a2 = a.WhoAsync(2);
        }

        Assert.Equal(new[] { "A:1", "A:2" }, await Task.WhenAll(a1, a2).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal((1L, 2L), metrics.BatchesSent);
        // Both forged messages came before the one that completed A's calls, on the same consumer, in order.
        if (victim.IsCompleted) Assert.Fail($"the call to B was completed by A's batch reply: {await Outcome(victim)}");

        // Refused and counted (and logged as 2020 ReplyRejected), not merely unmatched.
        Assert.Equal(2, rpc.Invoker.PendingCalls.RejectedReplies);

        // B's own reply still completes it.
        await recorderB.Channel.BasicPublishAsync("", victimRequest.ReplyTo!, mandatory: false,
            new BasicProperties { CorrelationId = victimId }, Encoding.UTF8.GetBytes("\"B:7\""));
        Assert.Equal("B:7", await victim.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private static async Task<string> Outcome(Task<string> call)
    {
        try
        {
            return "returned " + await call;
        }
        catch (Exception e)
        {
            return "threw " + e.Message;
        }
    }

    private static byte[] Batch(params (string CorrelationId, string Result)[] replies)
    {
        using var writer = new PooledBufferWriter();
        CallBatch.BeginBatch(writer);
        foreach (var (id, result) in replies) CallBatch.WriteReply(writer, id, isError: false, Encoding.UTF8.GetBytes("\"" + result + "\""));
        return writer.WrittenMemory.ToArray();
    }
}
