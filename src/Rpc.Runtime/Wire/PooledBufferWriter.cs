using System;
using System.Buffers;

namespace RpcGen.Wire;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over arrays rented from <see cref="ArrayPool{T}.Shared"/>: request and reply
/// bodies are written without allocating a buffer per call, and a large body (hundreds of KB) does not land on the
/// large object heap each time.
/// </summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private const int InitialSize = 256;

    /// <summary>A writer kept for reuse keeps an array up to this size; a larger one goes back to the pool.</summary>
    private const int RetainedSize = 16 * 1024;

    private byte[] _buffer;
    private int _written;

    public PooledBufferWriter() => _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public int WrittenCount => _written;

    /// <summary>Forgets what was written; the array stays.</summary>
    public void Clear() => _written = 0;

    /// <summary>Forgets what was written and gives a large array back to the pool, for a writer that is kept for reuse.</summary>
    public void Reset()
    {
        _written = 0;
        if (_buffer.Length > RetainedSize)
        {
            var large = _buffer;
            _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);
            ArrayPool<byte>.Shared.Return(large);
        }
    }

    public void Advance(int count)
    {
        if ((uint)count > (uint)(_buffer.Length - _written)) throw new ArgumentOutOfRangeException(nameof(count));
        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    private void Ensure(int sizeHint)
    {
        if (sizeHint < 1) sizeHint = 1;
        if (_buffer.Length - _written >= sizeHint) return;
        long wanted = Math.Max((long)_buffer.Length * 2, (long)_written + sizeHint);
        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(wanted, Array.MaxLength));
        _buffer.AsSpan(0, _written).CopyTo(larger);
        var old = _buffer;
        _buffer = larger;
        if (old.Length > 0) ArrayPool<byte>.Shared.Return(old);
    }

    /// <summary>Gives the array back to the pool. Nothing written may be read afterwards.</summary>
    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = Array.Empty<byte>();
        _written = 0;
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }
}
