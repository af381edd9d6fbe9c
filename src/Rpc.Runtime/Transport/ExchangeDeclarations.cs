using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace RpcGen.Transport;

/// <summary>
/// The one place that declares an events exchange, publishers and subscribers alike, as its <see cref="RpcExchangeTopology"/>
/// says: durable, not auto-delete, of the interface's type (the default); found as it exists; or declared with the
/// durability and arguments given.
/// </summary>
internal static class ExchangeDeclarations
{
    /// <exception cref="RpcException">The exchange exists with another type or settings, or the broker refused it.</exception>
    public static async Task DeclareAsync(IChannel channel, RpcEventsDescriptor events, string exchange, RpcExchangeTopology topology, CancellationToken cancellationToken)
    {
        bool durable = topology.Mode != RpcTopologyMode.DeclareAsGiven || topology.Durable;
        var arguments = topology.Mode == RpcTopologyMode.DeclareAsGiven ? new Dictionary<string, object?>(topology.Arguments) : null;
        try
        {
            await channel.ExchangeDeclareAsync(exchange, TypeName(events.ExchangeType), durable, autoDelete: false, arguments,
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (OperationInterruptedException e)
        {
            var asked = $"{TypeName(events.ExchangeType)}, {(durable ? "durable" : "not durable")}" +
                (arguments is { Count: > 0 } ? ", arguments " + RpcQueueTopology.DescribeArguments(arguments) : string.Empty);
            throw new RpcException(BrokerRefusals.StatusOf(e),
                $"Cannot declare exchange '{exchange}' ({asked}) for {events.Name}: {e.ShutdownReason?.ReplyText ?? e.Message}. {Remedy(e.ShutdownReason?.ReplyText, durable)}",
                events.Name, null, e);
        }
    }

    /// <summary>
    /// What to do about a refused declaration, from the broker's words: RabbitMQ names the first setting that differs
    /// (<c>inequivalent arg 'type'</c>, <c>'durable'</c>, <c>'auto_delete'</c>, or an argument's name).
    /// </summary>
    private static string Remedy(string? replyText, bool durable)
    {
        const string Topology = "docs/interop.md, \"Meeting existing topology\"";
        if (replyText is null || !replyText.Contains("inequivalent arg", StringComparison.Ordinal)) return string.Empty;
        if (replyText.Contains("'type'", StringComparison.Ordinal))
        {
            return "It exists with another type, which no declaration can change: delete it so it is declared anew, or use the type it has.";
        }

        if (replyText.Contains("'durable'", StringComparison.Ordinal))
        {
            return $"It exists with the same type but is {(durable ? "not durable" : "durable")}: use it as it is with the exchange topology " +
                $"UseExisting, or declare it {(durable ? "not durable" : "durable")} with DeclareAsGiven ({Topology}).";
        }

        return $"It exists with other settings (auto-delete or arguments): use it as it is with the exchange topology UseExisting, or declare it as it is with DeclareAsGiven ({Topology}).";
    }

    /// <summary>How RpcGen treats <paramref name="exchange"/> (with its prefix): its entry in the options, else <see cref="RpcExchangeTopology.Declare"/>.</summary>
    public static RpcExchangeTopology TopologyOf(RpcSettings options, string exchange)
    {
        var name = options.QueuePrefix.Length > 0 && exchange.StartsWith(options.QueuePrefix, StringComparison.Ordinal)
            ? exchange.Substring(options.QueuePrefix.Length)
            : exchange;
        return options.Exchanges.TryGetValue(name, out var topology) && topology is not null ? topology : RpcExchangeTopology.Declare;
    }

    /// <summary>
    /// Declares the exchange on a short-lived channel of its own (a refused declaration closes the channel it ran on).
    /// A user without configure permission on it (docs/security.md: publishers and subscribers need none once an
    /// operator or another role declared it) checks with a passive declare, which needs none, that it exists; so does
    /// every user when its topology is UseExisting.
    /// </summary>
    /// <exception cref="RpcException">It cannot be declared and does not exist, or exists with other settings.</exception>
    public static async Task DeclareOrFindAsync(IConnection connection, RpcSettings options, RpcEventsDescriptor events, string exchange, CancellationToken cancellationToken)
    {
        var topology = TopologyOf(options, exchange);
        string? refused = null;
        if (topology.Mode != RpcTopologyMode.UseExisting)
        {
            var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            try
            {
                await DeclareAsync(channel, events, exchange, topology, cancellationToken).ConfigureAwait(false);
                await channel.CloseAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (RpcException e) when (e.InnerException is OperationInterruptedException { ShutdownReason.ReplyCode: Constants.AccessRefused })
            {
                refused = e.InnerException.Message;
            }
            finally
            {
                channel.Dispose();
            }
        }

        var passive = await connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        try
        {
            await passive.ExchangeDeclarePassiveAsync(exchange, cancellationToken).ConfigureAwait(false);
            await passive.CloseAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationInterruptedException e)
        {
            var missing = e.ShutdownReason?.ReplyText ?? e.Message;
            throw new RpcException(BrokerRefusals.StatusOf(e), refused is not null
                    ? $"Exchange '{exchange}' for {events.Name} cannot be used: this user may not declare it ({refused}) " +
                      $"and it does not exist ({missing}). Declare it first (an operator or a role with configure on it), " +
                      "or grant configure on it (docs/security.md)."
                    : $"Exchange '{exchange}' for {events.Name} cannot be used: {missing}. Its topology is UseExisting (RpcGen declares nothing), " +
                      "so whoever owns it must declare it first, or give it the topology Declare or DeclareAsGiven (docs/interop.md, \"Meeting existing topology\").",
                events.Name, null, e);
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
