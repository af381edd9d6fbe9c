using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RpcGen.Wire;

namespace RpcGen.Transport;

/// <summary>
/// The durable queues RpcGen declares, and their arguments, in one place: servers and one-way senders declare a
/// service queue with the same arguments (RabbitMQ refuses a redeclaration that differs), and failed work goes to
/// <c>{queue}.dead</c>.
/// </summary>
internal static class DurableTopology
{
    /// <summary>The service queue: durable, shared by every server of the service; single active consumer when ordered.</summary>
    public static Task DeclareServiceQueueAsync(IChannel channel, RpcServiceDescriptor service, string queue, CancellationToken cancellationToken) =>
        channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, ServiceQueueArguments(service),
            cancellationToken: cancellationToken);

    /// <summary>Where a queue's given-up messages are kept: durable, never consumed by RpcGen.</summary>
    public static Task DeclareDeadLetterQueueAsync(IChannel channel, string deadLetterQueue, CancellationToken cancellationToken) =>
        channel.QueueDeclareAsync(deadLetterQueue, durable: true, exclusive: false, autoDelete: false, arguments: null,
            cancellationToken: cancellationToken);

    public static string DeadLetterQueueFor(string queue) => queue + WireContract.DeadLetterSuffix;

    private static Dictionary<string, object?>? ServiceQueueArguments(RpcServiceDescriptor service) =>
        service.Ordered ? new Dictionary<string, object?> { [WireContract.SingleActiveConsumerArgument] = true } : null;
}
