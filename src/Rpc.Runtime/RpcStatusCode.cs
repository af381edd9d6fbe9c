namespace RpcGen;

/// <summary>
/// What kind of failure an <see cref="RpcException"/> is (<see cref="RpcException.StatusCode"/>), so callers can decide
/// alike for every RpcGen exception (retry, report, give up), as gRPC's status codes let them.
/// </summary>
public enum RpcStatusCode
{
    /// <summary>The call was cancelled before it ran (<see cref="RpcErrorTypes.Cancelled"/>).</summary>
    Cancelled = 1,

    /// <summary>
    /// The call's deadline passed: no reply within its timeout (<see cref="RpcTimeoutException"/>), or the request reached
    /// the server after its caller's deadline (<see cref="RpcErrorTypes.DeadlineExceeded"/>). The request may have run.
    /// </summary>
    DeadlineExceeded = 2,

    /// <summary>
    /// No server or broker could take the call: nobody serves the queue, the connection or channel is down, an event
    /// reached no queue, the broker refused one-way work (a nack), or a queue or exchange used as it exists
    /// (<see cref="RpcTopologyMode.UseExisting"/>) is missing. The exception's type says whether the request may still run.
    /// </summary>
    Unavailable = 3,

    /// <summary>A limit was hit: a message too large (<see cref="RpcErrorTypes.TooLarge"/>), or the broker blocks publishers on a memory or disk alarm.</summary>
    ResourceExhausted = 4,

    /// <summary>The server could not read the request (<see cref="RpcErrorTypes.BadRequest"/>, <see cref="RpcErrorTypes.UnsupportedContentType"/>).</summary>
    InvalidArgument = 5,

    /// <summary>
    /// The server has no such method (<see cref="RpcErrorTypes.UnknownMethod"/>), or answered a streamed method with a
    /// single reply: client and server contracts differ.
    /// </summary>
    Unimplemented = 6,

    /// <summary>
    /// RpcGen itself failed, or its set-up does not meet the broker's: a message could not be serialised or read, a
    /// stream broke the protocol, the broker refused a declaration (other arguments, access refused), or the server
    /// could not serialise its result (<see cref="RpcErrorTypes.ServerError"/>). Retrying does not help.
    /// </summary>
    Internal = 7,

    /// <summary>The server's handler threw: <see cref="RpcRemoteException.RemoteType"/> names the exception type.</summary>
    Remote = 8,
}
