using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace RpcGen.Transport;

/// <summary>The one place that declares an events exchange: durable, not auto-delete, of the interface's type; publishers and subscribers alike.</summary>
internal static class ExchangeDeclarations
{
    /// <exception cref="RpcException">The exchange exists with another type or settings, or the broker refused it.</exception>
    public static async Task DeclareAsync(IChannel channel, RpcServiceDescriptor events, string exchange, CancellationToken cancellationToken)
    {
        try
        {
            await channel.ExchangeDeclareAsync(exchange, TypeName(events.ExchangeType), durable: true, autoDelete: false,
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (OperationInterruptedException e)
        {
            throw new RpcException(
                $"Cannot declare exchange '{exchange}' ({TypeName(events.ExchangeType)}, durable) for {events.Name}: {e.ShutdownReason?.ReplyText ?? e.Message}. " +
                "An exchange that exists with another type must be deleted before it can be declared anew.", events.Name, null, e);
        }
    }

    public static string TypeName(RpcExchangeType type) => type switch
    {
        RpcExchangeType.Fanout => ExchangeType.Fanout,
        RpcExchangeType.Direct => ExchangeType.Direct,
        _ => ExchangeType.Topic,
    };
}
