using System;
using System.Collections.Generic;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RpcGen.Wire;

namespace RpcGen.Server;

/// <summary>
/// The server end of one streamed result: enumerates the implementation's <see cref="IAsyncEnumerable{T}"/> and sends
/// its items to the caller's <c>reply_to</c>, never asking for an item the caller has not granted credit for, then
/// one end or error marker (docs/wire-format.md, "Streaming results").
/// </summary>
/// <remarks>
/// Items the enumeration produces without waiting share a message, up to <see cref="RpcServerOptions.StreamBatchSize"/>; as
/// soon as the next item is not ready, what is gathered goes out, so batching never delays an item. Credit arrives on
/// the control path (<see cref="ControlListener"/> → <see cref="RunningCalls"/> → <see cref="Grant"/>); waiting for it
/// longer than <see cref="RpcServerOptions.StreamIdleTimeout"/> without any grant (callers resend theirs while alive) means
/// the caller is gone, and the enumeration stops. Messages go out through the server's <see cref="IReplyPublisher"/>.
/// </remarks>
internal sealed class ServerStream
{
    // A batch stops growing at this many bytes, so one message stays far below the broker's frame and size limits.
    private const int MaxBatchBytes = 64 * 1024;

    private readonly object _gate = new();
    private readonly long _maxAhead;
    private long _credit;
    private long _sent;
    private long _lastGrant;
    private TaskCompletionSource? _waiter;

    private readonly ServerRequest _request;
    private readonly ServerStreamSettings _settings;

    private ServerStream(ServerRequest request, ServerStreamSettings settings, long window)
    {
        _request = request;
        _settings = settings;
        _lastGrant = settings.Time.GetTimestamp();
        _maxAhead = settings.MaxWindow;
        _credit = Math.Min(window, _maxAhead);
    }

    /// <summary>The highest sequence number (exclusive) the caller allowed so far.</summary>
    public long Credit => Interlocked.Read(ref _credit);

    /// <summary>Items sent so far: a grant never lets the server run more than the window cap past them.</summary>
    public long Sent
    {
        get => Interlocked.Read(ref _sent);
        private set => Interlocked.Exchange(ref _sent, value);
    }

    /// <summary>
    /// A grant from the caller: it may lower nothing (grants are absolute), and counts as a sign of life even when
    /// unchanged. The caller's word is untrusted: it never lets the server run more than RpcServerOptions.MaxStreamWindow
    /// items past those already sent.
    /// </summary>
    public void Grant(long credit)
    {
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            Volatile.Write(ref _lastGrant, _settings.Time.GetTimestamp());
            credit = Math.Min(credit, Sent + _maxAhead);
            if (credit > _credit) Interlocked.Exchange(ref _credit, credit);
            waiter = _waiter;
            _waiter = null;
        }

