using System;

namespace RpcGen;

// The settings of streamed results (methods returning IAsyncEnumerable<T>; docs/wire-format.md, "Streaming results").
public sealed partial class RpcOptions
{
    /// <summary>
    /// How many items of a streamed result a caller lets a server send ahead of what the caller's code has taken (the
    /// flow-control window). The caller grants more as it consumes, in steps of half the window, so a slow caller has
    /// at most this many items buffered between the server, the broker and itself. A server uses its own value for a
    /// request that names none. Defaults to 256 (docs/performance.md, "Streaming results": larger windows hardly add
    /// throughput on one connection). At most 65,536: the window is what a caller agrees to buffer, and a server told
    /// of a larger one would be told to run that far ahead.
    /// </summary>
    public int StreamWindow
    {
        get => _streamWindow;
        set => _streamWindow = value is >= 1 and <= Wire.StreamContract.MaxWindow
            ? value
            : throw new ArgumentOutOfRangeException(nameof(StreamWindow), value, $"The stream window must be from 1 to {Wire.StreamContract.MaxWindow} items.");
    }

    private int _streamWindow = 256;

    /// <summary>
    /// How many items of a streamed result a server may put into one message, when they are ready together (the
    /// enumeration produces them without waiting). 1 sends one message per item. Defaults to 64.
    /// </summary>
    public int StreamBatchSize
    {
        get => _streamBatchSize;
        set => _streamBatchSize = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(StreamBatchSize), value, "The stream batch size must be at least 1 item.");
    }

    private int _streamBatchSize = 64;

    /// <summary>
    /// How long either end of a stream waits without hearing from the other before giving up. A caller that has taken
    /// every item it received and gets no message for this long fails the stream with <see cref="RpcTimeoutException"/>
    /// (the server died, or produces no item in time); a server waiting for credit that hears no grant for this long
    /// stops the enumeration (the caller is gone). Callers resend their last grant every third of it while they live.
    /// Set it alike on both sides. The call's own timeout bounds the whole stream as well. Defaults to 30 seconds.
    /// </summary>
    public TimeSpan StreamIdleTimeout
    {
        get => _streamIdleTimeout;
        set => _streamIdleTimeout = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(StreamIdleTimeout), value, "The stream idle timeout must be positive.");
    }

    private TimeSpan _streamIdleTimeout = TimeSpan.FromSeconds(30);
}
