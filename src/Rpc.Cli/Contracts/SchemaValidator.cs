using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace RpcGen.Cli.Contracts;

/// <summary>
/// Checks a JSON value against the schemas RpcGen's documents hold (System.Text.Json's exporter, shaped by the body
/// rules): <c>$ref</c> within the document, <c>type</c>, <c>enum</c>, <c>const</c>, <c>properties</c>,
/// <c>required</c>, <c>additionalProperties</c>, <c>items</c>, <c>anyOf</c>/<c>oneOf</c>/<c>allOf</c>,
/// <c>pattern</c> and the numeric and length bounds. Enough to say what is wrong before a request is sent; the server
/// still has the last word.
/// </summary>
internal sealed class SchemaValidator(JsonElement document)
{
    private const int MaxErrors = 5;

    /// <summary>Where <paramref name="value"/> breaks <paramref name="schema"/>, as "$.path: what"; empty when it fits.</summary>
    public List<string> Validate(JsonElement value, JsonElement schema)
    {
        var errors = new List<string>();
        Check(value, schema, "$", errors, depth: 0);
        return errors;
    }

    private void Check(JsonElement value, JsonElement schema, string path, List<string> errors, int depth)
    {
        if (errors.Count >= MaxErrors || depth > 64 || schema.ValueKind != JsonValueKind.Object) return;
        if (schema.TryGetProperty("$ref", out var reference))
        {
            if (Resolve(reference.GetString()) is { } target) Check(value, target, path, errors, depth + 1);
            return;
        }

        if (schema.TryGetProperty("type", out var type) && !TypeMatches(value, type))
        {
            errors.Add($"{path}: expected {Describe(type)}, got {KindOf(value)} {Preview(value)}");
            return;
        }

        if (schema.TryGetProperty("const", out var constant) && !JsonElement.DeepEquals(value, constant))
        {
            errors.Add($"{path}: expected {constant.GetRawText()}, got {Preview(value)}");
        }

        if (schema.TryGetProperty("enum", out var options) && !options.EnumerateArray().Any(o => JsonElement.DeepEquals(o, value)))
        {
            errors.Add($"{path}: expected one of {string.Join(", ", options.EnumerateArray().Select(o => o.GetRawText()))}, got {Preview(value)}");
        }

        foreach (var keyword in new[] { "anyOf", "oneOf" })
        {
            if (!schema.TryGetProperty(keyword, out var choices)) continue;
            var fits = choices.EnumerateArray().Any(choice =>
            {
                var trial = new List<string>();
                Check(value, choice, path, trial, depth + 1);
                return trial.Count == 0;
            });
            if (!fits) errors.Add($"{path}: {Preview(value)} matches none of the allowed shapes");
        }

        if (schema.TryGetProperty("allOf", out var all))
        {
            foreach (var part in all.EnumerateArray()) Check(value, part, path, errors, depth + 1);
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                CheckObject(value, schema, path, errors, depth);
                break;
            case JsonValueKind.Array:
                CheckArray(value, schema, path, errors, depth);
                break;
            case JsonValueKind.String:
                CheckString(value.GetString()!, schema, path, errors);
                break;
            case JsonValueKind.Number:
                CheckNumber(value, schema, path, errors);
                break;
        }
    }

    private void CheckObject(JsonElement value, JsonElement schema, string path, List<string> errors, int depth)
    {
        var properties = schema.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object ? p : (JsonElement?)null;
        if (schema.TryGetProperty("required", out var required))
        {
            foreach (var name in required.EnumerateArray().Select(r => r.GetString()!))
            {
                if (!value.TryGetProperty(name, out _)) errors.Add($"{path}: missing required property '{name}'");
            }
        }

        foreach (var property in value.EnumerateObject())
        {
            var at = path + "." + property.Name;
            if (properties is { } known && known.TryGetProperty(property.Name, out var propertySchema))
            {
                Check(property.Value, propertySchema, at, errors, depth + 1);
            }
            else if (schema.TryGetProperty("additionalProperties", out var additional))
            {
                if (additional.ValueKind == JsonValueKind.False)
                {
                    var names = properties is { } list ? string.Join(", ", list.EnumerateObject().Select(x => x.Name)) : "none";
                    errors.Add($"{path}: unknown property '{property.Name}' (expected: {names})");
                }
                else
                {
                    Check(property.Value, additional, at, errors, depth + 1);
                }
            }
        }
    }

