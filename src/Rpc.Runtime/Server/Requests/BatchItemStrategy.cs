using System.Threading.Tasks;

namespace RpcGen.Server.Requests;

/// <summary>
/// A call that came in a batch: concluded as a lone call, but its reply joins the batch's replies (<see cref="BatchReplies"/>),
/// and its reply_to was checked once for the whole batch. One strategy per batch delivery.
/// </summary>
internal sealed class BatchItemStrategy : RequestReplyStrategy
{
    private readonly BatchReplies _batch;

    public BatchItemStrategy(ReplyPublisher replies, ErrorReplies errors, StreamStrategy stream, BatchReplies batch) : base(replies, errors, stream)
    {
        _batch = batch;
    }

    public override bool ChecksReplyQueue => false;

    public override Task DeliverAsync(ServerRequest request, CallOutcome outcome)
    {
        _batch.Add(request.Properties.CorrelationId, request.Method?.WireName, outcome.Kind == CallOutcomeKind.Fault, request.Result.WrittenSpan);
        return Task.CompletedTask;
    }
}
