using System;
using System.Buffers;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;

namespace RpcGen.PostgreSql;

/// <summary>A message's text headers as a JSON object in a text column, written and read without reflection.</summary>
internal static class HeadersText
{
    public static string? Write(IReadOnlyDictionary<string, string>? headers)
    {
        if (headers is not { Count: > 0 }) return null;
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in headers) writer.WriteString(name, value);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static IReadOnlyDictionary<string, string>? Read(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        using var document = JsonDocument.Parse(text);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.String) headers[property.Name] = property.Value.GetString()!;
        }

        return headers;
    }
}
