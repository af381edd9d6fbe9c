using System;

namespace Samples.Fibonacci;

/// <summary>A declared fault: the caller asked for more numbers than a long holds; its properties travel as data.</summary>
public sealed class FibonacciRangeException : Exception
{
    /// <summary>Creates the fault.</summary>
    public FibonacciRangeException(int requested, int limit)
        : base($"{requested} numbers asked for; a long holds the first {limit} only.")
    {
        Requested = requested;
        Limit = limit;
    }

    /// <summary>How many numbers the caller asked for.</summary>
    public int Requested { get; }

    /// <summary>How many there are: fib(0) to fib(Limit - 1).</summary>
    public int Limit { get; }
}
