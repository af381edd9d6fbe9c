using System;
using System.Collections.Generic;
using System.Linq;

namespace RpcGen.Cli.Contracts;

/// <summary>
/// The runtime's descriptors of a contract, built at run time from its document instead of by the generator, so
/// rpcgen's calls go through RpcGen's own invoker: correlation, timeouts, cancellation and streams as any client's.
/// Declared faults are left out: the runtime then reports every fault as <see cref="RpcRemoteException"/> with its
/// data (<see cref="RpcRemoteException.RemoteData"/>), and rpcgen tells declared ones by their type.
/// </summary>
internal sealed class RuntimeDescriptors
{
    private readonly Dictionary<ServiceContract, RpcServiceDescriptor> _services = new();

    public RpcServiceDescriptor For(ServiceContract service)
    {
        if (_services.TryGetValue(service, out var descriptor)) return descriptor;
        var methods = service.Methods.Select(Method).ToArray();
        descriptor = service.IsEvents
            ? new RpcEventsDescriptor(service.Name, service.Exchange!, ExchangeType(service.ExchangeType), methods)
            : new RpcServiceDescriptor(service.Name, service.Queue!, methods) { Ordered = service.Ordered };
        _services[service] = descriptor;
        return descriptor;
    }

    public RpcMethodDescriptor For(MethodContract method) => For(method.Service).FindMethod(method.Name)!;

    private static RpcMethodDescriptor Method(MethodContract method) =>
        new(method.Name, method.Parameters.Select(p => new RpcParameterDescriptor(p.Name, Flags(p))).ToArray(), oneWay: method.Kind == MethodKind.OneWay)
        {
            TimeoutMilliseconds = method.TimeoutMilliseconds,
            TimeToLiveMilliseconds = method.TimeToLiveMilliseconds,
        };

    private static RpcParameterFlags Flags(ParameterContract parameter) =>
        (parameter.Optional ? RpcParameterFlags.Optional : RpcParameterFlags.None) | (parameter.NotNull ? RpcParameterFlags.NotNull : RpcParameterFlags.None);

    public static RpcExchangeType ExchangeType(string? name) => name switch
    {
        "fanout" => RpcExchangeType.Fanout,
        "direct" => RpcExchangeType.Direct,
        "topic" or null => RpcExchangeType.Topic,
        _ => throw new ArgumentException($"unknown exchange type '{name}'"),
    };
}
