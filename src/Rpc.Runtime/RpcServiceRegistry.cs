using System;
using System.Collections.Concurrent;
using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace RpcGen.Generated;

/// <summary>
/// Where generated code registers each service's client and dispatcher, and each events interface's publisher and
/// dispatcher (from a module initializer), so that <see cref="RpcConnection.CreateClient{TService}"/>,
/// <see cref="RpcConnection.ServeAsync{TService}(TService, System.Threading.CancellationToken)"/> and their events
/// counterparts find them without reflection.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class RpcServiceRegistry
{
    private static readonly ConcurrentDictionary<Type, object> s_services = new();

    /// <summary>Registers a service; generated code calls this once per <see cref="RpcServiceAttribute"/> interface.</summary>
    public static void Register<TService>(
        RpcServiceDescriptor descriptor,
        Func<RpcConnection, TService> createClient,
        Func<RpcDispatcher<TService>> createDispatcher)
        where TService : class
    {
        s_services[typeof(TService)] = new Registration<TService>(descriptor, createClient, createDispatcher);
    }

    /// <summary>Registers an events interface; generated code calls this once per <see cref="RpcEventsAttribute"/> interface.</summary>
    public static void RegisterEvents<TEvents>(
        RpcEventsDescriptor descriptor,
        Func<RpcConnection, TEvents> createPublisher,
        Func<RpcDispatcher<TEvents>> createDispatcher)
        where TEvents : class
    {
        s_services[typeof(TEvents)] = new Registration<TEvents>(descriptor, createPublisher, createDispatcher);
    }

    internal static Registration<TService> Get<TService>() where TService : class
    {
        if (s_services.TryGetValue(typeof(TService), out var registration)) return (Registration<TService>)registration;

        // A module initializer runs before the first method or static field of its module is used, not when a type
        // is merely named: a contracts assembly touched only through typeof(TService) may not have registered yet.
        RuntimeHelpers.RunModuleConstructor(typeof(TService).Module.ModuleHandle);
        if (s_services.TryGetValue(typeof(TService), out registration)) return (Registration<TService>)registration;
        throw new InvalidOperationException(
            $"{typeof(TService).FullName} has no generated RpcGen client or dispatcher. Mark the interface with [RpcGen.RpcService] " +
            "and make sure the project references the RpcGen package (which runs the source generator).");
    }

    /// <param name="Descriptor">The service's descriptor, or an <see cref="RpcEventsDescriptor"/> for events.</param>
    /// <param name="CreateClient">Creates the client, or for events the publisher.</param>
    /// <param name="CreateDispatcher">Creates the dispatcher.</param>
    internal sealed record Registration<TService>(
        RpcServiceDescriptor Descriptor,
        Func<RpcConnection, TService> CreateClient,
        Func<RpcDispatcher<TService>> CreateDispatcher)
        where TService : class;
}
