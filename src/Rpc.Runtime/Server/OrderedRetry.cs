using System;
using System.Threading.Tasks;

namespace RpcGen.Server;

/// <summary>
/// The retry policy of an ordered service's one-way work: a failed handler runs again in place, after the backoff,
/// up to <see cref="RpcServerOptions.RetryLimit"/> times, holding the queue behind it (sent to the back of the queue, the work
/// would overtake nothing but be overtaken). What it gives up on is handed off as any failed work.
/// </summary>
internal sealed class OrderedRetry
{
    private readonly FailedWork _failedWork;
    private readonly RpcSettings _options;
    private readonly string _service;
    private readonly Func<string> _queue;
    private readonly Func<bool> _stopping;

    public OrderedRetry(FailedWork failedWork, RpcSettings options, string service, Func<string> queue, Func<bool> stopping)
    {
        _failedWork = failedWork;
        _options = options;
        _service = service;
        _queue = queue;
        _stopping = stopping;
    }

    /// <summary>
    /// Whether to run the handler again: the failure could pass (not input that can never succeed, nor an interceptor's
    /// refusal, which a retry meets again), retries are left, and the server is not stopping. Waits the backoff first.
    /// </summary>
    public async ValueTask<bool> TryAgainAsync(ServerRequest request, CallFailure failure)
    {
        if (!failure.Retryable || request.Call?.RefusedByInterceptor == true || request.Retries >= _options.RetryLimit || _stopping()) return false;
        request.Retries++;
        await _failedWork.BackoffAsync(request.Retries, request.Consumer.ChannelLost.Token).ConfigureAwait(false);
        Diagnostics.RpcLog.WorkRetried(_options.Loggers.Server, failure.Exception, _service, request.Method!.WireName, _queue(), request.Retries,
            _options.RetryLimit, failure.Type, failure.Message);
        return true;
    }
}
