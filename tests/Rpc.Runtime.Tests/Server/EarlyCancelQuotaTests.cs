using RpcGen.Server;
using Xunit;

namespace RpcGen.Runtime.Tests.Server;

/// <summary>
/// Server/RunningCalls.cs alone: the early cancels a server remembers are bounded in total and per caller, so one
/// caller flooding distinct cancels (each a control message any connection may publish) cannot use up the memory
/// every other caller's early cancel needs. ServerBoundsTests floods a real server's control exchange.
/// </summary>
public sealed class EarlyCancelQuotaTests
{
    [Fact]
    public void One_caller_flooding_early_cancels_cannot_stop_another_callers_early_cancel_from_being_remembered()
    {
        var calls = new RunningCalls(new ServerCounters(nameof(EarlyCancelQuotaTests), "unit"));
        try
        {
            long deadline = DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds();
            for (int i = 0; i < 200_000; i++) calls.Cancel("flood-" + i, "mallory", deadline);
            // Plain clients (no user_id) are a caller of their own: also bounded, also not starving the others.
            for (int i = 0; i < 200_000; i++) calls.Cancel("anonymous-" + i, null, deadline);

            calls.Cancel("alice-call", "alice", deadline);

            Assert.True(calls.WasCancelled("alice-call", "alice"), "alice's early cancel was not remembered");
            Assert.True(calls.EarlyCancels <= 2 * RunningCalls.MaxRememberedPerCaller, $"{calls.EarlyCancels} remembered");
        }
        finally
        {
            calls.Stop();
        }
    }

    [Fact]
    public void A_caller_whose_early_cancels_are_used_or_forgotten_may_send_new_ones()
    {
        var calls = new RunningCalls(new ServerCounters(nameof(EarlyCancelQuotaTests), "unit"));
        try
        {
            long deadline = DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds();
            for (int i = 0; i < RunningCalls.MaxRememberedPerCaller; i++) calls.Cancel("call-" + i, "bob", deadline);
            calls.Cancel("one-too-many", "bob", deadline);
            Assert.False(calls.WasCancelled("one-too-many", "bob"));

            Assert.True(calls.WasCancelled("call-0", "bob"));
            calls.Cancel("room-again", "bob", deadline);
            Assert.True(calls.WasCancelled("room-again", "bob"));
        }
        finally
        {
            calls.Stop();
        }
    }
}
