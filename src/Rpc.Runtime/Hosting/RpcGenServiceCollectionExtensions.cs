using System;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RpcGen;
using RpcGen.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds RpcGen to a Microsoft.Extensions service collection (generic host, ASP.NET Core, worker).</summary>
public static class RpcGenServiceCollectionExtensions
{
    /// <summary>
    /// Adds the default <see cref="RpcConnection"/> (opened when the host starts, closed when it stops) and returns a
    /// builder for its clients and servers. Options are read, in this order, from the <c>RpcGen</c> configuration section
    /// (<c>RpcGen:Uri</c>, <c>RpcGen:Client:DefaultTimeout</c>, <c>RpcGen:Server:Prefetch</c>, ...; see docs/dependency-injection.md), then from
    /// <paramref name="configure"/>. The container's <see cref="ILoggerFactory"/> is used for logging unless
    /// <see cref="RpcConnectionOptions.LoggerFactory"/> is set. If the app calls <c>AddHealthChecks()</c>, a check named
    /// <c>rpcgen</c> reports the connection's health. Calling it again adds <paramref name="configure"/> and returns a
    /// builder over the same registrations.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options in code, after configuration is applied.</param>
    public static RpcGenBuilder AddRpcGen(this IServiceCollection services, Action<RpcConnectionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var definition = AddConnection(services, null);
        if (configure is not null) services.Configure(configure);
        return new RpcGenBuilder(services, definition);
    }

    /// <summary>
    /// Adds a named <see cref="RpcConnection"/>, one of several in the container (two brokers, two vhosts, or a
    /// connection kept apart for heavy publishing). It and its clients are keyed services under <paramref name="name"/>
    /// (<c>[FromKeyedServices("billing")]</c>); its servers run on it. Options come from the section
    /// <c>RpcGen:Connections:{name}</c>, then from <paramref name="configure"/>; its health check is <c>rpcgen-{name}</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The connection's name and service key.</param>
    /// <param name="configure">Sets options in code, after configuration is applied.</param>
    public static RpcGenBuilder AddRpcGen(this IServiceCollection services, string name, Action<RpcConnectionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var definition = AddConnection(services, name);
        if (configure is not null) services.Configure(name, configure);
        return new RpcGenBuilder(services, definition);
    }

    private static RpcConnectionDefinition AddConnection(IServiceCollection services, string? name)
    {
        services.AddOptions();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<RpcConnectionOptions>, RpcOptionsFromConfiguration>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<RpcConnectionOptions>, RpcOptionsFromHost>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<HealthCheckServiceOptions>, RpcHealthCheckRegistrations>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RpcGenHostedService>());

        foreach (var descriptor in services)
        {
            if (descriptor.ServiceType == typeof(RpcConnectionDefinition)
                && descriptor.ImplementationInstance is RpcConnectionDefinition existing
                && existing.Name == name)
            {
                return existing;
            }
        }

        var definition = new RpcConnectionDefinition(name);
        services.AddSingleton(definition);
        services.AddKeyedSingleton<RpcConnectionHolder>(definition, (provider, _) => new RpcConnectionHolder(definition, provider));
        if (name is null)
        {
            services.TryAddSingleton<RpcConnection>(provider => provider.GetRequiredKeyedService<RpcConnectionHolder>(definition).Get());
        }
        else
        {
            services.AddKeyedSingleton<RpcConnection>(name, (provider, _) => provider.GetRequiredKeyedService<RpcConnectionHolder>(definition).Get());
        }

        return definition;
    }

    /// <summary>Binds each connection's section, then its connection string, before the app's own configure delegates run.</summary>
    private sealed class RpcOptionsFromConfiguration : IConfigureNamedOptions<RpcConnectionOptions>
    {
        private readonly IConfiguration? _configuration;
        private readonly IServiceProvider _services;

        public RpcOptionsFromConfiguration(IServiceProvider services)
        {
            _services = services;
            _configuration = services.GetService<IConfiguration>();
        }

        public void Configure(RpcConnectionOptions options) => Configure(Options.Options.DefaultName, options);

        public void Configure(string? name, RpcConnectionOptions options)
        {
            var definition = Find(_services, name);
            if (definition is null) return;
            if (_configuration is not null)
            {
                RpcOptionsBinder.Bind(_configuration.GetSection(definition.SectionPath), options, isDefaultSection: definition.Name is null);
            }

            if (definition.ConnectionStringName is { } connectionString)
            {
                var value = _configuration?.GetConnectionString(connectionString);
                if (string.IsNullOrWhiteSpace(value))
                {
                    throw new InvalidOperationException(
                        $"{definition.Describe()} reads the broker address from ConnectionStrings:{connectionString}, which is not set. " +
                        $"Set it (e.g. ConnectionStrings__{connectionString}=amqp://user:password@host:5672/vhost), or remove UseConnectionString.");
                }

                options.Uri = RpcOptionsBinder.ReadUri("ConnectionStrings:" + connectionString, value);
            }
        }
    }

    /// <summary>What the host knows: its logger factory, and its application name as the default connection name.</summary>
    private sealed class RpcOptionsFromHost : IPostConfigureOptions<RpcConnectionOptions>
    {
        private readonly ILoggerFactory? _loggerFactory;
        private readonly string? _applicationName;
        private readonly IServiceProvider _services;

        public RpcOptionsFromHost(IServiceProvider services)
        {
            _services = services;
            _loggerFactory = services.GetService<ILoggerFactory>();
            _applicationName = services.GetService<IHostEnvironment>()?.ApplicationName;
        }

        public void PostConfigure(string? name, RpcConnectionOptions options)
        {
            options.LoggerFactory ??= _loggerFactory;
            if (options.ConnectionName is null && !string.IsNullOrEmpty(_applicationName) && Find(_services, name) is { } definition)
            {
                options.ConnectionName = definition.Name is null ? _applicationName : $"{_applicationName} ({definition.Name})";
            }
        }
    }

    private static RpcConnectionDefinition? Find(IServiceProvider services, string? optionsName)
    {
        foreach (var definition in services.GetServices<RpcConnectionDefinition>())
        {
            if (definition.OptionsName == (optionsName ?? Options.Options.DefaultName)) return definition;
        }

        return null;
    }
}
