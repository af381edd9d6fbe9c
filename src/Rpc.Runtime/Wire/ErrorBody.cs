using System;
using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace RpcGen.Wire;

/// <summary>
/// Reads and writes the error reply body <c>{"type": ..., "message": ..., "detail": ..., "data": {...}}</c>; <c>data</c>
/// carries a declared fault's properties.
/// </summary>
internal static class ErrorBody
{
    // Error text is read by people and plain clients, not embedded in HTML: keep quotes and accents readable.
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(IBufferWriter<byte> output, string type, string message, string? detail)
    {
        using var writer = new Utf8JsonWriter(output, s_writerOptions);
        writer.WriteStartObject();
        writer.WriteString(WireContract.ErrorTypeField, type);
        writer.WriteString(WireContract.ErrorMessageField, message);
        if (detail is not null) writer.WriteString(WireContract.ErrorDetailField, detail);
        writer.WriteEndObject();
    }

    /// <summary>Writes a declared fault: its type, message and a <c>data</c> object of its properties. Throws when a property cannot be serialised.</summary>
    public static void WriteFault(IBufferWriter<byte> output, RpcFaultDescriptor fault, Exception exception, JsonSerializerOptions json, string? detail)
    {
        using var writer = new Utf8JsonWriter(output, s_writerOptions);
        writer.WriteStartObject();
        writer.WriteString(WireContract.ErrorTypeField, fault.WireType);
        writer.WriteString(WireContract.ErrorMessageField, exception.Message);
        if (detail is not null) writer.WriteString(WireContract.ErrorDetailField, detail);
        writer.WritePropertyName(WireContract.ErrorDataField);
        writer.WriteStartObject();
        fault.Write(new RpcFaultWriter(writer, json), exception);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>Never throws: a malformed error body still becomes an error the caller can read.</summary>
    public static (string Type, string Message, string? Detail) Read(ReadOnlySpan<byte> body) => Read(body, out _);

    /// <summary>
    /// As <see cref="Read(ReadOnlySpan{byte})"/>, and where the <c>data</c> object is in the body (length 0 when absent).
    /// A body that is not the documented object, or holds text that is not UTF-8, reads as <see cref="UnreadableType"/>
    /// with a message that says why and shows its first bytes: every error reply ends its call.
    /// </summary>
    public static (string Type, string Message, string? Detail) Read(ReadOnlySpan<byte> body, out (int Start, int Length) data)
    {
        data = default;
        string? type = null, message = null, detail = null;
        string? failure = null;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var name = reader.GetString();
                    reader.Read();
                    var value = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    {
                        int start = (int)reader.TokenStartIndex;
                        reader.Skip();
                        if (name == WireContract.ErrorDataField) data = (start, (int)reader.BytesConsumed - start);
                    }
                    switch (name)
                    {
                        case WireContract.ErrorTypeField: type = value; break;
                        case WireContract.ErrorMessageField: message = value; break;
                        case WireContract.ErrorDetailField: detail = value; break;
                    }
                }
            }
        }
        catch (JsonException e)
        {
            failure = "it is not valid JSON: " + e.Message;
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader.Read does not check the UTF-8 inside strings; GetString does, and throws this.
            failure = "it holds a string that is not valid UTF-8 (invalid UTF-8): " + e.Message;
        }

        if (failure is not null)
        {
            data = default;
            return (UnreadableType, $"The server replied with an error{(type is null ? "" : $" of type '{type}'")} whose body cannot be read, because {failure} " +
                "First bytes: " + Preview(body), null);
        }

        if (type is null && message is null)
        {
            return (UnreadableType, "The server replied with an error whose body is not the documented error object: " + Preview(body), null);
        }

        return (type ?? "unknown", message ?? string.Empty, detail);
    }

    /// <summary>The type the caller sees for an error reply whose body it cannot read.</summary>
    public const string UnreadableType = RpcErrorTypes.UnreadableError;

    private static string Preview(ReadOnlySpan<byte> body)
    {
        var slice = body.Length > 200 ? body.Slice(0, 200) : body;
        return System.Text.Encoding.UTF8.GetString(slice);
    }
}
