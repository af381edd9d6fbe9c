using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using RpcGen.Hosting;
using RpcGen.Transport;

namespace RpcGen.Health;

/// <summary>
/// The <c>rpcgen</c> health check of one hosted connection. It reads state the connection's events keep, so a probe
/// costs no broker round trip:
/// Healthy when the connection is open and every server consuming; Degraded while recovering (lost less than the
/// grace period ago) or while the broker blocks publishers; Unhealthy when not connected, lost for longer, or a server
/// is not consuming.
/// </summary>
internal sealed class RpcHealthCheck : IHealthCheck
{
    private readonly RpcConnectionHolder _holder;
    private readonly TimeSpan _grace;

    public RpcHealthCheck(RpcConnectionHolder holder, RpcHealthCheckOptions options)
    {
        _holder = holder;
        _grace = options.RecoveryGracePeriod;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Check());

    private HealthCheckResult Check()
    {
        var connection = _holder.Current;
        if (connection is null)
        {
            return HealthCheckResult.Unhealthy(_holder.LastFailure is { } failure
                ? $"Not connected to RabbitMQ: {failure.Message}"
                : "Not connected to RabbitMQ: the host has not started RpcGen yet, or has stopped it.");
        }

        var state = connection.Health.Read();
        // Read first: a disposed connection must not be asked for its endpoint.
        if (state.Closed) return Closed(connection);
        string uri, name;
        try
        {
            uri = AmqpConnector.NodeOf(connection.Connection, connection.Settings);
            name = connection.Connection.ClientProvidedName ?? string.Empty;
        }
        catch (ObjectDisposedException)
        {
            return Closed(connection);
        }

        var data = new Dictionary<string, object> { ["broker"] = uri, ["connection"] = name };
        if (state.LostFor is { } lostFor)
        {
            data["lostForSeconds"] = Math.Round(lostFor.TotalSeconds, 1);
            var what = $"Lost the connection to RabbitMQ at {uri} {lostFor.TotalSeconds:0.0} s ago ({state.LostReason ?? "connection closed"}); reconnecting";
            return lostFor < _grace
                ? HealthCheckResult.Degraded(what + ".", data: data)
                : HealthCheckResult.Unhealthy(what + $", for longer than the {_grace.TotalSeconds:0.#} s grace period.", data: data);
        }

        var serving = new List<string>();
        var notConsuming = new List<string>();
        var deleted = new List<string>();
        foreach (var server in connection.Servers)
        {
            if (server.IsStopping) continue;
            (server.IsConsuming ? serving : notConsuming).Add(server.Queue);
            if (server.ConsumerCancelledAt is { } at) deleted.Add($"{server.Queue} at {at:u}");
        }

        data["serving"] = serving.ToArray();
        // Said even once consuming again: whatever the deleted queue held is gone, and an operator should know.
        if (deleted.Count > 0) data["queuesDeletedUnderServer"] = deleted.ToArray();
        if (notConsuming.Count > 0)
        {
            data["notConsuming"] = notConsuming.ToArray();
            var why = deleted.Count > 0
                ? $"the broker cancelled the consumer because the queue was deleted ({string.Join(", ", deleted)}); the server declares it again and consumes it, or its channel is being rebuilt"
                : "the broker cancelled the consumer (queue deleted?) or closed its channel";
            return HealthCheckResult.Unhealthy($"Connected to RabbitMQ at {uri}, but not consuming queue(s) {string.Join(", ", notConsuming)}: {why}.", data: data);
        }

        if (connection.BlockedReason is { } blocked)
        {
            data["blockedReason"] = blocked;
            return HealthCheckResult.Degraded($"RabbitMQ at {uri} blocks this connection's publishers ({blocked}): calls fail at once until it unblocks.", data: data);
        }

        var recreated = deleted.Count > 0 ? $" Queue(s) deleted under a running server and declared again, their messages lost: {string.Join(", ", deleted)}." : "";
        return HealthCheckResult.Healthy($"Connected to RabbitMQ at {uri}; serving {serving.Count} queue(s).{recreated}", data);
    }

    private static HealthCheckResult Closed(RpcConnection connection) =>
        HealthCheckResult.Unhealthy($"The connection to RabbitMQ at {AmqpConnector.MaskPassword(connection.Settings.NodeUris[0])} is closed.");
}
