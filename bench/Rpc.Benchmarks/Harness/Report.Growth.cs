using System.Text;
using RpcGen.Benchmarks.Contenders;

namespace RpcGen.Benchmarks.Harness;

/// <summary>How cost grows with the number of calls pending.</summary>
public sealed partial class Report
{
    private readonly List<(IContender Contender, PendingResult Result)> _pending = new();

    public void AddPending(IContender contender, PendingResult result) => _pending.Add((contender, result));

    private void RenderPending(StringBuilder text)
    {
        if (_pending.Count == 0) return;
        text.AppendLine(Invariant, $"### Calls pending: memory per call ({_pending[0].Result.Calls:N0} int calls held unanswered)");
        text.AppendLine();
        text.AppendLine("The server process is stopped (SIGSTOP) while the client makes the calls, so none can be answered; then it " +
            "resumes and every call must return its answer. Client managed heap after a full GC, the client's working set, and the " +
            "broker's resident memory (which grows in chunks, so small differences are noise), each against the moment before.");
        text.AppendLine();
        text.AppendLine("| contender | client managed B/call | client working set B/call | broker resident B/call | drained in (s) |");
        text.AppendLine("|---|---:|---:|---:|---:|");
        foreach (var (contender, result) in _pending)
        {
            text.AppendLine(Invariant, $"| {contender.Name} | {result.ClientManagedBytesPerCall:0} | {result.ClientWorkingSetBytesPerCall:0} | " +
                $"{result.BrokerResidentBytesPerCall:0} | {result.Drain.TotalSeconds:0.0} |");
        }

        text.AppendLine();
    }
}
