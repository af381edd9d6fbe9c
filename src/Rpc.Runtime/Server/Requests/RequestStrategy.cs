using System.Threading.Tasks;

namespace RpcGen.Server.Requests;

/// <summary>
/// What one kind of request (request/reply, one-way work, event, streamed result, call of a batch) does differently
/// from the others. <see cref="RpcServer"/> does the common work for all of them: accept the request, invoke its
/// handler (retrying in place where <see cref="RetriesInPlace"/>), ask the strategy for the outcome, deliver it, settle
/// the delivery. Adding a kind of request is adding a strategy, and choosing it in <see cref="RequestStrategies.For"/>.
/// </summary>
internal abstract class RequestStrategy
{
    /// <summary>
    /// Whether the request's <c>reply_to</c> must name an allowed reply queue before it runs, since its reply would go
    /// there with the server's broker rights. One-way work gets no reply whatever its reply_to says; a batch is checked once.
    /// </summary>
    public virtual bool ChecksReplyQueue => true;

    /// <summary>Whether a failure is tried again in place by the ordered-retry policy, rather than sent to the back of the queue.</summary>
    public virtual bool RetriesInPlace => false;

    /// <summary>
    /// Turns how the request ended (<paramref name="failure"/> null: the handler returned) into its outcome, recording
    /// a failure in telemetry and writing the error body of a <see cref="CallOutcomeKind.Fault"/> into the request's result.
    /// </summary>
    public abstract CallOutcome Conclude(ServerRequest request, CallFailure? failure);

    /// <summary>Sends a <see cref="CallOutcomeKind.Reply"/> or <see cref="CallOutcomeKind.Fault"/> to the caller, who named a reply_to.</summary>
    public virtual Task DeliverAsync(ServerRequest request, CallOutcome outcome) => Task.CompletedTask;
}
