using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace RpcGen.Transport;

/// <summary>
/// The one place that declares RpcGen's durable queues (service requests, durable one-way work, named event
/// subscriptions) and decides their arguments from <see cref="RpcTopologyOptions.QueueType"/> and <see cref="RpcTopologyOptions.QueueTypes"/>,
/// so every queue of one kind is declared alike and a mismatch with an existing queue is reported the same way; or,
/// as a queue's <see cref="RpcQueueTopology"/> says, finds it as it exists or declares it exactly as given.
/// </summary>
internal static class QueueDeclarations
{
    /// <summary>The suffix of the queue a quorum queue's dead messages go to: <c>{queue}.dead-letter</c>.</summary>
    public const string DeadLetterSuffix = ".dead-letter";

    /// <summary>
    /// The header RabbitMQ (3.8 and later) sets on a message it dead-letters for the first time, with the reason:
    /// <c>expired</c>, <c>rejected</c>, <c>maxlen</c> or <c>delivery_limit</c>.
    /// </summary>
    private const string FirstDeathReasonHeader = "x-first-death-reason";

    /// <summary>
    /// The reasons a quorum queue's messages reach its dead-letter queue: redelivered past the delivery limit (a
    /// request that killed its servers), or rejected. An expired message (a call nobody waits for any more, work past
    /// its time-to-live) matches neither and is dropped, so it never crowds out failed work.
    /// </summary>
    private static readonly string[] s_deadLetterReasons = { "delivery_limit", "rejected" };

    /// <summary>
    /// Makes sure <paramref name="queue"/> is there as its <see cref="RpcQueueTopology"/> says (<paramref name="topology"/>,
    /// else its entry in the options, else <see cref="RpcQueueTopology.Declare"/>): declared durable with the arguments
    /// its type needs (for a quorum queue after the dead-letter queue its poison messages go to), found as it exists, or
    /// declared with the given durability and arguments and nothing added. <paramref name="owner"/> names who declares it
    /// (a service or a subscription) for the error message. <paramref name="singleActiveConsumer"/>: one consumer at a
    /// time takes the queue's messages (ordered services), with the others standing by; only RpcGen's own declaration adds it.
    /// </summary>
    /// <exception cref="RpcException">The queue exists with other arguments (e.g. classic vs quorum), does not exist (UseExisting), or the broker refused it.</exception>
    public static async Task<QueueDeclareOk> DeclareDurableAsync(IChannel channel, RpcSettings options, string queue, string owner,
        CancellationToken cancellationToken, bool singleActiveConsumer = false, RpcQueueTopology? topology = null)
    {
        topology ??= TopologyOf(options, queue);
        if (topology.Mode == RpcTopologyMode.UseExisting) return await FindAsync(channel, options, queue, owner, cancellationToken).ConfigureAwait(false);
        if (topology.Mode == RpcTopologyMode.DeclareAsGiven) return await DeclareAsGivenAsync(channel, options, queue, owner, topology, cancellationToken).ConfigureAwait(false);

        var type = TypeOf(options, queue);
        try
        {
            if (type == RpcQueueType.Quorum) await DeclareDeadLetterAsync(channel, options, queue, cancellationToken).ConfigureAwait(false);

            var arguments = ArgumentsFor(options, queue);
            if (singleActiveConsumer) (arguments ??= new Dictionary<string, object?>())[SingleActiveConsumerArgument] = true;
            return await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments,
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == Constants.PreconditionFailed)
        {
            // The broker names the first argument that differs, which for classic vs quorum need not be x-queue-type:
            // say what this side asked for too, so the type mismatch is plain either way.
            throw new RpcException(RpcStatusCode.Internal,
                $"Cannot declare queue '{queue}' for {owner}: it already exists with other arguments than this process declares, " +
                $"a {Describe(options, queue, type)} ({e.ShutdownReason.ReplyText}). Set RpcTopologyOptions.QueueType (or " +
                $"QueueTypes[\"{Unprefixed(options, queue)}\"]) to what the queue is, or delete the queue so it is declared anew (its messages go with it). " +
                $"A queue another program declares (another system's, a tutorial's) is used as it is with the queue topology UseExisting, " +
                $"or declared as that program does with DeclareAsGiven (docs/interop.md, \"Meeting existing topology\"). " +
                $"Quorum queues made by RpcGen before its dead-letter exchange (x-dead-letter-exchange \"\", a dead-letter queue with x-max-length) " +
                "must be moved to new ones: docs/cluster.md, \"Upgrading quorum queues\".",
                owner, null, e);
        }
        catch (OperationInterruptedException e)
        {
            throw new RpcException(BrokerRefusals.StatusOf(e), $"Cannot declare queue '{queue}' for {owner}: {e.ShutdownReason?.ReplyText ?? e.Message}", owner, null, e);
        }
    }

