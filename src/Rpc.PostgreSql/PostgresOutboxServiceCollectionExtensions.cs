using System;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace RpcGen.PostgreSql;

/// <summary>Registers the outbox, the inbox and the relay in a container that has <c>AddRpcGen</c> and an <see cref="NpgsqlDataSource"/>.</summary>
public static class PostgresOutboxServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="PostgresOutbox"/> and <see cref="PostgresInbox"/> as singletons and the relay as a hosted service,
    /// on the default RpcGen connection and the container's <see cref="NpgsqlDataSource"/>. Call it after <c>AddRpcGen</c>:
    /// hosted services start in the order they were added, and the relay needs the connection open.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the tables' names and the relay's settings.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public static IServiceCollection AddRpcGenPostgreSql(this IServiceCollection services, Action<PostgresOutboxOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new PostgresOutboxOptions();
        configure?.Invoke(options);
        options = options.Validated();
        services.TryAddSingleton(provider => new PostgresOutbox(provider.GetRequiredService<RpcConnection>(), options));
        services.TryAddSingleton(provider => new PostgresInbox(provider.GetRequiredService<NpgsqlDataSource>(), options));
        services.AddSingleton<IHostedService>(provider => new RelayHostedService(provider, options));
        return services;
    }
}
