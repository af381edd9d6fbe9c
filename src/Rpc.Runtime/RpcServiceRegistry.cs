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

    /// <summary>
    /// The method <paramref name="service"/>.<paramref name="wireName"/> of a registered service or events interface, for
    /// publishing a captured message in a process that may not have touched its contract yet; null when none is.
    /// </summary>
    /// <param name="service">The service or events interface name.</param>
    /// <param name="wireName">The method's wire name.</param>
    /// <param name="destination">
    /// The queue (work) or exchange (events) the message goes to, prefix included: it tells apart two contracts of one
    /// name in one process by the queue or exchange they declare.
    /// </param>
    internal static RpcMethodDescriptor? FindMethod(string service, string wireName, string destination)
    {
        if (Find(service, wireName, destination) is { } method) return method;
        // Module initializers run on first use: run those of the loaded assemblies that could hold generated code (they
        // reference RpcGen), so contracts nothing used yet register; running one early is what its first use would do.
        // Other assemblies' initializers are theirs to run when they are used, not ours.
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (!assembly.IsDynamic && ReferencesRpcGen(assembly)) RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
        }

        return Find(service, wireName, destination);
    }

    private static readonly string s_runtimeName = typeof(RpcServiceRegistry).Assembly.GetName().Name!;

    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026:RequiresUnreferencedCode",
        Justification = "Generated registrations call RpcServiceRegistry.Register, so trimming keeps a contracts assembly's " +
            "reference to RpcGen; an assembly whose reference was trimmed away has nothing to register.")]
    private static bool ReferencesRpcGen(System.Reflection.Assembly assembly)
    {
        foreach (var reference in assembly.GetReferencedAssemblies())
        {
            if (string.Equals(reference.Name, s_runtimeName, StringComparison.Ordinal)) return true;
        }

        return false;
    }

    private static RpcMethodDescriptor? Find(string service, string wireName, string destination)
    {
        RpcMethodDescriptor? named = null;
        foreach (var registration in s_services.Values)
        {
            var descriptor = ((IRegistration)registration).Descriptor;
            if (descriptor.Name != service || descriptor.FindMethod(wireName) is not { } method) continue;
            var declared = descriptor is RpcEventsDescriptor events ? events.Exchange : descriptor.Queue;
            if (destination.EndsWith(declared, StringComparison.Ordinal)) return method;
            named ??= method;
        }

        return named;
    }

    private interface IRegistration
    {
        RpcServiceDescriptor Descriptor { get; }
    }

    /// <param name="Descriptor">The service's descriptor, or an <see cref="RpcEventsDescriptor"/> for events.</param>
    /// <param name="CreateClient">Creates the client, or for events the publisher.</param>
    /// <param name="CreateDispatcher">Creates the dispatcher.</param>
    internal sealed record Registration<TService>(
        RpcServiceDescriptor Descriptor,
        Func<RpcConnection, TService> CreateClient,
        Func<RpcDispatcher<TService>> CreateDispatcher)
        : IRegistration
        where TService : class;
}
