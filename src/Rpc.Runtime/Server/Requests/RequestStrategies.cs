namespace RpcGen.Server.Requests;

/// <summary>One server's strategies, and the one place that decides which kind of request a delivery is.</summary>
internal sealed class RequestStrategies
{
    private readonly ReplyPublisher _replies;
    private readonly ErrorReplies _errors;
    private readonly StreamStrategy _stream = new();
    private readonly RequestReplyStrategy _requestReply;
    private readonly OneWayStrategy _work;

    public RequestStrategies(RpcServiceDescriptor service, bool subscription, ReplyPublisher replies, ErrorReplies errors)
    {
        _replies = replies;
        _errors = errors;
        _requestReply = new RequestReplyStrategy(replies, errors, _stream);
        _work = subscription ? new EventStrategy() : new OneWayStrategy(service.Ordered);
    }

    /// <summary>The strategy for the calls of one batch delivery, whose replies join <paramref name="batch"/>.</summary>
    public RequestStrategy ForBatch(BatchReplies batch) => new BatchItemStrategy(_replies, _errors, _stream, batch);

    /// <summary>
    /// The kind of a request whose method is <paramref name="method"/> (null: unknown, or the request was refused
    /// before it ran): one-way work or an event; else a call, answered alone or in its batch. A call nobody can be
    /// told about (no reply_to) that cannot run is handed off like failed work: it can never succeed.
    /// </summary>
    public RequestStrategy For(RpcMethodDescriptor? method, bool hasReplyTo, RequestStrategy? batchItem = null)
    {
        if (method is null ? !hasReplyTo : method.OneWay) return _work;
        return batchItem ?? _requestReply;
    }
}
