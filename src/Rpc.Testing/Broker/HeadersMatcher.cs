using System;
using System.Collections.Generic;
using System.Text;

namespace RpcGen.Testing.Broker;

/// <summary>
/// A headers exchange's match: <c>x-match</c> all (the default) or any; <c>all-with-x</c> and <c>any-with-x</c> also
/// compare the message's <c>x-</c> headers, which plain all and any ignore (RabbitMQ 3.10 and later).
/// </summary>
internal static class HeadersMatcher
{
    public static bool Matches(IDictionary<string, object?>? binding, IDictionary<string, object?>? headers)
    {
        string mode = binding is not null && binding.TryGetValue("x-match", out var match) ? Text(match) ?? "all" : "all";
        bool any = mode.StartsWith("any", StringComparison.Ordinal);
        bool withX = mode.EndsWith("-with-x", StringComparison.Ordinal);
        bool anyCompared = false;
        if (binding is null) return true;
        foreach (var (key, expected) in binding)
        {
            if (key.StartsWith("x-", StringComparison.Ordinal) && (!withX || key == "x-match")) continue;
            anyCompared = true;
            bool found = headers is not null && headers.TryGetValue(key, out var actual) && SameValue(expected, actual);
            if (any && found) return true;
            if (!any && !found) return false;
        }

        return !any || !anyCompared;
    }

    private static bool SameValue(object? expected, object? actual) =>
        expected is null || string.Equals(Text(expected), Text(actual), StringComparison.Ordinal);

    /// <summary>A header's value as text: the broker hands strings back as bytes, numbers of any width compare by value.</summary>
    public static string? Text(object? value) => value switch
    {
        null => null,
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        string text => text,
        IFormattable number => number.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
