using System;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace RpcGen.Diagnostics;

/// <summary>The loggers of one <see cref="RpcSettings"/>, created once; no-op loggers when no factory is set.</summary>
internal sealed class RpcLoggers
{
    public RpcLoggers(ILoggerFactory? factory)
    {
        Factory = factory;
        Connection = factory?.CreateLogger(RpcDiagnostics.ConnectionLogCategory) ?? NullLogger.Instance;
        Client = factory?.CreateLogger(RpcDiagnostics.ClientLogCategory) ?? NullLogger.Instance;
        Server = factory?.CreateLogger(RpcDiagnostics.ServerLogCategory) ?? NullLogger.Instance;
    }

    public ILoggerFactory? Factory { get; }
    public ILogger Connection { get; }
    public ILogger Client { get; }
    public ILogger Server { get; }
}

/// <summary>Every log message RpcGen writes, source-generated (no boxing, no reflection, checked at compile time).</summary>
internal static partial class RpcLog
{
    [LoggerMessage(EventId = RpcLogEvents.Connected, EventName = nameof(RpcLogEvents.Connected), Level = LogLevel.Information,
        Message = "Connected to RabbitMQ at {Uri} as '{ConnectionName}'")]
    public static partial void Connected(ILogger logger, string uri, string connectionName);

    [LoggerMessage(EventId = RpcLogEvents.Reconnecting, EventName = nameof(RpcLogEvents.Reconnecting), Level = LogLevel.Warning,
        Message = "Lost the connection to RabbitMQ at {Uri} ({Reason}); reconnecting. Calls waiting for a reply fail now with RpcConnectionException")]
    public static partial void Reconnecting(ILogger logger, string uri, string reason);

    [LoggerMessage(EventId = RpcLogEvents.Recovered, EventName = nameof(RpcLogEvents.Recovered), Level = LogLevel.Information,
        Message = "Reconnected to RabbitMQ at {Uri}; channels and consumers recovered")]
    public static partial void Recovered(ILogger logger, string uri);

    [LoggerMessage(EventId = RpcLogEvents.RecoveryAttemptFailed, EventName = nameof(RpcLogEvents.RecoveryAttemptFailed), Level = LogLevel.Warning,
        Message = "Reconnecting to RabbitMQ at {Uri} failed; trying again")]
    public static partial void RecoveryAttemptFailed(ILogger logger, Exception exception, string uri);

    [LoggerMessage(EventId = RpcLogEvents.CallFailed, EventName = nameof(RpcLogEvents.CallFailed), Level = LogLevel.Warning,
        Message = "RPC {Service}.{Method} (queue '{Queue}', correlation id {CorrelationId}) failed: {ErrorType}: {ErrorMessage}")]
    public static partial void CallFailed(ILogger logger, string service, string method, string queue, string? correlationId, string errorType, string errorMessage);

    [LoggerMessage(EventId = RpcLogEvents.CallSucceeded, EventName = nameof(RpcLogEvents.CallSucceeded), Level = LogLevel.Debug,
        Message = "RPC {Service}.{Method} (queue '{Queue}', correlation id {CorrelationId}) succeeded in {ElapsedMs:0.###} ms")]
    public static partial void CallSucceeded(ILogger logger, string service, string method, string queue, string? correlationId, double elapsedMs);

    [LoggerMessage(EventId = RpcLogEvents.RequestHandled, EventName = nameof(RpcLogEvents.RequestHandled), Level = LogLevel.Debug,
        Message = "Answered {Service}.{Method} on queue '{Queue}' (correlation id {CorrelationId}) in {ElapsedMs:0.###} ms")]
    public static partial void RequestHandled(ILogger logger, string service, string method, string queue, string? correlationId, double elapsedMs);

    [LoggerMessage(EventId = RpcLogEvents.EventUnroutable, EventName = nameof(RpcLogEvents.EventUnroutable), Level = LogLevel.Warning,
        Message = "Event {Events}.{Method} reached no queue: nothing is bound to exchange '{Exchange}' for routing key '{RoutingKey}'; the broker dropped it")]
    public static partial void EventUnroutable(ILogger logger, string events, string method, string exchange, string routingKey);

    [LoggerMessage(EventId = RpcLogEvents.HandlerFailed, EventName = nameof(RpcLogEvents.HandlerFailed), Level = LogLevel.Error,
        Message = "RPC {Service}.{Method} (queue '{Queue}', correlation id {CorrelationId}) failed in the server; the caller got error {ErrorType}")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string service, string method, string queue, string? correlationId, string errorType);

