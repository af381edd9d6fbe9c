namespace RpcGen;

/// <summary>
/// The error types the RpcGen runtime itself puts in error replies (docs/wire-format.md, "Error replies"), as
/// <see cref="RpcRemoteException.RemoteType"/> shows them; a handler's exception travels as its type name instead.
/// Every one starts with <c>rpc:</c>, a prefix reserved for the runtime.
/// </summary>
public static class RpcErrorTypes
{
    /// <summary>The body could not be read as the method's arguments (bad JSON, wrong types, missing, extra or null values).</summary>
    public const string BadRequest = "rpc:bad-request";

    /// <summary>The request's <c>type</c> names no method of the service, or is missing on a service with several methods.</summary>
    public const string UnknownMethod = "rpc:unknown-method";

    /// <summary>The request is larger than the server's maximum request size, or the reply larger than a message may be.</summary>
    public const string TooLarge = "rpc:too-large";

    /// <summary>The request's <c>content_type</c> is set and is neither <c>application/json</c> nor <c>text/plain</c>.</summary>
    public const string UnsupportedContentType = "rpc:unsupported-content-type";

    /// <summary>The request arrived after its caller's deadline; it was not run.</summary>
    public const string DeadlineExceeded = "rpc:deadline-exceeded";

    /// <summary>The caller cancelled the call before a server ran it; it was not run.</summary>
    public const string Cancelled = "rpc:cancelled";

    /// <summary>The handler ran but its result could not be serialised.</summary>
    public const string ServerError = "rpc:server-error";

    /// <summary>A streamed result the server stopped because its caller granted no credit for the server's stream idle timeout.</summary>
    public const string StreamAbandoned = "rpc:stream-abandoned";

    /// <summary>The caller could not read the body of an error reply (never sent by a server: the caller reports it so).</summary>
    public const string UnreadableError = "rpc:unreadable-error";

    /// <summary>The status an error reply of type <paramref name="remoteType"/> means: an <c>rpc:</c> type's own, else <see cref="RpcStatusCode.Remote"/>.</summary>
    internal static RpcStatusCode StatusOf(string remoteType) => remoteType switch
    {
        DeadlineExceeded => RpcStatusCode.DeadlineExceeded,
        UnknownMethod => RpcStatusCode.Unimplemented,
        BadRequest or UnsupportedContentType => RpcStatusCode.InvalidArgument,
        TooLarge => RpcStatusCode.ResourceExhausted,
        Cancelled or StreamAbandoned => RpcStatusCode.Cancelled,
        _ when remoteType.StartsWith("rpc:", System.StringComparison.Ordinal) => RpcStatusCode.Internal,
        _ => RpcStatusCode.Remote,
    };
}
