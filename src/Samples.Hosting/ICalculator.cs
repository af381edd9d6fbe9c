using System.Collections.Generic;
using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;
using RpcGen;

namespace Samples.Hosting;

/// <summary>The service contract: served by <see cref="Calculator"/>, called through the generated client.</summary>
[RpcService]
public interface ICalculator
{
    /// <summary>The sum of two numbers.</summary>
    Task<int> AddAsync(int a, int b, CancellationToken cancellationToken = default);

    /// <summary>Count, mean and extremes of a series.</summary>
    Task<Summary> SummarizeAsync(IReadOnlyList<double> values, CancellationToken cancellationToken = default);
}

/// <summary>What <see cref="ICalculator.SummarizeAsync"/> returns.</summary>
public sealed record Summary(int Count, double Mean, double Min, double Max, string ServedBy);

/// <summary>
/// Serialisation code generated at compile time for every type the calls carry: no reflection at run time, so the
/// app runs trimmed (and AOT) with zero warnings.
/// </summary>
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(IReadOnlyList<double>))]
[JsonSerializable(typeof(Summary))]
public sealed partial class SampleJsonContext : JsonSerializerContext
{
}
