using System;

namespace RpcGen;

// Batched calls (docs/wire-format.md, "Batched calls"; figures in docs/performance.md, "Past the ceiling").
public sealed partial class RpcOptions
{
    /// <summary>
    /// Whether calls to one service that wait to be published together go out as one message, and their replies come
    /// back as one. A call goes out on its own whenever nothing else is waiting, so a lone call is sent exactly as
    /// without batching; batches form only under load, where they save the broker most of its work per call.
    /// Off by default: every server of a batched service must be an RpcGen server that reads batches (a plain AMQP
    /// server, or an RpcGen server older than batching, answers a batch with an error). Only request/reply calls
    /// without per-call headers, trace context or streaming are batched; one-way work, ordered services and large
    /// requests go out on their own.
    /// </summary>
    public bool BatchCalls { get; set; }

    /// <summary>
    /// The most calls one batch carries (with <see cref="BatchCalls"/>). A server runs a batch's calls side by side,
    /// at most <see cref="Prefetch"/> batch calls at a time across all its batches (plus up to Prefetch lone requests). Defaults to 32.
    /// </summary>
    public int MaxBatchSize
    {
        get => _maxBatchSize;
        set => _maxBatchSize = value is >= 2 and <= Wire.CallBatch.MaxItems
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), value, $"A batch carries from 2 to {Wire.CallBatch.MaxItems} calls.");
    }

    private int _maxBatchSize = 32;

    /// <summary>
    /// The largest request body that may travel in a batch (with <see cref="BatchCalls"/>); a larger one goes out on
    /// its own, where batching would save little beside the cost of the body itself. Defaults to 16 KiB.
    /// </summary>
    public int MaxBatchedBodySize
    {
        get => _maxBatchedBodySize;
        set => _maxBatchedBodySize = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxBatchedBodySize), value, "The size must not be negative.");
    }

    private int _maxBatchedBodySize = 16 * 1024;
}
