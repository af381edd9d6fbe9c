namespace RpcGen.Server.Requests;

/// <summary>
/// Work nobody waits for: a one-way request, or a request refused before it ran that names no reply_to. Done, it is
/// acked; failed, it is handed off (retried at the back of the queue, or dead-lettered), since there is nobody to tell.
/// An ordered service retries in place instead: sent to the back of the queue, the work would overtake nothing but be
/// overtaken.
/// </summary>
internal class OneWayStrategy : RequestStrategy
{
    private readonly bool _ordered;

    public OneWayStrategy(bool ordered) => _ordered = ordered;

    public override bool ChecksReplyQueue => false;

    public override bool RetriesInPlace => _ordered;

    public override CallOutcome Conclude(ServerRequest request, CallFailure? failure)
    {
        if (failure is not { } failed) return CallOutcome.None;
        // Its retry or dead letter logs the failure (a Warning per retry, one Error when it is given up).
        request.Failed(failed, handedOff: true);
        return CallOutcome.HandOff(failed);
    }
}
