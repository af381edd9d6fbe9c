using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RpcGen.Diagnostics;

namespace RpcGen.Hosting;

/// <summary>
/// Connects every RpcGen connection when the host starts (so a broker that cannot be reached stops the host with a
/// clear error instead of failing the first request), starts every registered server and subscriber on its connection, and stops
/// them, draining, when the host stops.
/// </summary>
internal sealed class RpcGenHostedService : IHostedService
{
    private readonly IServiceProvider _services;
    private readonly IReadOnlyList<RpcConnectionDefinition> _connections;
    private readonly IReadOnlyList<RpcServerRegistration> _registrations;
    private readonly List<(string Service, RpcServer Server, RpcSettings Settings)> _servers = new();

    public RpcGenHostedService(IServiceProvider services, IEnumerable<RpcConnectionDefinition> connections,
        IEnumerable<RpcServerRegistration> registrations)
    {
        _services = services;
        _connections = connections.ToList();
        _registrations = registrations.ToList();
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var definition in _connections)
        {
            var connection = await _services.GetRequiredKeyedService<RpcConnectionHolder>(definition).GetAsync(cancellationToken).ConfigureAwait(false);
            foreach (var registration in _registrations.Where(r => r.Connection == definition))
            {
                var server = await registration.StartAsync(connection, _services, cancellationToken).ConfigureAwait(false);
                lock (_servers) _servers.Add((registration.ServiceType.Name, server, connection.Settings));
                RpcLog.ServerStarted(connection.Settings.Loggers.Server, registration.ServiceType.Name, server.Queue);
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        (string Service, RpcServer Server, RpcSettings Settings)[] servers;
        lock (_servers)
        {
            servers = _servers.ToArray();
            _servers.Clear();
        }

        // Each server stops taking requests and drains its calls in flight (RpcServerOptions.DrainTimeout), all at once; when
        // the host's own shutdown timeout fires first, handlers still running are cancelled at once instead.
        await Task.WhenAll(servers.Select(async entry =>
        {
            await entry.Server.StopAsync(cancellationToken).ConfigureAwait(false);
            RpcLog.ServerStopped(entry.Settings.Loggers.Server, entry.Service, entry.Server.Queue, entry.Server.Served);
        })).ConfigureAwait(false);
    }
}
