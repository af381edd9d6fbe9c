using System.Collections.Concurrent;
using System.Diagnostics;
using RpcGen.Client;
using RpcGen.IntegrationTests.Interop;
using Xunit;

namespace RpcGen.Runtime.Tests.Client;

/// <summary>
/// Client/ControlLane.cs alone (the two lanes of the per-connection cancel and credit sender), against a fake publisher
/// whose publishes complete, fail or hang when the test says: a stuck publish holds the lane for its publish timeout
/// only, a full queue drops its oldest entry, and credit keeps one entry per stream, the latest grant.
/// </summary>
[Collection(SemanticsCollection.Name)]
public sealed class ControlLaneTests
{
    private static readonly PendingCalls s_owner = new();
    private static readonly RpcMethodDescriptor s_method = new("Ping", []);

    [Fact]
    public async Task A_publish_that_never_completes_holds_later_cancels_for_the_publish_timeout_only()
    {
        var publisher = new FakePublisher();
        var stuck = new TaskCompletionSource();   // never completed: a confirm that never comes
        publisher.Next = call => call.CorrelationId == "c0" ? stuck.Task : Task.CompletedTask;
        var lane = new ControlLane(publisher, coalesce: false, capacity: 64, publishTimeout: TimeSpan.FromMilliseconds(300));
        var watch = Stopwatch.StartNew();

        for (int i = 0; i < 10; i++) lane.Post(Call("c" + i), -1);

        await Wait.UntilAsync(() => lane.Published == 9, $"the 9 cancels behind the stuck one were published (published: {lane.Published})", seconds: 5);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => "c" + i), publisher.Seen.Select(s => s.Id));
        Assert.Equal(1, lane.Lost);
        Assert.Equal(1, publisher.Abandoned);
        // The bound is 300 ms; generous for a loaded host, far below "never".
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"took {watch.Elapsed}");
        await lane.CloseAsync();
    }

    [Fact]
    public async Task A_full_queue_drops_its_oldest_entries_and_counts_them_lost()
    {
        var publisher = new FakePublisher();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        publisher.Next = _ => gate.Task;
        var lane = new ControlLane(publisher, coalesce: false, capacity: 4, publishTimeout: TimeSpan.FromMinutes(1));

        lane.Post(Call("c0"), -1);
        await Wait.UntilAsync(() => publisher.Seen.Count == 1, "the lane took the first cancel");
        for (int i = 1; i <= 6; i++) lane.Post(Call("c" + i), -1);   // 6 for 4 places: c1 and c2 go
        Assert.Equal(2, lane.Lost);

        gate.SetResult();
        await Wait.UntilAsync(() => lane.Published == 5, $"the kept cancels were published (published: {lane.Published})");
        Assert.Equal(new[] { "c0", "c3", "c4", "c5", "c6" }, publisher.Seen.Select(s => s.Id));
        await lane.CloseAsync();
    }

    [Fact]
    public async Task Credit_keeps_one_entry_per_stream_the_latest_grant()
    {
        var publisher = new FakePublisher();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        publisher.Next = _ => gate.Task;
        var lane = new ControlLane(publisher, coalesce: true, capacity: 64, publishTimeout: TimeSpan.FromMinutes(1));
        var a = Call("a");
        var b = Call("b");

        lane.Post(a, 1);
        await Wait.UntilAsync(() => publisher.Seen.Count == 1, "the lane took the first grant");
        // While that grant waits for its confirm: a's grants and b's grants each collapse to the latest (a lower one is stale).
        foreach (var (call, credit) in new[] { (a, 2L), (a, 3L), (b, 5L), (a, 4L), (b, 6L), (a, 3L) }) lane.Post(call, credit);

        gate.SetResult();
        await Wait.UntilAsync(() => lane.Published == 3, $"three grants were published (published: {lane.Published})");
        await Task.Delay(100);   // nothing more comes: no stale grant left behind
        Assert.Equal(new[] { ("a", 1L), ("a", 4L), ("b", 6L) }, publisher.Seen);
        Assert.Equal(0, lane.Lost);
        await lane.CloseAsync();
    }

    private static TestCall Call(string id) => new(id);

    private sealed class TestCall(string id) : PendingCall(s_owner, id, s_method, "control-lane-test", TimeSpan.FromSeconds(30))
    {
        public override void SetReply(ReadOnlySpan<byte> body, bool isError) { }
        public override void SetException(Exception exception) { }
        public override void SetCanceled(CancellationToken token) { }
    }

    /// <summary>Records each publish in order; <see cref="Next"/> says how each one ends.</summary>
    private sealed class FakePublisher : IControlChannel
    {
        private int _abandoned;

        public ConcurrentQueue<(string Id, long Credit)> Seen { get; } = new();

        public Func<PendingCall, Task> Next { get; set; } = _ => Task.CompletedTask;

        public int Abandoned => Volatile.Read(ref _abandoned);

        public Task PublishAsync(PendingCall call, long credit)
        {
            Seen.Enqueue((call.CorrelationId, credit));
            return Next(call);
        }

        public void Abandon() => Interlocked.Increment(ref _abandoned);

        public ValueTask CloseAsync() => ValueTask.CompletedTask;
    }
}
