using System;
using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace RpcGen.Wire;

/// <summary>Reads and writes the error reply body <c>{"type": ..., "message": ..., "detail": ...}</c>.</summary>
internal static class ErrorBody
{
    public static void Write(IBufferWriter<byte> output, string type, string message, string? detail)
    {
        // Error text is read by people and plain clients, not embedded in HTML: keep quotes and accents readable.
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartObject();
        writer.WriteString(WireContract.ErrorTypeField, type);
        writer.WriteString(WireContract.ErrorMessageField, message);
        if (detail is not null) writer.WriteString(WireContract.ErrorDetailField, detail);
        writer.WriteEndObject();
    }

    /// <summary>Never throws: a malformed error body still becomes an error the caller can read.</summary>
    public static (string Type, string Message, string? Detail) Read(ReadOnlySpan<byte> body)
    {
        string? type = null, message = null, detail = null;
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
                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
                    switch (name)
                    {
                        case WireContract.ErrorTypeField: type = value; break;
                        case WireContract.ErrorMessageField: message = value; break;
                        case WireContract.ErrorDetailField: detail = value; break;
                    }
                }
            }
        }
        catch (JsonException)
        {
        }

        if (type is null && message is null)
        {
            return ("rpc:unreadable-error", "The server replied with an error whose body is not the documented error object: " + Preview(body), null);
        }

        return (type ?? "unknown", message ?? string.Empty, detail);
    }

    private static string Preview(ReadOnlySpan<byte> body)
    {
        var slice = body.Length > 200 ? body.Slice(0, 200) : body;
        return System.Text.Encoding.UTF8.GetString(slice);
    }
}
