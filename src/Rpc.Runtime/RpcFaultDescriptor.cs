using System;
using System.Collections.Generic;
using System.ComponentModel;

namespace RpcGen;

/// <summary>
/// One exception type declared with <see cref="RpcFaultAttribute"/>: how its properties are written into an error
/// reply's <c>data</c> object and how the exception is built again from it. Built by generated code, so neither side
/// needs reflection.
/// </summary>
public sealed class RpcFaultDescriptor
{
    private readonly Action<RpcFaultWriter, Exception> _write;
    private readonly Func<RpcFaultReader, Exception> _read;

    /// <summary>Creates a descriptor; generated code calls this.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public RpcFaultDescriptor(Type exceptionType, Action<RpcFaultWriter, Exception> write, Func<RpcFaultReader, Exception> read)
    {
        ExceptionType = exceptionType ?? throw new ArgumentNullException(nameof(exceptionType));
        _write = write ?? throw new ArgumentNullException(nameof(write));
        _read = read ?? throw new ArgumentNullException(nameof(read));
        WireType = exceptionType.FullName ?? exceptionType.Name;
    }

    /// <summary>The declared exception type.</summary>
    public Type ExceptionType { get; }

    /// <summary>The error reply's <c>type</c>: the exception type's full name.</summary>
    public string WireType { get; }

    /// <summary>
    /// The properties the error reply's <c>data</c> object carries, by name and declared type, in order. Set by
    /// generated code; describes the contract (<c>RpcAsyncApi</c>), while the generated delegates carry it.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, Type>> DataProperties { get; init; } = Array.Empty<KeyValuePair<string, Type>>();

    internal void Write(RpcFaultWriter writer, Exception exception) => _write(writer, exception);

    internal Exception Read(RpcFaultReader reader) => _read(reader);

    /// <summary>The declared fault <paramref name="exception"/> is: its own type first, else the nearest declared base.</summary>
    internal static RpcFaultDescriptor? Find(RpcMethodDescriptor method, Exception exception)
    {
        var faults = method.Faults;
        if (faults.Count == 0) return null;
        var type = exception.GetType();
        RpcFaultDescriptor? baseMatch = null;
        for (int i = 0; i < faults.Count; i++)
        {
            if (faults[i].ExceptionType == type) return faults[i];
            if (baseMatch is null && faults[i].ExceptionType.IsInstanceOfType(exception)) baseMatch = faults[i];
        }

        return baseMatch;
    }

    /// <summary>The declared fault a reply's <c>type</c> names; only declared types can be named.</summary>
    internal static RpcFaultDescriptor? Find(RpcMethodDescriptor method, string wireType)
    {
        var faults = method.Faults;
        for (int i = 0; i < faults.Count; i++)
        {
            if (string.Equals(faults[i].WireType, wireType, StringComparison.Ordinal)) return faults[i];
        }

        return null;
    }
}
