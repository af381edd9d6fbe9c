using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using RpcGen.Diagnostics;

namespace RpcGen.IntegrationTests.Infrastructure;

/// <summary>
/// One server's counters as an operator's exporter sees them: the RpcGen meter's server counters, summed for one
/// queue (every test has queues of its own). Start it before the requests it should count arrive.
/// </summary>
public sealed class ServerMeter : IDisposable
{
    private static readonly HashSet<string> s_counters =
    [
        RpcDiagnostics.ServerSettlements, RpcDiagnostics.ServerSettlementFrames, RpcDiagnostics.ServerBatches, RpcDiagnostics.ServerCallerCancels,
    ];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _sums = new();
    private readonly string _queue;

    public ServerMeter(string queue)
    {
        _queue = queue;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RpcDiagnostics.MeterName && s_counters.Contains(instrument.Name)) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "messaging.destination.name" && tag.Value as string == _queue) _sums.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value);
            }
        });
        _listener.Start();
    }

    /// <summary>The queue whose counters are read.</summary>
    public string Queue => _queue;

    /// <summary>Deliveries acked or given back (<see cref="RpcDiagnostics.ServerSettlements"/>).</summary>
    public long Settled => Read(RpcDiagnostics.ServerSettlements);

    /// <summary>Ack, nack and reject frames written (<see cref="RpcDiagnostics.ServerSettlementFrames"/>).</summary>
    public long SettlementFrames => Read(RpcDiagnostics.ServerSettlementFrames);

    /// <summary>Batch deliveries answered (<see cref="RpcDiagnostics.ServerBatches"/>).</summary>
    public long Batches => Read(RpcDiagnostics.ServerBatches);

    /// <summary>Calls their caller cancelled (<see cref="RpcDiagnostics.ServerCallerCancels"/>).</summary>
    public long CallerCancels => Read(RpcDiagnostics.ServerCallerCancels);

    private long Read(string counter) => _sums.GetValueOrDefault(counter);

    public void Dispose() => _listener.Dispose();
}
