using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace RpcGen.Transport;

/// <summary>The one place that declares an events exchange: durable, not auto-delete, of the interface's type; publishers and subscribers alike.</summary>
internal static class ExchangeDeclarations
{
    /// <exception cref="RpcException">The exchange exists with another type or settings, or the broker refused it.</exception>
    public static async Task DeclareAsync(IChannel channel, RpcEventsDescriptor events, string exchange, CancellationToken cancellationToken)
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

    /// <summary>
    /// Declares the exchange on a short-lived channel of its own (a refused declaration closes the channel it ran on).
    /// A user without configure permission on it (docs/security.md: publishers and subscribers need none once an
    /// operator or another role declared it) checks with a passive declare, which needs none, that it exists.
    /// </summary>
    /// <exception cref="RpcException">It cannot be declared and does not exist, or exists with other settings.</exception>
    public static async Task DeclareOrFindAsync(IConnection connection, RpcEventsDescriptor events, string exchange, CancellationToken cancellationToken)
    {
        RpcException refused;
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        try
        {
            await DeclareAsync(channel, events, exchange, cancellationToken).ConfigureAwait(false);
            await channel.CloseAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (RpcException e) when (e.InnerException is OperationInterruptedException { ShutdownReason.ReplyCode: Constants.AccessRefused })
        {
            refused = e;
        }
        finally
        {
            channel.Dispose();
        }

        var passive = await connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        try
        {
            await passive.ExchangeDeclarePassiveAsync(exchange, cancellationToken).ConfigureAwait(false);
            await passive.CloseAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationInterruptedException e)
        {
            throw new RpcException(
                $"Exchange '{exchange}' for {events.Name} cannot be used: this user may not declare it ({refused.InnerException?.Message}) " +
                $"and it does not exist ({e.ShutdownReason?.ReplyText ?? e.Message}). Declare it first (an operator or a role with configure on it), " +
                "or grant configure on it (docs/security.md).", events.Name, null, e);
        }
        finally
        {
            passive.Dispose();
        }
    }

    public static string TypeName(RpcExchangeType type) => type switch
    {
        RpcExchangeType.Fanout => ExchangeType.Fanout,
        RpcExchangeType.Direct => ExchangeType.Direct,
        _ => ExchangeType.Topic,
    };
}
