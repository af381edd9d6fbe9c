using System.Collections.Generic;
using System.Collections.ObjectModel;

namespace RpcGen;

/// <summary>
/// How RpcGen treats the exchange of an <see cref="RpcEventsAttribute"/> interface, for its publishers and subscribers
/// alike. Its type is always the interface's <see cref="RpcEventsAttribute.Type"/>. docs/interop.md, "Meeting existing topology".
/// </summary>
public sealed class RpcExchangeTopology
{
    private static readonly IDictionary<string, object?> s_noArguments = new ReadOnlyDictionary<string, object?>(new Dictionary<string, object?>());

    /// <summary>A new topology; set <see cref="Mode"/>, and for <see cref="RpcTopologyMode.DeclareAsGiven"/> <see cref="Durable"/> and <see cref="Arguments"/>.</summary>
    public RpcExchangeTopology()
    {
        Arguments = new Dictionary<string, object?>(System.StringComparer.Ordinal);
    }

    private RpcExchangeTopology(RpcTopologyMode mode, bool durable = true, IDictionary<string, object?>? arguments = null)
    {
        Mode = mode;
        Durable = durable;
        Arguments = arguments ?? s_noArguments;
    }

    /// <summary>Copies of the topologies by name, as a connection keeps them when it opens (an entry set to null is left out).</summary>
    internal static IReadOnlyDictionary<string, RpcExchangeTopology> Frozen(IDictionary<string, RpcExchangeTopology> topologies)
    {
        var frozen = new Dictionary<string, RpcExchangeTopology>(topologies.Count, System.StringComparer.Ordinal);
        foreach (var (name, topology) in topologies)
        {
            if (topology is not null) frozen[name] = topology.Frozen();
        }

        return frozen;
    }

    /// <summary>A copy that later changes to this one do not reach: what a connection keeps when it opens.</summary>
    internal RpcExchangeTopology Frozen() => new(Mode, Durable,
        new ReadOnlyDictionary<string, object?>(new Dictionary<string, object?>(Arguments, System.StringComparer.Ordinal)));

    /// <summary>RpcGen declares the exchange durable, of the interface's type (<see cref="RpcTopologyMode.Declare"/>): the default.</summary>
    public static RpcExchangeTopology Declare { get; } = new(RpcTopologyMode.Declare);

    /// <summary>The exchange must exist and is used as it is (<see cref="RpcTopologyMode.UseExisting"/>).</summary>
    public static RpcExchangeTopology UseExisting { get; } = new(RpcTopologyMode.UseExisting);

    /// <summary>What RpcGen does with the exchange. Defaults to <see cref="RpcTopologyMode.Declare"/>.</summary>
    public RpcTopologyMode Mode { get; init; }

    /// <summary>With <see cref="RpcTopologyMode.DeclareAsGiven"/>: whether the exchange is declared durable. Defaults to <see langword="true"/>.</summary>
    public bool Durable { get; init; } = true;

    /// <summary>With <see cref="RpcTopologyMode.DeclareAsGiven"/>: the declare arguments, exactly. Empty by default; read-only on <see cref="Declare"/> and <see cref="UseExisting"/>.</summary>
    public IDictionary<string, object?> Arguments { get; }

    /// <inheritdoc />
    public override string ToString() => Mode switch
    {
        RpcTopologyMode.DeclareAsGiven => $"DeclareAsGiven (durable: {Durable}, arguments: {RpcQueueTopology.DescribeArguments(Arguments)})",
        _ => Mode.ToString(),
    };
}