    /// <summary>How RpcGen treats <paramref name="queue"/> (with its prefix): its entry in the options, else <see cref="RpcQueueTopology.Declare"/>.</summary>
    public static RpcQueueTopology TopologyOf(RpcSettings options, string queue) =>
        options.Queues.TryGetValue(Unprefixed(options, queue), out var topology) && topology is not null ? topology : RpcQueueTopology.Declare;

    /// <summary>
    /// Whether the broker dead-letters <paramref name="queue"/>'s poison messages into <c>{queue}.dead-letter</c>: a quorum
    /// queue RpcGen declares by its own rules, with its delivery limit and dead-letter exchange.
    /// </summary>
    public static bool BrokerDeadLetters(RpcSettings options, string queue) =>
        TypeOf(options, queue) == RpcQueueType.Quorum && TopologyOf(options, queue).Mode == RpcTopologyMode.Declare;

    /// <summary>A passive declare: the queue exists, whatever its arguments. It returns the queue's counts as a declare does.</summary>
    private static async Task<QueueDeclareOk> FindAsync(IChannel channel, RpcSettings options, string queue, string owner, CancellationToken cancellationToken)
    {
        try
        {
            return await channel.QueueDeclarePassiveAsync(queue, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationInterruptedException e)
        {
            var why = e.ShutdownReason?.ReplyCode == Constants.NotFound ? "it does not exist" : e.ShutdownReason?.ReplyText ?? e.Message;
            throw new RpcException(BrokerRefusals.StatusOf(e),
                $"Queue '{queue}' for {owner} cannot be used: {why}. Its topology is UseExisting (RpcGen declares nothing), so it must be declared " +
                $"first by whoever owns it, or given the topology Declare or DeclareAsGiven for '{Unprefixed(options, queue)}' (docs/interop.md, \"Meeting existing topology\").",
                owner, null, e);
        }
    }

    private static async Task<QueueDeclareOk> DeclareAsGivenAsync(IChannel channel, RpcSettings options, string queue, string owner, RpcQueueTopology topology,
        CancellationToken cancellationToken)
    {
        try
        {
            return await channel.QueueDeclareAsync(queue, topology.Durable, exclusive: false, autoDelete: false,
                new Dictionary<string, object?>(topology.Arguments), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (OperationInterruptedException e)
        {
            var differs = e.ShutdownReason?.ReplyCode == Constants.PreconditionFailed
                ? $"it already exists with other settings than given ({topology}): {e.ShutdownReason.ReplyText}. Give what the queue has, or UseExisting"
                : e.ShutdownReason?.ReplyText ?? e.Message;
            throw new RpcException(BrokerRefusals.StatusOf(e), $"Cannot declare queue '{queue}' for {owner} as given: {differs}.", owner, null, e);
        }
    }

    /// <summary>Queue argument that lets one consumer at a time take a queue's messages (ordered services).</summary>
    public const string SingleActiveConsumerArgument = "x-single-active-consumer";

    /// <summary>
    /// Declares <c>{queue}.dead-letter</c>, where RpcGen moves one-way work and events whose handler kept failing (and
    /// where a quorum queue's broker dead-letters what passed its delivery limit): of the same type as its queue, so
    /// it is declared alike whoever gets there first. Nothing consumes it. A quorum queue's comes with the exchange that
    /// feeds it and its bindings: declared again after a loss, a dead-letter queue without them would receive nothing.
    /// A queue RpcGen does not declare by its own rules (UseExisting, DeclareAsGiven) has no such exchange: only the
    /// server's own copies reach its dead-letter queue.
    /// </summary>
    public static async Task DeclareDeadLetterAsync(IChannel channel, RpcSettings options, string queue, CancellationToken cancellationToken)
    {
        bool quorum = TypeOf(options, queue) == RpcQueueType.Quorum;
        await channel.QueueDeclareAsync(queue + DeadLetterSuffix, durable: true, exclusive: false, autoDelete: false,
            quorum ? DeadLetterArguments() : null, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (BrokerDeadLetters(options, queue)) await DeclareDeadLetterExchangeAsync(channel, queue, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The type <paramref name="queue"/> (with its prefix) is declared as: its entry in QueueTypes, else QueueType.</summary>
    public static RpcQueueType TypeOf(RpcSettings options, string queue) =>
        options.QueueTypes.TryGetValue(Unprefixed(options, queue), out var type) ? type : options.QueueType;

    /// <summary>
    /// The declare arguments. A classic queue gets none, as RpcGen always declared it, so queues made by earlier versions
    /// (or by pika users following docs/wire-format.md) stay equivalent. A quorum queue gets a delivery limit: a request
    /// that kills its server again and again is dead-lettered after that many deliveries instead of looping.
    /// </summary>
    public static IDictionary<string, object?>? ArgumentsFor(RpcSettings options, string queue) => TypeOf(options, queue) switch
    {
        RpcQueueType.Quorum => new Dictionary<string, object?>
        {
            ["x-queue-type"] = "quorum",
            ["x-delivery-limit"] = options.QuorumDeliveryLimit,
            ["x-dead-letter-exchange"] = queue + DeadLetterSuffix,
        },
        _ => null,
    };

    /// <summary>
    /// Quorum as well, so dead messages survive the node loss their queue survived. No length limit: a limit would drop
    /// failed work (drop-head) or refuse it (reject-publish); a growing dead-letter queue is for monitoring to notice.
    /// </summary>
    private static Dictionary<string, object?> DeadLetterArguments() => new()
    {
        ["x-queue-type"] = "quorum",
    };

    /// <summary>
    /// The quorum queue's dead-letter exchange, named like its dead-letter queue (so the same permissions cover both): a
    /// headers exchange that passes on only the reasons of <see cref="s_deadLetterReasons"/>. The queue's own
    /// dead-lettering cannot tell an expired call from a poison request, and the default exchange routes both.
    /// </summary>
    private static async Task DeclareDeadLetterExchangeAsync(IChannel channel, string queue, CancellationToken cancellationToken)
    {
        var name = queue + DeadLetterSuffix;
        await channel.ExchangeDeclareAsync(name, ExchangeType.Headers, durable: true, autoDelete: false, arguments: null,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (var reason in s_deadLetterReasons)
        {
            // any-with-x: a headers exchange ignores x- headers unless told otherwise (RabbitMQ 3.10 and later).
            await channel.QueueBindAsync(name, name, routingKey: reason, new Dictionary<string, object?>
            {
                ["x-match"] = "any-with-x",
                [FirstDeathReasonHeader] = reason,
            }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Unprefixed(RpcSettings options, string queue) =>
        options.QueuePrefix.Length > 0 && queue.StartsWith(options.QueuePrefix, StringComparison.Ordinal) ? queue.Substring(options.QueuePrefix.Length) : queue;

    private static string Describe(RpcSettings options, string queue, RpcQueueType type) => type == RpcQueueType.Quorum
        ? $"quorum queue (x-queue-type quorum, x-delivery-limit {options.QuorumDeliveryLimit}, x-dead-letter-exchange '{queue}{DeadLetterSuffix}')"
        : "classic queue (no arguments)";
}
