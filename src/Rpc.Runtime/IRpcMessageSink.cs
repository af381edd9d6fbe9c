using System.Threading;
using System.Threading.Tasks;

namespace RpcGen;

/// <summary>
/// Where a capturing client or publisher (<see cref="RpcMessageCapture"/>) puts the one-way requests and events it
/// makes instead of publishing them: an outbox writes them to a table in the app's transaction.
/// </summary>
public interface IRpcMessageSink
{
    /// <summary>
    /// Keeps <paramref name="message"/>. The client's method completes when this does, and fails with its exception;
    /// the message's body is the sink's to keep (it is not reused).
    /// </summary>
    ValueTask CaptureAsync(RpcOutgoingMessage message, CancellationToken cancellationToken);
}
