using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Text;

namespace RpcGen.Benchmarks.Harness;

/// <summary>
/// An in-process allocation profile (dotnet-trace is not installed here): listens to the runtime's GC AllocationTick
/// events, which the GC raises about every 100 KB allocated, naming the type of the allocation that crossed the mark.
/// Over thousands of calls the samples add up to where the bytes go, by type.
/// </summary>
public sealed class AllocationSampler : EventListener
{
    private const int GcKeyword = 0x1;
    private readonly ConcurrentDictionary<string, long> _bytesByType = new();
    private volatile bool _recording;

    public void Start()
    {
        _bytesByType.Clear();
        _recording = true;
    }

    public void Stop() => _recording = false;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, (EventKeywords)GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_recording || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
        int nameIndex = e.PayloadNames?.IndexOf("TypeName") ?? -1;
        int amountIndex = e.PayloadNames?.IndexOf("AllocationAmount64") ?? -1;
        if (amountIndex < 0) amountIndex = e.PayloadNames?.IndexOf("AllocationAmount") ?? -1;
        if (nameIndex < 0 || amountIndex < 0) return;
        var type = e.Payload[nameIndex] as string ?? "?";
        long amount = Convert.ToInt64(e.Payload[amountIndex], CultureInfo.InvariantCulture);
        _bytesByType.AddOrUpdate(type, amount, (_, total) => total + amount);
    }

    public string Render(long calls, int top = 25)
    {
        var text = new StringBuilder();
        long total = _bytesByType.Values.Sum();
        text.AppendLine(CultureInfo.InvariantCulture, $"Sampled allocations by type ({total / 1024} KB sampled over {calls} calls):");
        foreach (var (type, bytes) in _bytesByType.OrderByDescending(p => p.Value).Take(top))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {bytes * 100.0 / Math.Max(1, total),5:0.0}%  ~{(double)bytes / Math.Max(1, calls),7:0} B/call  {type}");
        }

        return text.ToString();
    }
}
