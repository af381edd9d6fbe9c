using System;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
    /// Adds one shared <see cref="RpcConnection"/> (opened when the host starts, closed when it stops) and returns a
    /// builder for clients and servers. Options are read, in this order, from the <c>RpcGen</c> configuration section
    /// (<c>RpcGen:Uri</c>, <c>RpcGen:DefaultTimeout</c>, ...; see docs/dependency-injection.md), then from
    /// <paramref name="configure"/>. The container's <see cref="ILoggerFactory"/> is used for logging unless
    /// <see cref="RpcOptions.LoggerFactory"/> is set. Calling it again adds <paramref name="configure"/> and returns a
    /// builder over the same registrations.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options in code, after configuration is applied.</param>
    public static RpcGenBuilder AddRpcGen(this IServiceCollection services, Action<RpcOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<RpcOptions>, RpcOptionsFromConfiguration>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<RpcOptions>, RpcOptionsLoggerFactory>());
        if (configure is not null) services.Configure(configure);

        services.TryAddSingleton<RpcConnectionHolder>();
        services.TryAddSingleton<RpcConnection>(static provider => provider.GetRequiredService<RpcConnectionHolder>().Get());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RpcGenHostedService>());
        return new RpcGenBuilder(services);
    }

    private sealed class RpcOptionsFromConfiguration : IConfigureOptions<RpcOptions>
    {
        private readonly IConfiguration? _configuration;

        public RpcOptionsFromConfiguration(IServiceProvider services)
        {
            _configuration = services.GetService<IConfiguration>();
        }

        public void Configure(RpcOptions options)
        {
            if (_configuration is not null) RpcOptionsBinder.Bind(_configuration.GetSection(RpcOptionsBinder.SectionName), options);
        }
    }

    private sealed class RpcOptionsLoggerFactory : IPostConfigureOptions<RpcOptions>
    {
        private readonly ILoggerFactory? _loggerFactory;

        public RpcOptionsLoggerFactory(IServiceProvider services)
        {
            _loggerFactory = services.GetService<ILoggerFactory>();
        }

        public void PostConfigure(string? name, RpcOptions options) => options.LoggerFactory ??= _loggerFactory;
    }
}
