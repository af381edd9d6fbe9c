using System.Linq;
using System.Text.Json;

namespace RpcGen.Cli.Contracts;

/// <summary>A schema as a short type for people: <c>integer</c>, <c>string?</c>, <c>{Sku: string, Quantity: integer}</c>.</summary>
internal static class SchemaText
{
    public static string Of(JsonElement schema, int depth = 0)
    {
        if (schema.ValueKind != JsonValueKind.Object) return "any";
        if (schema.TryGetProperty("$ref", out var reference)) return reference.GetString()!.Split('/').Last();
        var nullable = false;
        string? type = null;
        if (schema.TryGetProperty("type", out var t))
        {
            if (t.ValueKind == JsonValueKind.String) type = t.GetString();
            else if (t.ValueKind == JsonValueKind.Array)
            {
                var names = t.EnumerateArray().Select(x => x.GetString()).ToList();
                nullable = names.Remove("null");
                type = names.Count == 1 ? names[0] : string.Join("|", names);
            }
        }

        if (schema.TryGetProperty("enum", out var options)) type = string.Join("|", options.EnumerateArray().Select(o => o.GetRawText()));
        var text = type switch
        {
            "array" => "[" + (schema.TryGetProperty("items", out var items) ? Of(items, depth + 1) : "any") + "]",
            "object" when depth < 2 && schema.TryGetProperty("properties", out var properties) =>
                "{" + string.Join(", ", properties.EnumerateObject().Select(p => p.Name + ": " + Of(p.Value, depth + 1))) + "}",
            "object" => "object",
            null => "any",
            _ => type,
        };
        return nullable ? text + "?" : text;
    }

    /// <summary>The parameters of a method, named, from its request schema.</summary>
    public static string Parameters(MethodContract method)
    {
        if (method.Parameters.Count == 0) return string.Empty;
        if (method.RequestSchema is not { } schema) return string.Join(", ", method.Parameters.Select(p => p.Name + (p.Optional ? "?" : string.Empty)));
        if (method.Parameters.Count == 1)
        {
            var p = method.Parameters[0];
            return p.Name + (p.Optional ? "?" : string.Empty) + ": " + Of(schema);
        }

        var properties = schema.TryGetProperty("properties", out var props) ? props : default;
        return string.Join(", ", method.Parameters.Select(p =>
            p.Name + (p.Optional ? "?" : string.Empty) + ": " +
            (properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(p.Name, out var s) ? Of(s, 1) : "any")));
    }
}
