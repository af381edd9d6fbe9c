using System.Globalization;
using System.Text;

namespace RpcGen.Generator.Bench;

/// <summary>
/// The project the generator is timed on: <c>services</c> [RpcService] interfaces of <c>methods</c> methods each, in
/// one file per service and 20 namespaces, mixing the shapes users write (records, collections, defaults, params,
/// cancellation tokens, one-way, overloads, inheritance); as many ordinary classes beside them; and shared types.
/// </summary>
internal sealed class SyntheticProject
{
    public SyntheticProject(int services, int methods)
    {
        Services = services;
        Methods = methods;
        Files = new List<(string Path, string Text)> { ("Types.cs", Types) };
        for (int i = 0; i < services; i++) Files.Add(($"Services/Service{i}.cs", Service(i, methods)));
        for (int i = 0; i < services; i++) Files.Add(($"Code/Code{i}.cs", Code(i)));
    }

    public int Services { get; }

    public int Methods { get; }

    public List<(string Path, string Text)> Files { get; }

    public const string UnrelatedFile = "Code/Code0.cs";

    public const string ServiceFile = "Services/Service0.cs";

    /// <summary>A one-line edit inside a method body of an ordinary class.</summary>
    public static string EditUnrelated(string text, int version) =>
        text.Replace("return total;", "return total + " + version.ToString(CultureInfo.InvariantCulture) + ";");

    /// <summary>A one-line edit in a service file that changes no contract: a comment.</summary>
    public static string EditServiceComment(string text, int version) =>
        text.Replace("// contract", "// contract, revision " + version.ToString(CultureInfo.InvariantCulture));

    /// <summary>A one-line edit that changes a contract: one more parameter on the first method.</summary>
    public static string EditServiceSignature(string text, int version) =>
        text.Replace("(int a, int b);", "(int a, int b, int c" + version.ToString(CultureInfo.InvariantCulture) + ");");

    private const string Types = """
        using System;
        using System.Collections.Generic;

        namespace Bench.Shared
        {
            public enum Level { Low, Mid, High }
            public sealed record Customer(Guid Id, string Name, string? Email);
            public readonly record struct Money(decimal Amount, string Currency);
            public sealed class Order { public int Number { get; set; } public List<string> Lines { get; set; } = new(); }
            public interface IHealth { System.Threading.Tasks.Task<string> HealthAsync(); }
        }
        """;

    private static string Service(int index, int methods)
    {
        var text = new StringBuilder();
        text.Append("""
            using System;
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using Bench.Shared;
            using RpcGen;

            """);
        text.Append("namespace Bench.Area").Append(index % 20).Append(";\n\n");
        text.Append("// contract\n");
        text.Append("/// <summary>Service ").Append(index).Append(".</summary>\n");
        text.Append("[RpcService]\npublic interface IService").Append(index).Append(" : IHealth\n{\n");
        for (int m = 0; m < methods - 1; m++) text.Append("    ").Append(Method(m)).Append('\n');
        text.Append("}\n");
        return text.ToString();
    }

    /// <summary>Nine method shapes, repeated; with the inherited HealthAsync each service has <c>methods</c> methods.</summary>
    private static string Method(int m) => (m % 9) switch
    {
        0 => $"/// <summary>m</summary>\n    Task<int> Add{m}Async(int a, int b);",
        1 => $"/// <summary>m</summary>\n    ValueTask<Customer?> Find{m}Async(Guid id, CancellationToken cancellationToken = default);",
        2 => $"/// <summary>m</summary>\n    Task Save{m}Async(Customer customer, Order order, Level level = Level.Mid);",
        3 => $"/// <summary>m</summary>\n    Task<List<Money>> Prices{m}Async(Dictionary<string, int?> counts, params string[] skus);",
        4 => $"/// <summary>m</summary>\n    [RpcMethod(OneWay = true)] Task Notify{m}Async(string message);",
        5 => $"/// <summary>m</summary>\n    Task<decimal> Total{m}Async(Money[] items, DateTimeOffset at, string? coupon = null);",
        6 => $"/// <summary>m</summary>\n    [RpcMethod(\"lookup-{m}\")] Task<string> Lookup{m}Async(int id);",
        7 => $"/// <summary>m</summary>\n    Task<string> Lookup{m - 1}Async(string name);",
        _ => $"/// <summary>m</summary>\n    ValueTask Reset{m}Async(CancellationToken cancellationToken);",
    };

    private static string Code(int index) => $$"""
        using System.Collections.Generic;
        using System.Linq;

        namespace Bench.Code{{index % 20}};

        internal static class Calculations{{index}}
        {
            public static int Sum(IEnumerable<int> values)
            {
                int total = 0;
                foreach (var value in values) total += value;
                return total;
            }

            public static string Describe(IReadOnlyList<string> names) => string.Join(", ", names.OrderBy(n => n));

            public static double Average(int[] values) => values.Length == 0 ? 0 : values.Average();
        }
        """;
}
