using System;

namespace RpcGen.Testing;

/// <summary>How <see cref="RpcTestHarness.StartAsync"/> sets up the in-memory broker and its connections.</summary>
public sealed class RpcTestHarnessOptions
{
    /// <summary>
    /// Run every timeout, deadline, retry backoff and idle timeout on a <c>FakeTimeProvider</c>
    /// (<see cref="RpcTestHarness.FakeTime"/>) that moves only when the test advances it. Defaults to <see langword="false"/>: the system clock.
    /// </summary>
    public bool UseFakeTime { get; set; }

    /// <summary>Where the fake clock starts, with <see cref="UseFakeTime"/>. Defaults to 2030-01-01 00:00 UTC.</summary>
    public DateTimeOffset FakeTimeStart { get; set; } = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A clock of the test's own (it wins over <see cref="UseFakeTime"/>); <see langword="null"/>: as <see cref="UseFakeTime"/> says.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>
    /// Changes the options of every connection the harness opens (<see cref="RpcTestHarness.Connection"/> and
    /// <see cref="RpcTestHarness.ConnectAsync"/>): timeouts, retries, queue types, topology, interceptors. The harness
    /// then sets <see cref="RpcConnectionOptions.Uri"/> (its user), the clock, and its recording interceptor first in
    /// <see cref="RpcConnectionOptions.Server"/>.
    /// </summary>
    public Action<RpcConnectionOptions>? ConfigureConnection { get; set; }

    /// <summary>The user the in-memory connections authenticate as, sent as <c>user_id</c> and seen as <see cref="RpcContext.UserId"/>. Defaults to <c>guest</c>.</summary>
    public string UserName { get; set; } = "guest";
}
