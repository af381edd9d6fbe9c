using System;
using System.ComponentModel;
using System.Text.Json;
using RpcGen.Wire;

namespace RpcGen.Generated;

/// <summary>Writes a declared fault's properties into the <c>data</c> object of an error reply; generated code calls it.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RpcFaultWriter
{
    private readonly Utf8JsonWriter _writer;
    private readonly JsonSerializerOptions _json;

    internal RpcFaultWriter(Utf8JsonWriter writer, JsonSerializerOptions json)
    {
        _writer = writer;
        _json = json;
    }

    /// <summary>Writes one property, named as in C#, with the connection's serializer settings.</summary>
    public void Write<T>(string name, T value)
    {
        _writer.WritePropertyName(name);
        JsonSerializer.Serialize(_writer, value, JsonTypeInfoCache<T>.Get(_json));
    }
}

/// <summary>Reads a declared fault's properties from the <c>data</c> object of an error reply; generated code calls it.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RpcFaultReader
{
    private readonly JsonElement _data;
    private readonly JsonSerializerOptions _json;

    internal RpcFaultReader(JsonElement data, string message, JsonSerializerOptions json)
    {
        _data = data;
        _json = json;
        Message = message;
    }

    /// <summary>The error reply's <c>message</c>.</summary>
    public string Message { get; }

    /// <summary>Reads one property; a property the reply leaves out (a server with an older contract) reads as the type's default.</summary>
    public T Read<T>(string name)
    {
        if (_data.ValueKind != JsonValueKind.Object || !_data.TryGetProperty(name, out var value)) return default!;
        return value.Deserialize(JsonTypeInfoCache<T>.Get(_json))!;
    }
}
