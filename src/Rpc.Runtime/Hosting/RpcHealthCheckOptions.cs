using System;
using System.Collections.Generic;

namespace RpcGen.Hosting;

/// <summary>
/// How <c>AddRpcGen</c> registers its connection's health check with the host's health checks (when the app calls
/// <c>AddHealthChecks()</c>); set through <see cref="RpcGenBuilder.ConfigureHealthCheck"/>. States and probes: docs/dependency-injection.md.
/// </summary>
public sealed class RpcHealthCheckOptions
{
    /// <summary>The name of the default connection's check: <c>rpcgen</c>. A named connection's check is <c>rpcgen-{name}</c>.</summary>
    public const string DefaultName = "rpcgen";

    /// <summary>The tag of checks a readiness probe runs: <c>ready</c>.</summary>
    public const string ReadyTag = "ready";

    /// <summary>The tag of checks a liveness probe runs: <c>live</c>. Not on RpcGen's check by default (see <see cref="Tags"/>).</summary>
    public const string LiveTag = "live";

    /// <summary>The tag every RpcGen check carries: <c>rpcgen</c>.</summary>
    public const string RpcGenTag = "rpcgen";

    /// <summary>Whether the check is registered. Defaults to <see langword="true"/>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The check's tags. Defaults to <c>rpcgen</c> and <c>ready</c>: a lost broker connection takes the app out of
    /// service, but does not get it restarted, since RabbitMQ.Client reconnects by itself and a restarted app could
    /// not reach the broker either. Add <see cref="LiveTag"/> for a liveness probe that restarts the app when the check is Unhealthy.
    /// </summary>
    public ISet<string> Tags { get; } = new HashSet<string>(StringComparer.Ordinal) { RpcGenTag, ReadyTag };

    /// <summary>
    /// How long a lost connection may be reconnecting while the check reports Degraded; after that it reports
    /// Unhealthy. A blip that recovery mends within it never takes the app out of service. Zero: Unhealthy as soon as
    /// the connection drops. Defaults to 10 seconds.
    /// </summary>
    public TimeSpan RecoveryGracePeriod { get; set; } = TimeSpan.FromSeconds(10);
}
