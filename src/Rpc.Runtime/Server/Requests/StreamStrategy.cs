namespace RpcGen.Server.Requests;

/// <summary>
/// A call whose handler streamed its result (<see cref="RpcServerCall.StreamAsync{T}"/>): <see cref="ServerStream"/>
/// has sent the items and then its end or error marker, so there is nothing left to send, whatever happened.
/// </summary>
internal sealed class StreamStrategy : RequestStrategy
{
    public override CallOutcome Conclude(ServerRequest request, CallFailure? failure)
    {
        if (failure is { } failed) request.Failed(failed, handedOff: false);
        return CallOutcome.None;
    }
}
