#if NET9_0_OR_GREATER
using System;
using System.Text.Json.Nodes;

namespace RpcGen.Wire.AsyncApi;

/// <summary>JSON Pointer (RFC 6901) pieces for the references inside a document.</summary>
internal static class Pointer
{
    /// <summary>A name as one reference token: '~' and '/' escaped.</summary>
    public static string Escape(string token) => token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    /// <summary>
    /// Moves a schema's own references under <paramref name="basePointer"/>: the exporter writes a recursive type's
    /// <c>$ref</c> relative to the schema's root (<c>#</c>, <c>#/properties/Next</c>), which inside a larger document
    /// would point at the document's root instead.
    /// </summary>
    public static JsonNode Rebase(JsonNode schema, string basePointer)
    {
        Visit(schema, basePointer);
        return schema;
    }

    private static void Visit(JsonNode? node, string basePointer)
    {
        switch (node)
        {
            case JsonObject obj:
                if (obj["$ref"] is JsonValue reference && reference.TryGetValue(out string? target) && target.StartsWith('#'))
                {
                    obj["$ref"] = basePointer + target.Substring(1);
                }

                foreach (var property in obj)
                {
                    if (property.Key != "$ref") Visit(property.Value, basePointer);
                }

                break;
            case JsonArray array:
                foreach (var item in array) Visit(item, basePointer);
                break;
        }
    }
}
#endif
