namespace RpcGen.Benchmarks.Contracts;

/// <summary>The same data streamed and fetched page by page, for the streaming scenario (Harness/StreamScenario.cs).</summary>
[RpcService(Queue = "bench-stream")]
public interface IStreamBench
{
    /// <summary>0 .. count - 1 as a stream.</summary>
    IAsyncEnumerable<int> NumbersAsync(int count, CancellationToken cancellationToken = default);

    /// <summary>start .. start + count - 1 in one reply.</summary>
    Task<int[]> NumberPageAsync(int start, int count, CancellationToken cancellationToken = default);

    /// <summary><paramref name="count"/> blocks of <paramref name="size"/> bytes as a stream.</summary>
    IAsyncEnumerable<byte[]> BlocksAsync(int count, int size, CancellationToken cancellationToken = default);

    /// <summary><paramref name="count"/> blocks of <paramref name="size"/> bytes in one reply.</summary>
    Task<byte[][]> BlockPageAsync(int count, int size, CancellationToken cancellationToken = default);
}

/// <summary>Produces the data without waiting, so what is measured is the transport.</summary>
public sealed class StreamBench : IStreamBench
{
    private static readonly byte[] s_block = Enumerable.Range(0, 64 * 1024).Select(i => (byte)i).ToArray();

    /// <inheritdoc/>
    public async IAsyncEnumerable<int> NumbersAsync(int count, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (int i = 0; i < count; i++) yield return i;
        await Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<int[]> NumberPageAsync(int start, int count, CancellationToken cancellationToken = default) =>
        Task.FromResult(Enumerable.Range(start, count).ToArray());

    /// <inheritdoc/>
    public async IAsyncEnumerable<byte[]> BlocksAsync(int count, int size, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var block = s_block.AsSpan(0, size).ToArray();
        for (int i = 0; i < count; i++) yield return block;
        await Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<byte[][]> BlockPageAsync(int count, int size, CancellationToken cancellationToken = default)
    {
        var block = s_block.AsSpan(0, size).ToArray();
        return Task.FromResult(Enumerable.Repeat(block, count).ToArray());
    }
}
