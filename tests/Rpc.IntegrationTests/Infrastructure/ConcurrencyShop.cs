namespace RpcGen.IntegrationTests.Semantics;

/// <summary>A <see cref="Shop"/> that records the most <c>WaitAsync</c> calls it ever ran at once: what bounds a server's concurrency.</summary>
internal sealed class ConcurrencyShop : Shop
{
    private int _running;
    public int MaxConcurrent;

    public override async Task<int> WaitAsync(int milliseconds, CancellationToken cancellationToken = default)
    {
        int now = Interlocked.Increment(ref _running);
        int seen;
        while ((seen = Volatile.Read(ref MaxConcurrent)) < now && Interlocked.CompareExchange(ref MaxConcurrent, now, seen) != seen)
        {
        }

        try
        {
            return await base.WaitAsync(milliseconds, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }
}
