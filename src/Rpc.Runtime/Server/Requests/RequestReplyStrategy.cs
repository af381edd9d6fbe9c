using System.Threading.Tasks;

namespace RpcGen.Server.Requests;

/// <summary>
/// A call whose caller waits for the result: a reply, or an error reply (a declared fault with its data). A call whose
/// handler streamed its result is concluded by <see cref="StreamStrategy"/>: its end or error marker replaces the reply.
/// </summary>
internal class RequestReplyStrategy : RequestStrategy
{
    private readonly ReplyPublisher _replies;
    private readonly ErrorReplies _errors;
    private readonly StreamStrategy _stream;

    public RequestReplyStrategy(ReplyPublisher replies, ErrorReplies errors, StreamStrategy stream)
    {
        _replies = replies;
        _errors = errors;
        _stream = stream;
    }

    public override CallOutcome Conclude(ServerRequest request, CallFailure? failure)
    {
        if (request.Call?.Stream is not null) return _stream.Conclude(request, failure);
        failure ??= _replies.Check(request.Properties.CorrelationId, request.Method!.WireName, request.Result.WrittenCount);
        if (failure is not { } failed) return CallOutcome.Reply;
        request.Result.Clear();
        if (_errors.TryWriteDeclaredFault(request.Result, request.Method, failed, out var wireType))
        {
            request.FailedWithDeclaredFault(failed, wireType);
        }
        else
        {
            request.Failed(failed, handedOff: false);
            _errors.WriteError(request.Result, failed);
        }

        // The handler stopped because its caller's deadline passed (its token fired, or a call it made ended with the
        // deadline it inherited): the caller ends the call itself with RpcTimeoutException, and an error reply would
        // only race that, down a chain of calls sharing one deadline too. (After a caller's cancel the handler's
        // exception still goes back, as docs/wire-format.md "Cancelling a call" promises pika clients.)
        return request.EndedByCallersDeadline(failed) ? CallOutcome.None : CallOutcome.Fault(failed);
    }

    public override Task DeliverAsync(ServerRequest request, CallOutcome outcome) =>
        _replies.ReplyAsync(request.Channel, request.Properties, request.Method?.WireName, outcome.Kind == CallOutcomeKind.Fault, request.Result);
}
