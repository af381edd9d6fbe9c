using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace RpcGen.PostgreSql;

/// <summary>
/// The relay as the container's hosted service: made at start, not when the host lists its hosted services, because
/// the <see cref="RpcConnection"/> it publishes through exists only once RpcGen's own hosted service (registered
/// before it by <c>AddRpcGen</c>) has connected.
/// </summary>
internal sealed class RelayHostedService(IServiceProvider services, PostgresOutboxOptions options) : IHostedService, IAsyncDisposable
{
    private PostgresOutboxRelay? _relay;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _relay = new PostgresOutboxRelay(services.GetRequiredService<NpgsqlDataSource>(), services.GetRequiredService<RpcConnection>(), options,
            services.GetService<ILogger<PostgresOutboxRelay>>(), services.GetService<TimeProvider>());
        return _relay.StartAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => _relay?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    public ValueTask DisposeAsync() => _relay?.DisposeAsync() ?? ValueTask.CompletedTask;
}
