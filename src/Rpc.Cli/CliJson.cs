using System;
using System.IO;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RpcGen.Cli;

/// <summary>What rpcgen reads and writes as JSON: only <see cref="JsonElement"/>, so no contract type is needed at run time.</summary>
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class CliJsonContext : JsonSerializerContext;

/// <summary>The serializer settings of rpcgen's connections, and its JSON output.</summary>
internal static class CliJson
{
    /// <summary>Source-generated, so the NativeAOT binary needs no reflection: every body is a JsonElement.</summary>
    public static JsonSerializerOptions Options => new() { TypeInfoResolver = CliJsonContext.Default };

    private static readonly JsonWriterOptions s_indented = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions s_compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary><paramref name="value"/> as indented JSON (or one line with <paramref name="compact"/>).</summary>
    public static string Format(JsonElement value, bool compact = false)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, compact ? s_compact : s_indented)) value.WriteTo(writer);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Writes an object with <paramref name="write"/> and returns it as JSON text.</summary>
    public static string Object(Action<Utf8JsonWriter> write, bool compact = false)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, compact ? s_compact : s_indented))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
