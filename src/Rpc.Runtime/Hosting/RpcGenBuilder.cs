using System;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace RpcGen.Hosting;

/// <summary>Registers RpcGen clients and servers in a service collection; returned by <c>AddRpcGen</c>.</summary>
public sealed class RpcGenBuilder
{
    internal RpcGenBuilder(IServiceCollection services)
    {
        Services = services;
    }

    /// <summary>The service collection being configured.</summary>
    public IServiceCollection Services { get; }

    /// <summary>
    /// Registers <typeparamref name="TService"/> as a singleton: the generated client on the container's connection.
    /// Inject the interface wherever the service is called.
    /// </summary>
    /// <typeparam name="TService">An interface marked <see cref="RpcServiceAttribute"/>.</typeparam>
    public RpcGenBuilder AddRpcClient<TService>() where TService : class
    {
        Services.TryAddSingleton<TService>(static provider => provider.GetRequiredService<RpcConnection>().CreateClient<TService>());
        return this;
    }

    /// <summary>
    /// Serves <typeparamref name="TService"/> while the host runs. Each call gets a new DI scope, from which a
    /// <typeparamref name="TImplementation"/> is resolved (registered scoped unless already registered), and the
    /// scope is disposed once the call is answered, so scoped dependencies such as a DbContext work per call.
    /// </summary>
    /// <typeparam name="TService">An interface marked <see cref="RpcServiceAttribute"/>.</typeparam>
    /// <typeparam name="TImplementation">The class that implements it.</typeparam>
    /// <exception cref="InvalidOperationException"><typeparamref name="TService"/> is already served by this container.</exception>
    public RpcGenBuilder AddRpcServer<TService, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TImplementation>()
        where TService : class
        where TImplementation : class, TService
    {
        foreach (var descriptor in Services)
        {
            if (descriptor.ServiceType == typeof(RpcServerRegistration)
                && descriptor.ImplementationInstance is RpcServerRegistration existing
                && existing.ServiceType == typeof(TService))
            {
                throw new InvalidOperationException(
                    $"{typeof(TService).Name} is already served by {existing.ImplementationType.Name}; call AddRpcServer once per service " +
                    "(run more instances of the process to serve it more widely).");
            }
        }

        Services.TryAddScoped<TImplementation>();
        Services.AddSingleton(RpcServerRegistration.Create<TService, TImplementation>());
        return this;
    }

    /// <summary>
    /// Adds <typeparamref name="TInterceptor"/> (a singleton, resolved from the container) to
    /// <see cref="RpcOptions.ClientInterceptors"/>: it runs around every call the container's connection makes.
    /// </summary>
    public RpcGenBuilder AddRpcClientInterceptor<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TInterceptor>()
        where TInterceptor : class, IRpcClientInterceptor
    {
        Services.TryAddSingleton<TInterceptor>();
        Services.AddSingleton<Microsoft.Extensions.Options.IConfigureOptions<RpcOptions>>(static provider =>
            new Microsoft.Extensions.Options.ConfigureOptions<RpcOptions>(options => options.ClientInterceptors.Add(provider.GetRequiredService<TInterceptor>())));
        return this;
    }

    /// <summary>
    /// Adds <typeparamref name="TInterceptor"/> (a singleton, resolved from the container) to
    /// <see cref="RpcOptions.ServerInterceptors"/>: it runs around every request the container's servers handle.
    /// </summary>
    public RpcGenBuilder AddRpcServerInterceptor<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TInterceptor>()
        where TInterceptor : class, IRpcServerInterceptor
    {
        Services.TryAddSingleton<TInterceptor>();
        Services.AddSingleton<Microsoft.Extensions.Options.IConfigureOptions<RpcOptions>>(static provider =>
            new Microsoft.Extensions.Options.ConfigureOptions<RpcOptions>(options => options.ServerInterceptors.Add(provider.GetRequiredService<TInterceptor>())));
        return this;
    }
}