    [LoggerMessage(EventId = RpcLogEvents.PoisonMessageRejected, EventName = nameof(RpcLogEvents.PoisonMessageRejected), Level = LogLevel.Warning,
        Message = "Rejected a request to {Service} on queue '{Queue}' (type '{MethodType}', correlation id {CorrelationId}, {BodySize} bytes): {ErrorType}: {Reason}. It was answered with an error reply and acked, so it is not redelivered")]
    public static partial void PoisonMessageRejected(ILogger logger, string service, string queue, string? methodType, string? correlationId, int bodySize, string errorType, string reason);

    [LoggerMessage(EventId = RpcLogEvents.SubscriptionQueueRenewed, EventName = nameof(RpcLogEvents.SubscriptionQueueRenewed), Level = LogLevel.Warning,
        Message = "The connection recovered; the exclusive queue of the {Events} subscription, '{OldQueue}', went with the old connection and is now '{Queue}', bound again. Events published while the connection was down were not kept for it")]
    public static partial void SubscriptionQueueRenewed(ILogger logger, string events, string oldQueue, string queue);

    [LoggerMessage(EventId = RpcLogEvents.RequestExpired, EventName = nameof(RpcLogEvents.RequestExpired), Level = LogLevel.Warning,
        Message = "Did not run a request to {Service}.{Method} on queue '{Queue}' (correlation id {CorrelationId}): {Reason}")]
    public static partial void RequestExpired(ILogger logger, string service, string method, string queue, string? correlationId, string reason);

    [LoggerMessage(EventId = RpcLogEvents.DeclaredFaultReturned, EventName = nameof(RpcLogEvents.DeclaredFaultReturned), Level = LogLevel.Information,
        Message = "RPC {Service}.{Method} (queue '{Queue}', correlation id {CorrelationId}) ended in its declared fault {ErrorType}: {ErrorMessage}")]
    public static partial void DeclaredFaultReturned(ILogger logger, string service, string method, string queue, string? correlationId, string errorType, string errorMessage);

    [LoggerMessage(EventId = RpcLogEvents.CallCancelled, EventName = nameof(RpcLogEvents.CallCancelled), Level = LogLevel.Information,
        Message = "RPC {Service}.{Method} (queue '{Queue}', correlation id {CorrelationId}) was cancelled by its caller after {ElapsedMs} ms; the servers were told")]
    public static partial void CallCancelled(ILogger logger, string service, string method, string queue, string? correlationId, long elapsedMs);

    [LoggerMessage(EventId = RpcLogEvents.CallFaulted, EventName = nameof(RpcLogEvents.CallFaulted), Level = LogLevel.Information,
        Message = "RPC {Service}.{Method} (queue '{Queue}', correlation id {CorrelationId}) ended in its declared fault {ErrorType}: {ErrorMessage}")]
    public static partial void CallFaulted(ILogger logger, string service, string method, string queue, string? correlationId, string errorType, string errorMessage);

    [LoggerMessage(EventId = RpcLogEvents.ReplyRejected, EventName = nameof(RpcLogEvents.ReplyRejected), Level = LogLevel.Warning,
        Message = "RPC {Service}.{Method} (queue '{Queue}', correlation id {CorrelationId}): refused a reply that breaks the wire contract: {Reason}")]
    public static partial void ReplyRejected(ILogger logger, string service, string method, string queue, string? correlationId, string reason);

    [LoggerMessage(EventId = RpcLogEvents.ServerStarted, EventName = nameof(RpcLogEvents.ServerStarted), Level = LogLevel.Information,
        Message = "Serving {Service} on queue '{Queue}'")]
    public static partial void ServerStarted(ILogger logger, string service, string queue);

    [LoggerMessage(EventId = RpcLogEvents.ServerStopped, EventName = nameof(RpcLogEvents.ServerStopped), Level = LogLevel.Information,
        Message = "Stopped serving {Service} on queue '{Queue}' after {Served} requests")]
    public static partial void ServerStopped(ILogger logger, string service, string queue, long served);

    [LoggerMessage(EventId = RpcLogEvents.ChannelClosed, EventName = nameof(RpcLogEvents.ChannelClosed), Level = LogLevel.Warning,
        Message = "RabbitMQ closed the {Purpose} ({ReplyCode}: {Reason}); the connection is still open. {FailedCalls} calls it carried failed now; rebuilding the channel")]
    public static partial void ChannelClosed(ILogger logger, string purpose, ushort replyCode, string reason, int failedCalls);

