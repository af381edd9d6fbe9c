using System.Text;
using RpcGen.Benchmarks.Contenders;
using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Harness;

/// <summary>Issue 17's targets for RpcGen, checked against this run's paired figures.</summary>
public sealed partial class Report
{
    private void RenderTargets(StringBuilder text)
    {
        var rpcGen = _contenders.FirstOrDefault(c => c is RpcGenContender { IsDefault: true });
        if (rpcGen is null) return;
        var plain = PlainBestEffort;
        var like = BestEffortWithFeatures;
        var massTransit = _contenders.FirstOrDefault(c => c is MassTransitContender);
        var wolverine = _contenders.FirstOrDefault(c => c is WolverineContender);
        var batching = _contenders.FirstOrDefault(c => c is RpcGenContender { IsBatching: true });

        var rows = new StringBuilder();
        foreach (var payload in _payloads)
        {
            void Row(string target, double value, double limit, bool atLeast)
            {
                // A contender that finished no call in a window gives no ratio to judge by.
                if (double.IsNaN(value) || double.IsInfinity(value) || value == 0) return;
                bool met = atLeast ? value >= limit : value <= limit;
                rows.AppendLine(Invariant, $"| {Payloads.Label(payload)} | {target} | {value:0.00}× | {(met ? "yes" : "**no**")} |");
            }

            if (_inFlight.Contains(1) && plain is not null)
            {
                Row("p50 latency @1 ≤ 1.10× best effort (median of rounds)", PairedRatio(payload, rpcGen, plain, 1, WindowP50Micros), 1.10, atLeast: false);
            }

            foreach (var n in _inFlight.Where(n => n > 1))
            {
                if (like is not null) Row($"CPU per call @{n} ≤ 1.00× best effort + all", PairedRatio(payload, rpcGen, like, n, r => r.TotalCpuMicrosPerCall), 1.00, atLeast: false);
                if (massTransit is not null) Row($"CPU per call @{n} ≤ 0.35× MassTransit", PairedRatio(payload, rpcGen, massTransit, n, r => r.TotalCpuMicrosPerCall), 0.35, atLeast: false);
                if (wolverine is not null) Row($"CPU per call @{n} ≤ 0.35× Wolverine", PairedRatio(payload, rpcGen, wolverine, n, r => r.TotalCpuMicrosPerCall), 0.35, atLeast: false);
            }

            if (plain is not null && _inFlight.Contains(256))
            {
                // Past the ceiling: either of the two meets it, by RpcGen as it ships or with batching on.
                foreach (var (contender, label) in new[] { (rpcGen, "RpcGen"), (batching, "RpcGen, batching") })
                {
                    if (contender is null) continue;
                    Row($"past the ceiling @256 ({label}): throughput ≥ 1.3× best effort", PairedRatio(payload, contender, plain, 256, r => r.CallsPerSecond), 1.3, atLeast: true);
                    Row($"past the ceiling @256 ({label}): or CPU per call ≤ 0.75× best effort", PairedRatio(payload, contender, plain, 256, r => r.TotalCpuMicrosPerCall), 0.75, atLeast: false);
                }
            }
        }

        if (rows.Length == 0) return;
        text.AppendLine("### Targets (RpcGen; paired ratios of this run)");
        text.AppendLine();
        text.AppendLine("| payload | target | measured | met |");
        text.AppendLine("|---|---|---:|:---:|");
        text.Append(rows);
        text.AppendLine();
    }
}
