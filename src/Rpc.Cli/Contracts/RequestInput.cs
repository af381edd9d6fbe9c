using System;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace RpcGen.Cli.Contracts;

/// <summary>
/// The JSON argument of call, stream, send and publish: the request body exactly as docs/wire-format.md lays it out
/// (no parameter: nothing; one: its bare value; more: an object keyed by parameter name), checked against the
/// document's schema before anything is sent. "-" reads it from standard input, "@FILE" from a file.
/// </summary>
internal static class RequestInput
{
    /// <summary>The body to send, or null for an empty body (a method without parameters).</summary>
    public static JsonElement? Read(MethodContract method, string? text)
    {
        if (text == "-") text = Console.In.ReadToEnd();
        else if (text is { Length: > 1 } && text[0] == '@') text = File.ReadAllText(text[1..]);

        if (string.IsNullOrWhiteSpace(text))
        {
            if (method.Parameters.Count == 0 || method.Parameters.All(p => p.Optional)) return null;
            throw new CliException(ExitCodes.Usage, $"{method.FullName} needs its arguments as JSON: {Example(method)}.");
        }

        JsonElement value;
        try
        {
            using var document = JsonDocument.Parse(text);
            value = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new CliException(ExitCodes.Usage,
                $"the arguments of {method.FullName} are not JSON ({e.Message.Split(" Path:")[0]}): {Shorten(text)}. Expected {Example(method)}; " +
                "a JSON string needs its quotes, e.g. '\"book\"'.");
        }

        if (method.Parameters.Count == 0)
        {
            if (value.ValueKind == JsonValueKind.Null || (value.ValueKind == JsonValueKind.Object && !value.EnumerateObject().Any())) return null;
            throw new CliException(ExitCodes.Usage, $"{method.FullName} takes no arguments; leave the JSON out.");
        }

        if (method.RequestSchema is { } schema)
        {
            var errors = new SchemaValidator(method.Service.Document).Validate(value, schema);
            if (errors.Count > 0)
            {
                var hint = method.Parameters.Count == 1 && value.ValueKind == JsonValueKind.Object && value.TryGetProperty(method.Parameters[0].Name, out _)
                    ? $" (a single parameter travels as its bare value, not wrapped in an object: {Example(method)})"
                    : string.Empty;
                throw new CliException(ExitCodes.Usage,
                    $"the arguments do not fit {method.FullName}'s schema{hint}:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors));
            }
        }

        return value;
    }

    /// <summary>What the JSON looks like, from the parameter names.</summary>
    public static string Example(MethodContract method) => method.Parameters.Count switch
    {
        0 => "no arguments",
        1 => $"the bare value of '{method.Parameters[0].Name}'",
        _ => "{" + string.Join(", ", method.Parameters.Select(p => $"\"{p.Name}\": …" + (p.Optional ? " (optional)" : string.Empty))) + "}",
    };

    private static string Shorten(string text) => text.Length > 60 ? text[..60] + "…" : text;
}