    [LoggerMessage(EventId = RpcLogEvents.ChannelRebuilt, EventName = nameof(RpcLogEvents.ChannelRebuilt), Level = LogLevel.Information,
        Message = "Rebuilt the {Purpose} after the broker closed it, in {Milliseconds} ms")]
    public static partial void ChannelRebuilt(ILogger logger, string purpose, long milliseconds);

    [LoggerMessage(EventId = RpcLogEvents.PublishersBlocked, EventName = nameof(RpcLogEvents.PublishersBlocked), Level = LogLevel.Warning,
        Message = "RabbitMQ at {Uri} blocks this connection's publishers ({Reason}); calls and one-way sends fail fast with RpcBrokerBlockedException until it unblocks")]
    public static partial void PublishersBlocked(ILogger logger, string uri, string reason);

    [LoggerMessage(EventId = RpcLogEvents.PublishersUnblocked, EventName = nameof(RpcLogEvents.PublishersUnblocked), Level = LogLevel.Information,
        Message = "RabbitMQ at {Uri} unblocked this connection's publishers after {Milliseconds} ms")]
    public static partial void PublishersUnblocked(ILogger logger, string uri, long milliseconds);

    [LoggerMessage(EventId = RpcLogEvents.ConsumerCancelledByBroker, EventName = nameof(RpcLogEvents.ConsumerCancelledByBroker), Level = LogLevel.Warning,
        Message = "The broker cancelled the consumer of {Service} on queue '{Queue}' (the queue was deleted?); declaring the queue again and consuming it. What the deleted queue held is gone")]
    public static partial void ConsumerCancelledByBroker(ILogger logger, string service, string queue);

    [LoggerMessage(EventId = RpcLogEvents.HandlerStopped, EventName = nameof(RpcLogEvents.HandlerStopped),
        Message = "{Service}.{Method} on queue '{Queue}' (correlation id {CorrelationId}) stopped: {Reason} ({ErrorType})")]
    public static partial void HandlerStopped(ILogger logger, LogLevel level, string service, string method, string queue, string? correlationId, string reason, string errorType);

    [LoggerMessage(EventId = RpcLogEvents.QueueLostByBroker, EventName = nameof(RpcLogEvents.QueueLostByBroker), Level = LogLevel.Error,
        Message = "Durable queue '{Queue}' was missing when the connection to {Uri} recovered: the broker lost it and every message in it. Declared it again, empty")]
    public static partial void QueueLostByBroker(ILogger logger, string queue, string uri);

    [LoggerMessage(EventId = RpcLogEvents.DirectReplyToChosen, EventName = nameof(RpcLogEvents.DirectReplyToChosen), Level = LogLevel.Information,
        Message = "Replies to this connection's calls come through direct reply-to: RabbitMQ refused it a reply queue of its own ({ReplyCode} {ReplyText}). " +
            "Grant configure and read on ^amq[.]gen-.* for replies through the connection's own queue, or set RpcClientOptions.ReplyQueue to DirectReplyTo to skip the attempt")]
    public static partial void DirectReplyToChosen(ILogger logger, ushort replyCode, string replyText);

    [LoggerMessage(EventId = RpcLogEvents.ConsumerTimeoutExceeded, EventName = nameof(RpcLogEvents.ConsumerTimeoutExceeded), Level = LogLevel.Warning,
        Message = "RabbitMQ closed the channel serving queue '{Queue}' because a request stayed unacknowledged past its consumer_timeout ({Reason}): a handler ran too long. The channel was rebuilt; unacked requests go back to the queue")]
    public static partial void ConsumerTimeoutExceeded(ILogger logger, string queue, string reason);

    [LoggerMessage(EventId = RpcLogEvents.AnswerFailed, EventName = nameof(RpcLogEvents.AnswerFailed), Level = LogLevel.Error,
        Message = "Answering a request to {Service} on queue '{Queue}' (correlation id {CorrelationId}) failed in the runtime; it was acked and its caller gets no reply")]
    public static partial void AnswerFailed(ILogger logger, Exception exception, string service, string queue, string? correlationId);

