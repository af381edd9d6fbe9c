using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace Samples.Hosting;

/// <summary>
/// A dependency registered as scoped, standing in for a DbContext or a unit of work: RpcGen resolves the
/// implementation from a new scope per call, so each call gets its own and it is disposed after the call.
/// </summary>
public sealed class RequestScope : IDisposable
{
    private static int s_created;

    /// <summary>Which scope this is, counted from 1 in this process.</summary>
    public int Number { get; } = Interlocked.Increment(ref s_created);

    /// <summary>Set once the call that used this scope has been answered.</summary>
    public bool Disposed { get; private set; }

    /// <inheritdoc/>
    public void Dispose() => Disposed = true;
}

/// <summary>The implementation, with constructor injection like any other service.</summary>
public sealed class Calculator : ICalculator
{
    private readonly RequestScope _scope;
    private readonly ILogger<Calculator> _logger;

    /// <summary>Created per call, in the call's scope.</summary>
    public Calculator(RequestScope scope, ILogger<Calculator> logger)
    {
        _scope = scope;
        _logger = logger;
    }

    /// <inheritdoc/>
    public Task<int> AddAsync(int a, int b, CancellationToken cancellationToken = default)
    {
        _logger.LogDebug("Add({A}, {B}) in scope {Scope}", a, b, _scope.Number);
        return Task.FromResult(checked(a + b));
    }

    /// <inheritdoc/>
    public Task<Summary> SummarizeAsync(IReadOnlyList<double> values, CancellationToken cancellationToken = default)
    {
        if (values.Count == 0) throw new ArgumentException("Give at least one value.", nameof(values));
        return Task.FromResult(new Summary(values.Count, values.Average(), values.Min(), values.Max(), "scope " + _scope.Number));
    }
}
