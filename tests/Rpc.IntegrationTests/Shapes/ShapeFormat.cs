using System.Collections;
using System.Globalization;
using RpcGen.IntegrationTests.Shapes.Types;

namespace RpcGen.IntegrationTests.Shapes;

/// <summary>
/// How shape services describe the arguments they received, so a test can compare what the server saw with what the
/// client sent, value by value, without trusting the serializer on either side.
/// </summary>
internal static class ShapeFormat
{
    public static string Describe(params object?[] values) => string.Join("|", values.Select(Format));

    private static string Format(object? value) => value switch
    {
        null => "null",
        string text => "\"" + text + "\"",
        DateTimeOffset time => time.ToString("O", CultureInfo.InvariantCulture),
        Order order => "Order " + order.Number + " " + Format(order.Lines),
        IDictionary dictionary => "{" + string.Join(",", dictionary.Keys.Cast<object>().OrderBy(k => k.ToString(), StringComparer.Ordinal)
            .Select(k => Format(k) + ":" + Format(dictionary[k]))) + "}",
        IEnumerable items => "[" + string.Join(",", items.Cast<object?>().Select(Format)) + "]",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture) + ":" + value.GetType().Name,
        _ => value.ToString() ?? "",
    };
}
