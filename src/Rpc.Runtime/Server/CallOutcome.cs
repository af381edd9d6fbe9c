namespace RpcGen.Server;

/// <summary>What becomes of one request once its handler is done (or it was refused before it ran).</summary>
internal enum CallOutcomeKind
{
    /// <summary>The result goes to the caller.</summary>
    Reply,

    /// <summary>An error reply goes to the caller (its body is written).</summary>
    Fault,

    /// <summary>Nobody to tell: the work is retried or dead-lettered through <see cref="FailedWork"/>.</summary>
    HandOff,

    /// <summary>The delivery goes back to the queue unsettled (its hand-off could not be published for now).</summary>
    Requeue,

    /// <summary>Nothing to send: one-way work done, a stream that sent its own end, or a caller whose deadline ended the call.</summary>
    None,
}

/// <summary>The outcome of one request, decided by its <see cref="Requests.RequestStrategy"/> and then delivered.</summary>
/// <param name="Kind">What happens next.</param>
/// <param name="Failure">For <see cref="CallOutcomeKind.Fault"/> and <see cref="CallOutcomeKind.HandOff"/>: why.</param>
internal readonly record struct CallOutcome(CallOutcomeKind Kind, CallFailure? Failure = null)
{
    public static CallOutcome Reply => new(CallOutcomeKind.Reply);

    public static CallOutcome None => new(CallOutcomeKind.None);

    public static CallOutcome Requeue => new(CallOutcomeKind.Requeue);

    public static CallOutcome Fault(CallFailure failure) => new(CallOutcomeKind.Fault, failure);

    public static CallOutcome HandOff(CallFailure failure) => new(CallOutcomeKind.HandOff, failure);
}