        waiter?.TrySetResult();
    }

    /// <summary>
    /// Opens the stream of <paramref name="request"/>'s result, with the window its caller asked for
    /// (<c>rpc-stream-window</c>), else the server's, never more than <see cref="ServerStreamSettings.MaxWindow"/>.
    /// </summary>
    public static ServerStream Open(ServerRequest request, ServerStreamSettings settings)
    {
        long window = StreamContract.ReadInteger(request.Properties.Headers, StreamContract.WindowHeader) is long asked && asked > 0 ? asked : settings.Window;
        return new ServerStream(request, settings, window);
    }

    /// <summary>Runs the whole stream: items, then the end marker, or the items so far and then an error marker.</summary>
    public async Task RunAsync<T>(RpcServerCall call, IAsyncEnumerable<T> items, JsonTypeInfo<T> type)
    {
        var request = _request.Properties;
        // Nobody to send the items to (a plain client that sent no reply_to): nothing is enumerated.
        if (string.IsNullOrEmpty(request.ReplyTo)) return;
        string replyTo = request.ReplyTo;
        var channel = _request.Channel;
        var replies = _settings.Replies;
        var token = call.CancellationToken;
        using var body = new PooledBufferWriter();
        using var json = new Utf8JsonWriter(body);
        int batched = 0;
        long first = 0;
        Exception? failure = null;
        // The caller went silent, or a message was over the broker's limit: the stream ends with this error marker.
        CallFailure? ended = null;
        var enumerator = items.GetAsyncEnumerator(token);
        try
        {
            while (true)
            {
                long next = first + batched;
                if (next >= Credit)
                {
                    // Everything gathered is within credit: send it before waiting for more.
                    if (!await FlushAsync().ConfigureAwait(false)) break;
                    if (!await WaitForCreditAsync(next, token).ConfigureAwait(false))
                    {
                        ended = CallFailure.Refused(StreamContract.AbandonedErrorType,
                            $"The caller granted no credit for {_settings.IdleTimeout.TotalSeconds:0.###} s (RpcServerOptions.StreamIdleTimeout); the stream was stopped.");
                        break;
                    }
                }

                var move = enumerator.MoveNextAsync();
                // The next item is not ready: what is gathered goes out now rather than wait for it.
                if (!move.IsCompleted && batched > 0 && !await FlushAsync().ConfigureAwait(false)) break;
                if (!await move.ConfigureAwait(false))
                {
                    await FlushAsync().ConfigureAwait(false);
                    break;
                }

                if (batched == 0)
                {
                    body.Clear();
                    json.Reset(body);
                    json.WriteStartArray();
                }

                try
                {
                    JsonSerializer.Serialize(json, enumerator.Current, type);
                }
                catch (Exception e)
                {
                    throw new RpcResultSerializationException(
                        $"Item {first + batched} of the stream of method '{call.Method.WireName}' ({typeof(T).Name}) cannot be serialised: {e.Message}", e);
                }

                batched++;
                if ((batched >= _settings.BatchSize || json.BytesPending + body.WrittenCount >= MaxBatchBytes) && !await FlushAsync().ConfigureAwait(false)) break;
            }
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            // The enumeration's finally blocks run here, before the caller hears the end, and also when it stopped early.
            try
            {
                await enumerator.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                failure ??= e;
            }
        }

        try
        {
            if (failure is null && ended is null)
            {
                await replies.PublishAsync(channel, replyTo, Properties(request.CorrelationId, StreamContract.End, first, isError: false), ReadOnlyMemory<byte>.Empty)
                    .ConfigureAwait(false);
                return;
            }

            // Items gathered before the failure still reach the caller first, if they could be written.
            if (failure is not null and not RpcResultSerializationException && !RpcServer.IsChannelGone(failure) && batched > 0) await FlushAsync().ConfigureAwait(false);
            body.Clear();
            if (ended is { } end) ErrorBody.Write(body, end.Type, end.Message, null);
            else _settings.Errors.Write(body, call.Method, CallFailure.Of(failure!));
            await replies.PublishAsync(channel, replyTo, Properties(request.CorrelationId, StreamContract.Error, first, isError: true), body.WrittenMemory)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (RpcServer.IsChannelGone(e))
        {
            // The request went with its channel: the broker redelivers it, and the caller's sequence check fails a
            // repeated stream rather than mix two.
        }

        // False when the message was over the broker's max_message_size: the stream ends with an rpc:too-large marker
        // after the items sent so far, rather than close the request's channel and run again from the start.
        async ValueTask<bool> FlushAsync()
        {
            if (batched == 0) return true;
            json.WriteEndArray();
            json.Flush();
            var properties = Properties(request.CorrelationId, StreamContract.Items, first, isError: false);
            // A stream's messages must reach the caller in order: a later one that goes out on the confirmed channel
            // must not overtake those before it on the request's channel.
            if (!await replies.TryPublishAsync(channel, replyTo, properties, body.WrittenMemory, ordered: first > 0).ConfigureAwait(false))
            {
                int size = body.WrittenCount;
                batched = 0;
                ended = replies.TooLarge(request.CorrelationId, call.Method.WireName, size);
                return false;
            }

            first += batched;
            Sent = first;
            batched = 0;
            return true;
        }
    }

    /// <summary>The properties of one message of a stream: its kind and the sequence number of its first item.</summary>
    private static BasicProperties Properties(string? correlationId, string kind, long sequence, bool isError)
    {
        var headers = new Dictionary<string, object?>(3)
        {
            [StreamContract.KindHeader] = kind,
            [StreamContract.SequenceHeader] = sequence,
        };
        if (isError) headers[WireContract.StatusHeader] = WireContract.StatusError;
        return new BasicProperties
        {
            CorrelationId = correlationId,
            ContentType = WireContract.JsonContentType,
            Headers = headers,
        };
    }

    /// <summary>Waits until the caller allows item <paramref name="next"/>; false when it stays silent for the idle timeout.</summary>
    private async Task<bool> WaitForCreditAsync(long next, CancellationToken cancellationToken)
    {
        var idle = _settings.IdleTimeout;
        while (true)
        {
            TaskCompletionSource waiter;
            lock (_gate)
            {
                if (next < _credit) return true;
                waiter = _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            var silent = _settings.Time.GetElapsedTime(Volatile.Read(ref _lastGrant));
            if (silent >= idle) return false;
            try
            {
                await waiter.Task.WaitAsync(idle - silent, _settings.Time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Checked again at the top: a grant may have come in just now.
            }
        }
    }
}
