using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using RpcGen.Diagnostics;

namespace RpcGen.Hosting;

/// <summary>
/// Connects when the host starts (so a broker that cannot be reached stops the host with a clear error instead of
/// failing the first request), starts every registered server, and stops them, draining, when the host stops.
/// </summary>
internal sealed class RpcGenHostedService : IHostedService
{
    private readonly RpcConnectionHolder _connection;
    private readonly IReadOnlyList<RpcServerRegistration> _registrations;
    private readonly IServiceScopeFactory _scopes;
    private readonly RpcOptions _options;
    private readonly List<(string Service, RpcServer Server)> _servers = new();

    public RpcGenHostedService(RpcConnectionHolder connection, IEnumerable<RpcServerRegistration> registrations, IServiceScopeFactory scopes,
        IOptions<RpcOptions> options)
    {
        _connection = connection;
        _registrations = registrations.ToList();
        _scopes = scopes;
        _options = options.Value;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var connection = await _connection.GetAsync(cancellationToken).ConfigureAwait(false);
        foreach (var registration in _registrations)
        {
            var server = await registration.StartAsync(connection, _scopes, cancellationToken).ConfigureAwait(false);
            lock (_servers) _servers.Add((registration.ServiceType.Name, server));
            RpcLog.ServerStarted(_options.Loggers.Server, registration.ServiceType.Name, server.Queue);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        (string Service, RpcServer Server)[] servers;
        lock (_servers)
        {
            servers = _servers.ToArray();
            _servers.Clear();
        }

        // Each server stops taking requests and drains its calls in flight (RpcOptions.DrainTimeout), all at once; when
        // the host's own shutdown timeout fires first, handlers still running are cancelled at once instead.
        await Task.WhenAll(servers.Select(async entry =>
        {
            await entry.Server.StopAsync(cancellationToken).ConfigureAwait(false);
            RpcLog.ServerStopped(_options.Loggers.Server, entry.Service, entry.Server.Queue, entry.Server.Served);
        })).ConfigureAwait(false);
    }
}
