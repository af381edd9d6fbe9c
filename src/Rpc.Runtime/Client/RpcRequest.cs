using System;
using System.ComponentModel;
using System.Threading;
using RpcGen.Client;
using RpcGen.Wire;

namespace RpcGen.Generated;

/// <summary>
/// One request being built by a generated client: the arguments are written in order, then the request is passed to
/// <see cref="RpcInvoker"/>. A serialisation failure is kept and reported by the invoker as a faulted task, so a
/// generated method never throws synchronously. The body is written into a pooled writer that the invoker gives back
/// once the broker has the request.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RpcRequest
{
    private RequestBodyWriter? _body = RequestBodyWriter.Rent();
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
            Body.WriteValue(value, _invoker.GetTypeInfo<T>());
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
            Body.WriteArgument(name, value, _invoker.GetTypeInfo<T>());
        }
        catch (Exception e)
        {
            _error = ArgumentFailure(name, typeof(T), e);
        }
    }

    private RequestBodyWriter Body => _body ?? throw new InvalidOperationException($"This request to {Method.WireName} was already sent.");

    internal ReadOnlyMemory<byte> CompleteBody() => Body.Complete();

    /// <summary>Gives the body writer back for reuse; called once the publish no longer reads the body. Safe to call twice.</summary>
    internal void Release() => Interlocked.Exchange(ref _body, null)?.Return();

    private RpcSerializationException ArgumentFailure(string name, Type type, Exception e) =>
        new(CallFailures.Text(Method, $"argument '{name}' of type {type.Name} cannot be serialised: {e.Message}"),
            Method.Service.Name, Method.WireName, e);
}
