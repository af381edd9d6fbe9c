using System.Collections.Generic;
using System.Collections.ObjectModel;

namespace RpcGen;

/// <summary>
/// How RpcGen treats one queue: a service's request queue, or a named subscription's queue
/// (<see cref="RpcSubscription.QueueTopology"/>). docs/interop.md, "Meeting existing topology".
/// </summary>
/// <remarks>
/// On a queue RpcGen does not declare by its own rules (<see cref="RpcTopologyMode.UseExisting"/>,
/// <see cref="RpcTopologyMode.DeclareAsGiven"/>) the broker dead-letters nothing for RpcGen: one-way work and events whose
/// handler keeps failing are still retried and then published by the server itself, confirmed, to
/// <c>{queue}.dead-letter</c>, but a message that crashes its server before it is settled is redelivered as the queue's
/// own arguments say (without limit, unless they set <c>x-delivery-limit</c>).
/// </remarks>
public sealed class RpcQueueTopology
{
    private static readonly IDictionary<string, object?> s_noArguments = new ReadOnlyDictionary<string, object?>(new Dictionary<string, object?>());

    /// <summary>A new topology; set <see cref="Mode"/>, and for <see cref="RpcTopologyMode.DeclareAsGiven"/> <see cref="Durable"/> and <see cref="Arguments"/>.</summary>
    public RpcQueueTopology()
    {
        Arguments = new Dictionary<string, object?>(System.StringComparer.Ordinal);
    }

    private RpcQueueTopology(RpcTopologyMode mode, bool durable = true, IDictionary<string, object?>? arguments = null)
    {
        Mode = mode;
        Durable = durable;
        Arguments = arguments ?? s_noArguments;
    }

    /// <summary>Copies of the topologies by name, as a connection keeps them when it opens (an entry set to null is left out).</summary>
    internal static IReadOnlyDictionary<string, RpcQueueTopology> Frozen(IDictionary<string, RpcQueueTopology> topologies)
    {
        var frozen = new Dictionary<string, RpcQueueTopology>(topologies.Count, System.StringComparer.Ordinal);
        foreach (var (name, topology) in topologies)
        {
            if (topology is not null) frozen[name] = topology.Frozen();
        }

        return frozen;
    }

    /// <summary>A copy that later changes to this one do not reach: what a connection keeps when it opens.</summary>
    internal RpcQueueTopology Frozen() => new(Mode, Durable,
        new ReadOnlyDictionary<string, object?>(new Dictionary<string, object?>(Arguments, System.StringComparer.Ordinal)));

    /// <summary>RpcGen declares the queue by its own rules (<see cref="RpcTopologyMode.Declare"/>): the default.</summary>
    public static RpcQueueTopology Declare { get; } = new(RpcTopologyMode.Declare);

    /// <summary>The queue must exist and is used as it is (<see cref="RpcTopologyMode.UseExisting"/>).</summary>
    public static RpcQueueTopology UseExisting { get; } = new(RpcTopologyMode.UseExisting);

    /// <summary>What RpcGen does with the queue. Defaults to <see cref="RpcTopologyMode.Declare"/>.</summary>
    public RpcTopologyMode Mode { get; init; }

    /// <summary>With <see cref="RpcTopologyMode.DeclareAsGiven"/>: whether the queue is declared durable. Defaults to <see langword="true"/>.</summary>
    public bool Durable { get; init; } = true;

    /// <summary>
    /// With <see cref="RpcTopologyMode.DeclareAsGiven"/>: the declare arguments, exactly (<c>["x-queue-type"] = "quorum"</c>);
    /// RpcGen adds none. Empty by default (a classic queue). Read-only on <see cref="Declare"/> and <see cref="UseExisting"/>.
    /// </summary>
    public IDictionary<string, object?> Arguments { get; }

    /// <inheritdoc />
    public override string ToString() => Mode switch
    {
        RpcTopologyMode.DeclareAsGiven => $"DeclareAsGiven (durable: {Durable}, arguments: {DescribeArguments(Arguments)})",
        _ => Mode.ToString(),
    };

    internal static string DescribeArguments(IDictionary<string, object?> arguments)
    {
        if (arguments.Count == 0) return "none";
        var parts = new List<string>(arguments.Count);
        foreach (var (name, value) in arguments) parts.Add($"{name} = {value}");
        return string.Join(", ", parts);
    }
}
