using System.Collections.Generic;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using RpcGen.Health;

namespace RpcGen.Hosting;

/// <summary>
/// Adds each RpcGen connection's check to the host's health checks. It configures <see cref="HealthCheckServiceOptions"/>,
/// which only the health check service reads: an app that never calls <c>AddHealthChecks()</c> never runs this, and
/// the order of <c>AddHealthChecks()</c> and <c>AddRpcGen()</c> does not matter.
/// </summary>
internal sealed class RpcHealthCheckRegistrations : IConfigureOptions<HealthCheckServiceOptions>
{
    private readonly IEnumerable<RpcConnectionDefinition> _connections;

    public RpcHealthCheckRegistrations(IEnumerable<RpcConnectionDefinition> connections)
    {
        _connections = connections;
    }

    public void Configure(HealthCheckServiceOptions options)
    {
        foreach (var definition in _connections)
        {
            var settings = definition.HealthCheck;
            if (!settings.Enabled) continue;
            options.Registrations.Add(new HealthCheckRegistration(definition.HealthCheckName,
                provider => new RpcHealthCheck(provider.GetRequiredKeyedService<RpcConnectionHolder>(definition), settings),
                failureStatus: HealthStatus.Unhealthy, tags: settings.Tags));
        }
    }
}
