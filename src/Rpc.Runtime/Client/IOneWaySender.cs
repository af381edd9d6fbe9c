using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;

namespace RpcGen.Client;

/// <summary>
/// Where an invoker's one-way work and events leave it: published now and confirmed (<see cref="WorkPublisher"/>), or
/// handed to a sink as messages to publish later (<see cref="Capture.MessageCapture"/>, for <see cref="RpcMessageCapture"/>).
/// </summary>
internal interface IOneWaySender
{
    /// <summary>Sends a one-way request to <paramref name="queue"/>, the service queue.</summary>
    Task SendAsync(RpcRequest request, CachedString queue, CancellationToken cancellationToken);

    /// <summary>Publishes an event with <paramref name="routingKey"/> (the method's wire name when null).</summary>
    Task PublishEventAsync(RpcRequest request, string? routingKey, CancellationToken cancellationToken);
}
