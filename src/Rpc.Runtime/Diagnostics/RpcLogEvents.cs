namespace RpcGen.Diagnostics;

/// <summary>
/// The event ids RpcGen logs with. They are stable: filter or alert on them. A successful call is logged at
/// <c>Debug</c> only (<see cref="CallSucceeded"/>, <see cref="RequestHandled"/>), off under the usual Information minimum.
/// </summary>
public static class RpcLogEvents
{
    /// <summary>Information: the connection to RabbitMQ is open (category <c>RpcGen.Connection</c>).</summary>
    public const int Connected = 1001;

    /// <summary>Warning: the connection was lost; RabbitMQ.Client's automatic recovery is reconnecting.</summary>
    public const int Reconnecting = 1002;

    /// <summary>Information: the connection, its channels and consumers were recovered after a loss.</summary>
    public const int Recovered = 1003;

    /// <summary>Warning: one reconnect attempt failed; recovery tries again.</summary>
    public const int RecoveryAttemptFailed = 1004;

    /// <summary>
    /// Warning: the broker closed one channel while the connection stayed open (its reason says why: a message over
    /// <c>max_message_size</c>, a forged <c>user_id</c>, a consumer past <c>consumer_timeout</c>...). Calls it carried
    /// failed at once with <c>RpcChannelClosedException</c>; the channel is being rebuilt.
    /// </summary>
    public const int ChannelClosed = 1005;

    /// <summary>Information: a channel the broker closed was rebuilt (with its consumer); publishing resumed.</summary>
    public const int ChannelRebuilt = 1006;

    /// <summary>
    /// Warning: the broker blocks this connection's publishers (<c>connection.blocked</c>: a memory or disk alarm), with
    /// its reason. Calls and one-way sends fail fast with <c>RpcBrokerBlockedException</c> until it unblocks.
    /// </summary>
    public const int PublishersBlocked = 1007;

    /// <summary>Information: the broker unblocked this connection's publishers; calls go out again.</summary>
    public const int PublishersUnblocked = 1008;

    /// <summary>
    /// Warning: a client call ended in an exception other than the caller's cancellation: timeout, error reply,
    /// unroutable, connection lost (category <c>RpcGen.Client</c>).
    /// </summary>
    public const int CallFailed = 2001;

    /// <summary>
    /// Information: the caller's cancellation token fired before the reply; a cancel was sent to the service's servers
    /// (category <c>RpcGen.Client</c>).
    /// </summary>
    public const int CallCancelled = 2010;

    /// <summary>Information: a call ended in a fault its method declares (<see cref="RpcFaultAttribute"/>), rethrown as that exception.</summary>
    public const int CallFaulted = 2011;

    /// <summary>
    /// Warning: a reply broke the wire contract and was refused (category <c>RpcGen.Client</c>): a batch of replies
    /// naming a call that was not in the batch it answers (the call keeps waiting for its own reply), stream items
    /// beyond the credit the caller granted, or a stream message out of sequence or of an unknown kind (the stream
    /// fails). A server, or a peer that knows a call's id, is misbehaving.
    /// </summary>
    public const int ReplyRejected = 2020;

    /// <summary>Information: a handler threw a fault its method declares; the caller gets it as that exception (category <c>RpcGen.Server</c>).</summary>
    public const int DeclaredFaultReturned = 3011;

    /// <summary>
    /// Debug: a client call succeeded (reply received; for a one-way method, the broker confirmed the send), with service,
    /// method, queue, correlation id and elapsed milliseconds (category <c>RpcGen.Client</c>).
    /// </summary>
    public const int CallSucceeded = 2002;

    /// <summary>
    /// Debug: a server answered a request successfully and acked it, with service, method, queue, correlation id and
    /// the milliseconds from delivery to ack (category <c>RpcGen.Server</c>).
    /// </summary>
    public const int RequestHandled = 3020;

    /// <summary>
    /// Warning: an event was published to an exchange where no queue is bound for its routing key, so the broker
    /// dropped it (category <c>RpcGen.Client</c>). Set <see cref="RpcClientOptions.FailUnroutableEvents"/> to make it an exception.
    /// </summary>
    public const int EventUnroutable = 2003;

    /// <summary>
    /// Error: a handler of a call threw, or its result could not be serialised; the caller got an error reply (category
    /// <c>RpcGen.Server</c>). A one-way request or event whose handler throws logs <see cref="WorkRetried"/> (Warning)
    /// per retry and one <see cref="WorkDeadLettered"/> (Error) when it is given up instead.
    /// </summary>
    public const int HandlerFailed = 3001;

    /// <summary>
    /// Warning: a request that can never succeed (unreadable body, unknown method, too large, unsupported content type)
    /// was answered with an error reply and acked, so it is not redelivered.
    /// </summary>
    public const int PoisonMessageRejected = 3002;

    /// <summary>
    /// Warning: a request arrived after its caller's deadline (<c>rpc-deadline</c>) and was answered with
    /// <c>rpc:deadline-exceeded</c> without running: the server is behind, or a publish was held up.
    /// </summary>
    public const int RequestExpired = 3005;

    /// <summary>
    /// Warning: the broker closed a server's channel because a request stayed unacknowledged longer than its
    /// <c>consumer_timeout</c> (a handler ran too long). The channel was rebuilt and consumes again; the unacked
    /// requests go back to the queue (at-least-once).
    /// </summary>
    public const int ConsumerTimeoutExceeded = 3010;

