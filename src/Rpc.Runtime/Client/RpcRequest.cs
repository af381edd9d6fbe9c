using System;
using System.ComponentModel;
using RpcGen.Wire;

namespace RpcGen.Client;

/// <summary>
/// One request being built by a generated client: the arguments are written in order, then the request is passed to
/// <see cref="RpcInvoker"/>. A serialisation failure is kept and reported by the invoker as a faulted task, so a
/// generated method never throws synchronously.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RpcRequest
{
    private readonly RequestBodyWriter _body = new();
    private readonly RpcInvoker _invoker;
    private Exception? _error;

    internal RpcRequest(RpcInvoker invoker, RpcMethodDescriptor method)
    {
        _invoker = invoker;
        Method = method;
    }

    /// <summary>The method being called.</summary>
    public RpcMethodDescriptor Method { get; }

    internal Exception? Error => _error;

    /// <summary>Writes the only argument of a one-parameter method: the body is its JSON value as is.</summary>
    public void WriteValue<T>(T value)
    {
        if (_error is not null) return;
        try
        {
            _body.WriteValue(value, _invoker.GetTypeInfo<T>());
        }
        catch (Exception e)
        {
            _error = ArgumentFailure(Method.Parameters.Count > 0 ? Method.Parameters[0].Name : "?", typeof(T), e);
        }
    }

    /// <summary>Writes one argument of a method with two or more parameters, as a property of the body object.</summary>
    public void WriteArgument<T>(string name, T value)
    {
        if (_error is not null) return;
        try
        {
            _body.WriteArgument(name, value, _invoker.GetTypeInfo<T>());
        }
        catch (Exception e)
        {
            _error = ArgumentFailure(name, typeof(T), e);
        }
    }

    internal ReadOnlyMemory<byte> CompleteBody() => _body.Complete();

    private RpcSerializationException ArgumentFailure(string name, Type type, Exception e) =>
        new($"RPC {Method.Service.Name}.{Method.WireName}: argument '{name}' of type {type.Name} cannot be serialised: {e.Message}",
            Method.Service.Name, Method.WireName, e);
}
