using System;

namespace RpcGen;

/// <summary>
/// Declares an exception a method (or, on the interface, every method of the service) may throw as part of its
/// contract. The server sends its type, message and public properties in the error reply, logs it as expected
/// (information, no stack trace), and the generated client rethrows it as the same exception type. Exceptions not
/// declared reach the caller as <see cref="RpcRemoteException"/>.
/// </summary>
/// <remarks>
/// The exception must derive from <see cref="Exception"/> and have a public constructor whose parameters are named
/// after its public properties (case-insensitively; a <c>message</c> parameter takes the message), so the client can
/// build it from the reply. The properties declared on it and its bases up to <see cref="Exception"/> are carried,
/// serialised with the connection's <see cref="RpcConnectionOptions.JsonSerializerOptions"/>. Only declared types are ever
/// built from a reply: the <c>type</c> on the wire selects among them and names no other type.
/// </remarks>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Interface, Inherited = false, AllowMultiple = true)]
public sealed class RpcFaultAttribute : Attribute
{
    /// <summary>Declares <paramref name="exceptionType"/> as a fault of the method or service.</summary>
    /// <param name="exceptionType">An exception type of the contract, e.g. <c>typeof(OutOfStockException)</c>.</param>
    public RpcFaultAttribute(Type exceptionType)
    {
        ExceptionType = exceptionType ?? throw new ArgumentNullException(nameof(exceptionType));
    }

    /// <summary>The declared exception type.</summary>
    public Type ExceptionType { get; }
}
