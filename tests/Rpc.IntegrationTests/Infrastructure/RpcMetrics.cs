using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using RpcGen.Diagnostics;

namespace RpcGen.IntegrationTests.Infrastructure;

/// <summary>
/// Reads RpcGen's counters as an operator would, through a <see cref="MeterListener"/> on the <c>RpcGen</c> Meter: the
/// sums of the measurements tagged with one queue (<c>messaging.destination.name</c>), so tests running in parallel
/// against other queues do not disturb each other. Start it before the calls it counts.
/// </summary>
internal sealed class RpcMetrics : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _sums = new(StringComparer.Ordinal);
    private readonly string _queue;

    public RpcMetrics(string queue)
    {
        _queue = queue;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RpcDiagnostics.MeterName) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>The sum of <paramref name="instrument"/>'s measurements for the queue so far.</summary>
    public long this[string instrument] => _sums.TryGetValue(instrument, out var sum) ? sum : 0;

    /// <summary><c>rpcgen.client.batches</c> and <c>rpcgen.client.batched_calls</c>.</summary>
    public (long Batches, long Calls) BatchesSent => (this[RpcDiagnostics.ClientBatches], this[RpcDiagnostics.ClientBatchedCalls]);

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "messaging.destination.name" && tag.Value as string == _queue)
            {
                _sums.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value);
                return;
            }
        }
    }

    public void Dispose() => _listener.Dispose();
}
