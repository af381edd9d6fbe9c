using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using RpcGen.Client;
using RpcGen.IntegrationTests.Interop;
using Xunit;

namespace RpcGen.Runtime.Tests.Client;

/// <summary>
/// The client's map of calls waiting for a reply, on its own: what times a call out, what completes it exactly once,
/// what fails it, and what its observer (server checks, cancels, stream credit) is told.
/// </summary>
public sealed class PendingCallsTests
{
    private static readonly JsonTypeInfo<int> s_int = (JsonTypeInfo<int>)JsonSerializerOptions.Default.GetTypeInfo(typeof(int));

    private readonly RpcMethodDescriptor _method = new("Reserve", [new RpcParameterDescriptor("sku")]);
    private readonly RecordingObserver _observer = new();
    private readonly PendingCalls _pending;

    public PendingCallsTests()
    {
        _ = new RpcServiceDescriptor("Shop", "shop", _method);
        _pending = new PendingCalls(_observer);
    }

    private PendingCall<int> Add(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var call = _pending.Create(_method, "shop", timeout, s_int);
        _pending.Add(call, timeout, cancellationToken);
        return call;
    }

    [Fact]
    public async Task A_call_past_due_fails_with_a_timeout_naming_service_method_queue_and_timeout_and_the_observer_hears_of_it()
    {
        var call = Add(TimeSpan.FromMilliseconds(40));

        var thrown = await Assert.ThrowsAsync<RpcTimeoutException>(() => call.Task.WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(("Shop", "Reserve", "shop", TimeSpan.FromMilliseconds(40), RpcStatusCode.DeadlineExceeded),
            (thrown.Service, thrown.Method, thrown.Queue, thrown.Timeout, thrown.StatusCode));
        Assert.Equal("RPC Shop.Reserve timed out after 40 ms waiting for a reply (queue 'shop').", thrown.Message);
        Assert.Same(call, Assert.Single(_observer.Abandoned));
        Assert.Equal((0, 0), (_pending.Count, _pending.Waiting));
        Assert.False(_pending.TryComplete(call.CorrelationId, "7"u8, isError: false));
    }

    [Fact]
    public async Task A_call_answered_in_time_is_never_timed_out_and_is_completed_once()
    {
        var call = Add(TimeSpan.FromMilliseconds(40));

        Assert.True(_pending.TryComplete(call.CorrelationId, "7"u8, isError: false));
        Assert.Equal(7, await call.Task);
        await Task.Delay(200);

        Assert.Empty(_observer.Abandoned);
        Assert.False(_pending.TryComplete(call.CorrelationId, "8"u8, isError: false));
        Assert.Equal((0, 0), (_pending.Count, _pending.Waiting));
    }

    [Fact]
    public async Task FailAll_fails_every_waiting_call_with_its_own_exception_and_leaves_none()
    {
        var calls = Enumerable.Range(0, 5).Select(_ => Add(TimeSpan.FromHours(1))).ToArray();
        Assert.Equal((5, 5), (_pending.Count, _pending.Waiting));

        _pending.FailAll(call => new RpcException($"lost {call.CorrelationId}"));

        foreach (var call in calls)
        {
            var thrown = await Assert.ThrowsAsync<RpcException>(() => call.Task);
            Assert.Equal($"lost {call.CorrelationId}", thrown.Message);
        }

        Assert.Equal((0, 0), (_pending.Count, _pending.Waiting));
        Assert.Empty(_observer.Abandoned);
    }

    [Fact]
    public async Task FailAll_with_a_reason_names_each_calls_service_and_method()
    {
        var call = Add(TimeSpan.FromHours(1));

        _pending.FailAll("the connection was lost.", (message, service, method) => new RpcException(message, service, method));

        var thrown = await Assert.ThrowsAsync<RpcException>(() => call.Task);
        Assert.Equal(("RPC Shop.Reserve: the connection was lost.", "Shop", "Reserve"), (thrown.Message, thrown.Service, thrown.Method));
        Assert.Equal(0, _pending.Count);
    }

    [Fact]
    public async Task A_cancelled_call_is_cancelled_at_its_token_forgotten_and_the_observer_told()
    {
        using var cancel = new CancellationTokenSource();
        var call = Add(TimeSpan.FromHours(1), cancel.Token);

        await cancel.CancelAsync();

        var thrown = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.Task);
        Assert.Equal(cancel.Token, thrown.CancellationToken);
        Assert.Same(call, Assert.Single(_observer.Abandoned));
        Assert.Equal(0, _pending.Count);
        Assert.False(_pending.TryComplete(call.CorrelationId, "7"u8, isError: false));
    }

