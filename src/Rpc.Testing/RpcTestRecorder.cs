using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RpcGen.Testing.Broker;

namespace RpcGen.Testing;

/// <summary>
/// Turns what the broker sees (publishes, deliveries, dead letters) and what handlers do (a server interceptor on
/// every connection of the harness) into <see cref="RpcTestRecord"/>s, and wakes whoever waits for them.
/// </summary>
internal sealed class RpcTestRecorder : IBrokerObserver, IRpcServerInterceptor
{
    private const string ReplyPrefix = InMemoryBroker.DirectReplyTo + ".";
    private const string DeadLetterSuffix = ".dead-letter";
    private const string ControlPrefix = "rpc-control.";
    private readonly object _gate = new();
    private readonly List<RpcTestRecord> _records = new();
    private readonly ConcurrentDictionary<string, (string Destination, string Method, string? ReplyTo)> _calls = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private TaskCompletionSource _changed = NewSignal();

    public RpcTestRecorder(TimeProvider time) => _time = time;

    public IReadOnlyList<RpcTestRecord> Snapshot()
    {
        lock (_gate) return _records.ToArray();
    }

    /// <summary>Completes at the next record.</summary>
    public Task Changed
    {
        get
        {
            lock (_gate) return _changed.Task;
        }
    }

    public void Published(string exchange, string routingKey, IReadOnlyBasicProperties properties, int routed)
    {
        if (exchange.StartsWith(ControlPrefix, StringComparison.Ordinal)) return;
        // A reply: to direct reply-to, or to the queue its call named as reply_to (a caller's own server-named queue).
        if (exchange.Length == 0 && (routingKey.StartsWith(ReplyPrefix, StringComparison.Ordinal) || IsReplyOfItsCall(routingKey, properties)))
        {
            if (properties.CorrelationId is not { } correlationId || !_calls.TryGetValue(correlationId, out var call)) return;
            bool isError = Header(properties, "rpc-status") == "error";
            Add(new RpcTestRecord(RpcTestEventKind.Answered, null, call.Destination, call.Method, _time.GetUtcNow())
            {
                CorrelationId = correlationId,
                IsError = isError,
                ErrorType = Header(properties, "rpc-error-type"),
            });
            return;
        }

        if (properties.Type is not { } method || Retries(properties) > 0) return;
        if (exchange.Length == 0 && routingKey.EndsWith(DeadLetterSuffix, StringComparison.Ordinal)) return;
        string destination = exchange.Length == 0 ? routingKey : exchange;
        if (properties.CorrelationId is { } id) _calls[id] = (destination, method, properties.ReplyTo);
        Add(new RpcTestRecord(RpcTestEventKind.Sent, null, destination, method, _time.GetUtcNow())
        {
            CorrelationId = properties.CorrelationId,
            RoutingKey = routingKey,
        });
    }

    private bool IsReplyOfItsCall(string routingKey, IReadOnlyBasicProperties properties) =>
        properties.CorrelationId is { } id && _calls.TryGetValue(id, out var call) && call.ReplyTo == routingKey;

    public void Enqueued(string queue, IReadOnlyBasicProperties properties)
    {
        if (properties.Type is not { } method) return;
        if (queue.EndsWith(DeadLetterSuffix, StringComparison.Ordinal))
        {
            string destination = Header(properties, "rpc-exchange") is { Length: > 0 } exchange ? exchange
                : Header(properties, "rpc-queue") ?? Header(properties, "x-first-death-queue") ?? queue.Substring(0, queue.Length - DeadLetterSuffix.Length);
            Add(new RpcTestRecord(RpcTestEventKind.DeadLettered, null, destination, method, _time.GetUtcNow())
            {
                CorrelationId = properties.CorrelationId,
                Retries = Retries(properties),
                ErrorType = Header(properties, "rpc-error-type") ?? Header(properties, "x-first-death-reason"),
            });
            return;
        }

        int retries = Retries(properties);
        if (retries == 0) return;
        Add(new RpcTestRecord(RpcTestEventKind.Retried, null, DestinationOf(queue, string.Empty, properties), method, _time.GetUtcNow())
        {
            CorrelationId = properties.CorrelationId,
            Retries = retries,
            ErrorType = Header(properties, "rpc-error-type"),
        });
    }

    public void Delivered(string queue, string exchange, IReadOnlyBasicProperties properties, bool redelivered)
    {
        if (properties.Type is not { } method || exchange.StartsWith(ControlPrefix, StringComparison.Ordinal) || queue.EndsWith(DeadLetterSuffix, StringComparison.Ordinal)) return;
        Add(new RpcTestRecord(RpcTestEventKind.Delivered, null, DestinationOf(queue, exchange, properties), method, _time.GetUtcNow())
        {
            CorrelationId = properties.CorrelationId,
            Redelivered = redelivered,
            Retries = Retries(properties),
        });
    }

    public void Settled(string queue, IReadOnlyBasicProperties properties, bool? requeued)
    {
        if (requeued != true || properties.Type is not { } method || queue.EndsWith(DeadLetterSuffix, StringComparison.Ordinal)) return;
        Add(new RpcTestRecord(RpcTestEventKind.Retried, null, queue, method, _time.GetUtcNow())
        {
            CorrelationId = properties.CorrelationId,
            Retries = Retries(properties),
        });
    }

    public async ValueTask InterceptAsync(RpcServerCallContext call, Func<RpcServerCallContext, ValueTask> next)
    {
        try
        {
            await next(call).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Add(new RpcTestRecord(RpcTestEventKind.Faulted, call.Method.Service.Name, string.Empty, call.Method.WireName, _time.GetUtcNow())
            {
                CorrelationId = call.Context.CorrelationId,
                Redelivered = call.Context.Redelivered,
                Exception = e,
            });
            throw;
        }

        Add(new RpcTestRecord(RpcTestEventKind.Handled, call.Method.Service.Name, string.Empty, call.Method.WireName, _time.GetUtcNow())
        {
            CorrelationId = call.Context.CorrelationId,
            Redelivered = call.Context.Redelivered,
        });
    }

    private void Add(RpcTestRecord record)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _records.Add(record);
            changed = _changed;
            _changed = NewSignal();
        }

        changed.TrySetResult();
    }

    /// <summary>The queue or exchange a message was first sent to: a retried copy says it in its headers.</summary>
    private static string DestinationOf(string queue, string exchange, IReadOnlyBasicProperties properties) =>
        Header(properties, "rpc-exchange") is { Length: > 0 } original ? original : exchange.Length > 0 ? exchange : queue;

    private static int Retries(IReadOnlyBasicProperties properties) =>
        properties.Headers is { } headers && headers.TryGetValue("rpc-retries", out var value) && value is IConvertible number
            && value is not byte[] ? number.ToInt32(System.Globalization.CultureInfo.InvariantCulture) : 0;

    private static string? Header(IReadOnlyBasicProperties properties, string name) =>
        properties.Headers is { } headers && headers.TryGetValue(name, out var value) ? HeadersMatcher.Text(value) : null;

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