    [LoggerMessage(EventId = RpcLogEvents.BatchRejected, EventName = nameof(RpcLogEvents.BatchRejected), Level = LogLevel.Warning,
        Message = "Rejected a batch of requests to {Service} on queue '{Queue}' (correlation id {CorrelationId}, {BodySize} bytes): {Reason}. It was acked without running any of them, so it is not redelivered; their callers time out")]
    public static partial void BatchRejected(ILogger logger, string service, string queue, string? correlationId, int bodySize, string reason);

    [LoggerMessage(EventId = RpcLogEvents.BatchQueueRefused, EventName = nameof(RpcLogEvents.BatchQueueRefused), Level = LogLevel.Warning,
        Message = "The server of {Service} on queue '{Queue}' does not read batched calls: RabbitMQ refused it the batch queue '{BatchQueue}' ({Reason}). Give its user configure and read on that queue (docs/security.md); meanwhile its clients send lone calls")]
    public static partial void BatchQueueRefused(ILogger logger, string service, string queue, string batchQueue, string reason);

    [LoggerMessage(EventId = RpcLogEvents.ReplyQueueRefused, EventName = nameof(RpcLogEvents.ReplyQueueRefused), Level = LogLevel.Warning,
        Message = "Refused a request to {Service} on queue '{Queue}' (correlation id {CorrelationId}, user {UserId}): its reply_to '{ReplyTo}' is not direct reply-to, a server-named queue or under RpcServerOptions.AllowedReplyQueuePrefixes. It was acked without running")]
    public static partial void ReplyQueueRefused(ILogger logger, string service, string queue, string? correlationId, string? userId, string replyTo);

    [LoggerMessage(EventId = RpcLogEvents.WorkRetried, EventName = nameof(RpcLogEvents.WorkRetried), Level = LogLevel.Warning,
        Message = "{Service}.{Method} on queue '{Queue}' failed ({ErrorType}: {ErrorMessage}); put back in the queue for retry {Retry} of {RetryLimit}")]
    public static partial void WorkRetried(ILogger logger, Exception? exception, string service, string method, string queue, int retry, int retryLimit, string errorType, string errorMessage);

    [LoggerMessage(EventId = RpcLogEvents.WorkDeadLettered, EventName = nameof(RpcLogEvents.WorkDeadLettered), Level = LogLevel.Error,
        Message = "{Service}.{Method} on queue '{Queue}' given up after {Retries} retries ({ErrorType}: {ErrorMessage}); moved to '{DeadLetterQueue}'")]
    public static partial void WorkDeadLettered(ILogger logger, Exception? exception, string service, string method, string queue, string deadLetterQueue, int retries, string errorType, string errorMessage);

    [LoggerMessage(EventId = RpcLogEvents.HandOffFailed, EventName = nameof(RpcLogEvents.HandOffFailed), Level = LogLevel.Warning,
        Message = "{Service}.{Method} on queue '{Queue}' failed and its copy to '{Target}' was not confirmed; tried again if the broker refused it, else left with the broker, which delivers it again")]
    public static partial void HandOffFailed(ILogger logger, Exception exception, string service, string queue, string method, string target);

    [LoggerMessage(EventId = RpcLogEvents.HandOffGivenUp, EventName = nameof(RpcLogEvents.HandOffGivenUp), Level = LogLevel.Error,
        Message = "{Service}.{Method} on queue '{Queue}' failed ({ErrorType}: {ErrorMessage}) and the broker refused its copy {Attempts} times, the last to '{DeadLetterQueue}'; it was acked and is LOST (message id {MessageId}, {BodySize} bytes). Fix the dead-letter queue (permissions, length limit) so the next one is kept")]
    public static partial void HandOffGivenUp(ILogger logger, Exception? exception, string service, string method, string queue, string deadLetterQueue, int attempts,
        string? messageId, int bodySize, string errorType, string errorMessage);

    [LoggerMessage(EventId = RpcLogEvents.ReplyRefusedAsTooLarge, EventName = nameof(RpcLogEvents.ReplyRefusedAsTooLarge), Level = LogLevel.Warning,
        Message = "The reply of {Service}.{Method} on queue '{Queue}' (correlation id {CorrelationId}) is {Size} bytes, over the broker's max_message_size of {BrokerLimit} bytes; the caller got rpc:too-large instead. Keep RpcConnectionOptions.MaxMessageSize ({MaxMessageSize}) at or below the broker's limit")]
    public static partial void ReplyRefusedAsTooLarge(ILogger logger, string service, string method, string queue, string? correlationId, int size, long brokerLimit, int maxMessageSize);
}
