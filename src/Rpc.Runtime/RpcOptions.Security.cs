using System;
using System.Collections.Generic;

namespace RpcGen;

// What a server accepts from callers it cannot trust (docs/security.md).
public sealed partial class RpcOptions
{
    /// <summary>
    /// Reply queues a server answers besides direct reply-to (<c>amq.rabbitmq.reply-to…</c>) and server-named queues
    /// (<c>amq.gen-…</c>): a request whose <c>reply_to</c> starts with none of these prefixes is not run, acked and
    /// logged (warning 3042 <c>ReplyQueueRefused</c>). A server publishes replies with its own broker rights through the
    /// default exchange, which reaches every queue of the vhost, so without this check any caller could make it write
    /// into any queue (another service's work queue, for one). Add the prefix of the named reply queues your plain AMQP
    /// callers use, e.g. <c>billing.replies.</c>. Empty by default.
    /// </summary>
    public IList<string> AllowedReplyQueuePrefixes { get; set; } = new List<string>();

    /// <summary>
    /// The most items a server streams ahead of its caller's consumption, whatever window (<c>rpc-stream-window</c>) or
    /// credit the caller sends: a caller cannot make a server flood its reply queue. A caller whose
    /// <see cref="StreamWindow"/> is larger is simply sent less ahead. Defaults to 4,096.
    /// </summary>
    public int MaxStreamWindow
    {
        get => _maxStreamWindow;
        set => _maxStreamWindow = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxStreamWindow), value, "The stream window cap must be at least 1 item.");
    }

    private int _maxStreamWindow = 4096;

    /// <summary>Whether a server answers a request whose reply_to is <paramref name="replyTo"/>.</summary>
    internal bool IsAllowedReplyQueue(string replyTo)
    {
        if (replyTo.StartsWith(Wire.WireContract.DirectReplyTo, StringComparison.Ordinal)
            || replyTo.StartsWith(ServerNamedQueuePrefix, StringComparison.Ordinal))
        {
            return true;
        }

        foreach (var prefix in AllowedReplyQueuePrefixes)
        {
            if (!string.IsNullOrEmpty(prefix) && replyTo.StartsWith(prefix, StringComparison.Ordinal)) return true;
        }

        return false;
    }

    private const string ServerNamedQueuePrefix = "amq.gen-";
}
