namespace RpcGen;

/// <summary>Where the replies to a connection's calls come back (<see cref="RpcClientOptions.ReplyQueue"/>).</summary>
public enum RpcReplyQueue
{
    /// <summary>
    /// A server-named queue of the connection's own when its broker user may declare and read one (configure and read
    /// on <c>^amq\.gen-.*</c>), direct reply-to otherwise: the default since 1.1. Falling back is logged once, at
    /// Information (event 1011 <c>DirectReplyToChosen</c>), and the broker logs the refused declare.
    /// </summary>
    Automatic = 0,

    /// <summary>
    /// RabbitMQ's direct reply-to (<c>amq.rabbitmq.reply-to</c>): no queue on the broker and no permission needed, so it
    /// costs the broker nothing per connection. The default before 1.1.
    /// </summary>
    DirectReplyTo = 1,

    /// <summary>
    /// A classic queue the broker names (<c>amq.gen-…</c>), exclusive to the connection and deleted with its channel,
    /// declared again whenever the channel is rebuilt or the connection recovered. Needs configure and read on
    /// <c>^amq\.gen-.*</c>; opening the connection fails without them. One queue on the broker per connection.
    /// </summary>
    ServerNamedQueue = 2,
}