    private void CheckArray(JsonElement value, JsonElement schema, string path, List<string> errors, int depth)
    {
        int count = value.GetArrayLength();
        if (schema.TryGetProperty("minItems", out var min) && count < min.GetInt32()) errors.Add($"{path}: at least {min.GetInt32()} items expected, got {count}");
        if (schema.TryGetProperty("maxItems", out var max) && count > max.GetInt32()) errors.Add($"{path}: at most {max.GetInt32()} items expected, got {count}");
        if (!schema.TryGetProperty("items", out var items)) return;
        int i = 0;
        foreach (var item in value.EnumerateArray()) Check(item, items, $"{path}[{i++}]", errors, depth + 1);
    }

    private static void CheckString(string value, JsonElement schema, string path, List<string> errors)
    {
        if (schema.TryGetProperty("minLength", out var min) && value.Length < min.GetInt32()) errors.Add($"{path}: at least {min.GetInt32()} characters expected");
        if (schema.TryGetProperty("maxLength", out var max) && value.Length > max.GetInt32()) errors.Add($"{path}: at most {max.GetInt32()} characters expected");
        if (schema.TryGetProperty("pattern", out var pattern) && !Regex.IsMatch(value, pattern.GetString()!, RegexOptions.None, TimeSpan.FromSeconds(1)))
        {
            errors.Add($"{path}: \"{value}\" does not match the pattern {pattern.GetString()}");
        }
    }

    private static void CheckNumber(JsonElement value, JsonElement schema, string path, List<string> errors)
    {
        var number = value.GetDouble();
        if (schema.TryGetProperty("minimum", out var min) && number < min.GetDouble()) errors.Add($"{path}: {value.GetRawText()} is below the minimum {min.GetRawText()}");
        if (schema.TryGetProperty("maximum", out var max) && number > max.GetDouble()) errors.Add($"{path}: {value.GetRawText()} is above the maximum {max.GetRawText()}");
    }

    private JsonElement? Resolve(string? pointer)
    {
        if (pointer is null || !pointer.StartsWith('#')) return null;
        var current = document;
        foreach (var raw in pointer[1..].Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var token = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (current.ValueKind == JsonValueKind.Object && current.TryGetProperty(token, out var next)) current = next;
            else if (current.ValueKind == JsonValueKind.Array && int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < current.GetArrayLength()) current = current[index];
            else return null;
        }

        return current;
    }

    private static bool TypeMatches(JsonElement value, JsonElement type) =>
        type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Any(t => Is(value, t.GetString())) : Is(value, type.GetString());

    private static bool Is(JsonElement value, string? type) => type switch
    {
        "null" => value.ValueKind == JsonValueKind.Null,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "string" => value.ValueKind == JsonValueKind.String,
        "array" => value.ValueKind == JsonValueKind.Array,
        "object" => value.ValueKind == JsonValueKind.Object,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && IsInteger(value),
        _ => true,
    };

    private static bool IsInteger(JsonElement value) =>
        value.TryGetInt64(out _) || (value.TryGetDecimal(out var d) && decimal.Truncate(d) == d);

    private static string Describe(JsonElement type) =>
        type.ValueKind == JsonValueKind.Array ? string.Join(" or ", type.EnumerateArray().Select(t => t.GetString())) : type.GetString() ?? "?";

    private static string KindOf(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => IsInteger(value) ? "integer" : "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => value.ValueKind.ToString().ToLowerInvariant(),
    };

    private static string Preview(JsonElement value)
    {
        var text = value.GetRawText();
        return text.Length > 40 ? text[..40] + "…" : text;
    }
}
