using System.Diagnostics;
using RpcGen.Diagnostics;

namespace RpcGen.Server;

/// <summary>
/// One server's counters on the RpcGen meter (docs/observability.md): batches answered, deliveries settled and the
/// frames that settled them, calls cancelled by their callers. Tagged with the service and the queue it consumes.
/// </summary>
internal sealed class ServerCounters
{
    private readonly TagList _tags;

    public ServerCounters(string service, string queue)
    {
        _tags = new TagList
        {
            { RpcTelemetry.RpcSystemTag, RpcTelemetry.RpcSystem },
            { RpcTelemetry.RpcServiceTag, service },
            { RpcTelemetry.MessagingDestinationTag, queue },
        };
    }

    /// <summary>One frame settled <paramref name="deliveries"/> deliveries (a multiple ack several).</summary>
    public void Settled(int deliveries)
    {
        if (RpcTelemetry.ServerSettlementFrames.Enabled) RpcTelemetry.ServerSettlementFrames.Add(1, _tags);
        if (RpcTelemetry.ServerSettlements.Enabled) RpcTelemetry.ServerSettlements.Add(deliveries, _tags);
    }

    public void BatchAnswered()
    {
        if (RpcTelemetry.ServerBatches.Enabled) RpcTelemetry.ServerBatches.Add(1, _tags);
    }

    public void CancelledByCaller()
    {
        if (RpcTelemetry.ServerCallerCancels.Enabled) RpcTelemetry.ServerCallerCancels.Add(1, _tags);
    }
}