    [Fact]
    public async Task The_observer_is_asked_for_a_server_check_once_a_call_waited_its_check_delay_and_not_before()
    {
        var checkedCall = Add(TimeSpan.FromHours(1));
        var notDue = Add(TimeSpan.FromHours(1));
        checkedCall.CheckAt = Environment.TickCount64 + 50;

        await Wait.UntilAsync(() => _observer.ServerChecks.Contains(checkedCall), "no server check was asked for");

        Assert.DoesNotContain(notDue, _observer.ServerChecks);
        Assert.True(checkedCall.IsPending);
        _pending.TryComplete(checkedCall.CorrelationId, "1"u8, isError: false);
        _pending.TryComplete(notDue.CorrelationId, "1"u8, isError: false);
    }

    [Fact]
    public async Task An_abandoned_call_fails_and_the_observer_is_told_and_credit_is_passed_on()
    {
        var call = Add(TimeSpan.FromHours(1));

        _pending.GrantCredit(call, 64);
        _pending.Abandon(call, new RpcException("stopped reading"));
        _pending.Abandon(call, new RpcException("twice"));

        Assert.Equal((call, 64L), Assert.Single(_observer.Credit));
        Assert.Equal("stopped reading", (await Assert.ThrowsAsync<RpcException>(() => call.Task)).Message);
        Assert.Same(call, Assert.Single(_observer.Abandoned));
        Assert.Equal(0, _pending.Count);
    }

    [Fact]
    public async Task A_batch_reply_naming_a_call_of_another_batch_is_rejected_and_that_call_keeps_waiting()
    {
        var call = Add(TimeSpan.FromHours(1));
        call.BatchId = "batch-1";

        Assert.False(_pending.TryCompleteInBatch("batch-2", call.CorrelationId, "1"u8, isError: false));
        Assert.False(_pending.TryCompleteInBatch(null, call.CorrelationId, "1"u8, isError: false));
        Assert.Equal(2, _pending.RejectedReplies);
        Assert.True(call.IsPending);

        Assert.True(_pending.TryCompleteInBatch("batch-1", call.CorrelationId, "5"u8, isError: false));
        Assert.Equal(5, await call.Task);
    }

    [Fact]
    public void Callers_whose_replies_came_in_one_batch_are_counted_as_coming_back_until_each_has_or_the_next_batch_comes()
    {
        var calls = Enumerable.Range(0, 3).Select(_ => Add(TimeSpan.FromHours(1))).ToArray();
        foreach (var call in calls) call.BatchId = "batch-1";
        Assert.False(_pending.CallerCameBack());

        _pending.BatchOfRepliesArrived();
        foreach (var call in calls) Assert.True(_pending.TryCompleteInBatch("batch-1", call.CorrelationId, "1"u8, isError: false));

        // The first two back have others still to come; the third is the last.
        Assert.Equal(new[] { true, true, false, false }, Enumerable.Range(0, 4).Select(_ => _pending.CallerCameBack()));

        // Callers of an earlier batch who made no call are not waited for past the next batch.
        var late = Add(TimeSpan.FromHours(1));
        late.BatchId = "batch-2";
        _pending.BatchOfRepliesArrived();
        Assert.True(_pending.TryCompleteInBatch("batch-2", late.CorrelationId, "1"u8, isError: false));
        Assert.False(_pending.CallerCameBack());
    }

    [Fact]
    public async Task A_reply_that_is_not_the_result_type_fails_the_call_naming_service_method_and_queue()
    {
        var call = Add(TimeSpan.FromHours(1));

        Assert.True(_pending.TryComplete(call.CorrelationId, "\"seven\""u8, isError: false));

        var thrown = await Assert.ThrowsAsync<RpcSerializationException>(() => call.Task);
        Assert.StartsWith("RPC Shop.Reserve: the reply from queue 'shop' is not a valid Int32", thrown.Message);
        Assert.Equal(0, _pending.Count);
    }

    [Fact]
    public void A_correlation_id_already_waiting_is_refused()
    {
        var call = Add(TimeSpan.FromHours(1));

        var thrown = Assert.Throws<InvalidOperationException>(() => _pending.Add(call, TimeSpan.FromHours(1), CancellationToken.None));

        Assert.Contains(call.CorrelationId, thrown.Message);
        Assert.Equal((1, 1), (_pending.Count, _pending.Waiting));
    }

    private sealed class RecordingObserver : IPendingCallObserver
    {
        public ConcurrentQueue<PendingCall> ServerChecks { get; } = new();

        public ConcurrentQueue<PendingCall> Abandoned { get; } = new();

        public ConcurrentQueue<(PendingCall Call, long Credit)> Credit { get; } = new();

        public void ServerCheckDue(PendingCall call)
        {
            ServerChecks.Enqueue(call);
            // As the client does: the next check is due later, not at every sweep.
            call.CheckAt = Environment.TickCount64 + 60_000;
        }

        void IPendingCallObserver.Abandoned(PendingCall call) => Abandoned.Enqueue(call);

        public void CreditGranted(PendingCall call, long credit) => Credit.Enqueue((call, credit));
    }
}