    /// <summary>
    /// Error: answering a request failed in the runtime, not the handler (publishing the reply failed for a reason other
    /// than a lost channel). The request was acked, so it is not redelivered in a loop; its caller times out.
    /// </summary>
    public const int AnswerFailed = 3012;

    /// <summary>
    /// Warning: a batch of requests (docs/wire-format.md, "Batched calls") could not be read. It was acked without
    /// running any of its requests, so it is not redelivered in a loop; their callers time out.
    /// </summary>
    public const int BatchRejected = 3013;

    /// <summary>
    /// Warning: the handler of a one-way request or event threw; the message went back to the end of its queue with
    /// its <c>rpc-retries</c> header one higher, to be tried again (at most <see cref="RpcServerOptions.RetryLimit"/> times).
    /// </summary>
    public const int WorkRetried = 3006;

    /// <summary>
    /// Error: a one-way request or event was given up (its retries used up, or input that can never succeed) and
    /// moved to <c>{queue}.dead-letter</c> with the error in its headers. Someone has to look at it.
    /// </summary>
    public const int WorkDeadLettered = 3007;

    /// <summary>
    /// Warning: the copy of a failed one-way request or event (its retry or dead letter) was not confirmed. Refused by
    /// the broker (nack, return, 403, 404, 406), it is tried again up to 3 times, then given up
    /// (<see cref="HandOffGivenUp"/>); not confirmed in time (<see cref="RpcClientOptions.DefaultTimeout"/>: an alarm blocks
    /// the connection) or with the connection lost, the delivery stays with the broker, which delivers it again.
    /// </summary>
    public const int HandOffFailed = 3008;

    /// <summary>
    /// Error: the broker refused the copy of a failed one-way request or event 3 times (its dead-letter queue cannot be
    /// declared, or is full with reject-publish); the delivery was acked and the work is lost. The entry names its
    /// message id and size. Fix the dead-letter queue.
    /// </summary>
    public const int HandOffGivenUp = 3009;

    /// <summary>
    /// Warning: a reply was larger than the broker's <c>max_message_size</c> (learnt from the broker's refusal); the
    /// caller got an <c>rpc:too-large</c> error reply instead, and the request was run once and acked.
    /// </summary>
    public const int ReplyRefusedAsTooLarge = 3014;

    /// <summary>
    /// Warning: a request (or a batch of them) asked for its reply in a queue this server does not answer: not direct
    /// reply-to, not server-named (<c>amq.gen-…</c>), not under <see cref="RpcServerOptions.AllowedReplyQueuePrefixes"/>.
    /// It was acked without running, so a caller cannot make the server write into another queue.
    /// </summary>
    public const int ReplyQueueRefused = 3042;

    /// <summary>
    /// Warning: the broker refused this server's user the batch queue <c>rpc-batch.{queue}</c> (configure or read,
    /// docs/security.md). The server serves lone calls only; its clients learn that nobody reads batches and send none.
    /// </summary>
    public const int BatchQueueRefused = 3043;

    /// <summary>Information: a hosted server started consuming its queue.</summary>
    public const int ServerStarted = 3003;

    /// <summary>Information: a hosted server stopped (calls in flight were drained).</summary>
    public const int ServerStopped = 3004;

    /// <summary>
    /// Warning: the connection was lost and recovered, and with it a subscription's exclusive server-named queue,
    /// which the broker deleted with the old connection: recovery declared a fresh one, bound it and consumes it now.
    /// Events published while the connection was down were not kept for this subscriber (a named queue keeps them).
    /// </summary>
    public const int SubscriptionQueueRenewed = 3030;

    /// <summary>
    /// Warning: the broker cancelled a server's consumer while its channel stayed open, which it does when the queue
    /// is deleted (by an operator, a script, a policy). The server declares the queue again and consumes it; what the
    /// deleted queue held is gone. Names the service and the queue.
    /// </summary>
    public const int ConsumerCancelledByBroker = 3040;

    /// <summary>
    /// Information (Warning when a call the handler made timed out before its own caller's deadline): a handler ended
    /// because the runtime stopped it, not because it failed: its caller cancelled, its caller's deadline passed, its
    /// channel closed or the server is stopping. No stack trace; the caller sees its own cancellation or timeout.
    /// </summary>
    public const int HandlerStopped = 3041;

    /// <summary>
    /// Error: after the connection recovered, a durable queue this connection sends work to or serves was missing: the
    /// broker lost it (RabbitMQ 3.x can lose a queue declared moments before a crash) and the messages in it with it.
    /// RpcGen declared it again, empty. Someone has to find out what was lost. Names the queue.
    /// </summary>
    public const int QueueLostByBroker = 1010;

    /// <summary>
    /// Information: with <c>RpcClientOptions.ReplyQueue</c> = <c>Automatic</c>, RabbitMQ refused this connection a reply
    /// queue of its own (its user has no configure or read on <c>^amq\.gen-.*</c>), at connect or when the call channel
    /// was rebuilt, so replies come through direct reply-to from now on. Calls work; grant those permissions for the faster path, or set <c>DirectReplyTo</c> to skip the attempt.
    /// </summary>
    public const int DirectReplyToChosen = 1011;
}
