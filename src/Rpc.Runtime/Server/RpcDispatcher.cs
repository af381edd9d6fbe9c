using System;
using System.ComponentModel;
using System.Threading.Tasks;

namespace RpcGen.Generated;

/// <summary>
/// The base of generated dispatchers: reads a request's arguments, calls the service implementation and stores its
/// result. Everything around it (queue, acks, replies, errors) is the runtime's.
/// </summary>
/// <typeparam name="TService">The <see cref="RpcServiceAttribute"/> interface.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class RpcDispatcher<TService> where TService : class
{
    /// <summary>Creates a dispatcher for a service.</summary>
    protected RpcDispatcher(RpcServiceDescriptor descriptor)
    {
        Descriptor = descriptor ?? throw new ArgumentNullException(nameof(descriptor));
    }

    /// <summary>The service this dispatcher serves.</summary>
    public RpcServiceDescriptor Descriptor { get; }

    /// <summary>Runs <paramref name="call"/>'s method (<see cref="RpcServerCall.Method"/>) on <paramref name="service"/>.</summary>
    public abstract ValueTask InvokeAsync(TService service, RpcServerCall call);
}
