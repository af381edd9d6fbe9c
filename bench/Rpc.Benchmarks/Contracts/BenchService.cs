using System.Text.Json;
using System.Text.Json.Serialization;

namespace RpcGen.Benchmarks.Contracts;

/// <summary>
/// The one service every contender serves: a trivial method per payload kind, so what is measured is the RPC
/// machinery (serialisation, broker round trip, correlation), not the work.
/// </summary>
[RpcService(Queue = "bench")]
public interface IBenchService
{
    /// <summary>The small call: an int in, the int plus one out.</summary>
    Task<int> IncrementAsync(int value);

    /// <summary>The object call: the payload back as it came (read and written again by the server).</summary>
    Task<Payload> EchoAsync(Payload payload);
}

/// <summary>What every contender's server computes; the hand-written servers and the MassTransit consumers call it too.</summary>
public sealed class BenchService : IBenchService
{
    /// <summary>The answer of <see cref="IBenchService.IncrementAsync"/>, shared by every contender's server.</summary>
    public static int Increment(int value) => unchecked(value + 1);

    /// <summary>The answer of <see cref="IBenchService.EchoAsync"/>, shared by every contender's server.</summary>
    public static Payload Echo(Payload payload) => payload;

    /// <inheritdoc/>
    public Task<int> IncrementAsync(int value) => Task.FromResult(Increment(value));

    /// <inheritdoc/>
    public Task<Payload> EchoAsync(Payload payload) => Task.FromResult(Echo(payload));
}

/// <summary>An object payload: a header and a list of small records, the shape of a typical business message.</summary>
public sealed class Payload
{
    public int Id { get; init; }

    public string Name { get; init; } = string.Empty;

    public Item[] Items { get; init; } = Array.Empty<Item>();

    /// <summary>Field-by-field equality: answers from different contenders are compared with it.</summary>
    public bool SameAs(Payload? other)
    {
        if (other is null || other.Id != Id || other.Name != Name || other.Items.Length != Items.Length) return false;
        for (int i = 0; i < Items.Length; i++)
        {
            var a = Items[i];
            var b = other.Items[i];
            if (a.Number != b.Number || a.Label != b.Label || a.Value != b.Value) return false;
        }

        return true;
    }
}

public sealed class Item
{
    public int Number { get; init; }

    public string Label { get; init; } = string.Empty;

    public double Value { get; init; }
}

/// <summary>The payload kinds of the benchmark.</summary>
public enum PayloadKind
{
    Int,
    Object4K,
    Object256K,
    Object1K,
    Object64K,
    Object1M,
}

/// <summary>Builds the object payloads to a target JSON size, the same for every contender.</summary>
public static class Payloads
{
    public static string Label(PayloadKind kind) => kind switch
    {
        PayloadKind.Int => "int",
        PayloadKind.Object4K => "4 KB object",
        PayloadKind.Object256K => "256 KB object",
        PayloadKind.Object1K => "1 KB object",
        PayloadKind.Object64K => "64 KB object",
        PayloadKind.Object1M => "1 MB object",
        _ => kind.ToString(),
    };

    public static int TargetBytes(PayloadKind kind) => kind switch
    {
        PayloadKind.Object4K => 4 * 1024,
        PayloadKind.Object256K => 256 * 1024,
        PayloadKind.Object1K => 1024,
        PayloadKind.Object64K => 64 * 1024,
        PayloadKind.Object1M => 1024 * 1024,
        _ => 0,
    };

    /// <summary>The smallest payload whose JSON (with RpcGen's serializer settings) is at least <paramref name="targetBytes"/>.</summary>
    public static Payload Create(int targetBytes, int id = 7)
    {
        var items = new List<Item>();
        var payload = new Payload { Id = id, Name = "payload-" + targetBytes, Items = items.ToArray() };
        int size = JsonSerializer.SerializeToUtf8Bytes(payload, BenchJson.Default.Payload).Length;
        while (size < targetBytes)
        {
            int n = items.Count;
            var item = new Item { Number = n, Label = "item-" + n.ToString("D5", System.Globalization.CultureInfo.InvariantCulture), Value = n * 0.25 };
            items.Add(item);
            size += JsonSerializer.SerializeToUtf8Bytes(item, BenchJson.Default.Item).Length + 1;
        }

        return new Payload { Id = id, Name = payload.Name, Items = items.ToArray() };
    }
}

/// <summary>Source-generated JSON metadata, used by RpcGen and the hand-written contenders alike.</summary>
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(Payload))]
[JsonSerializable(typeof(Item))]
public sealed partial class BenchJson : JsonSerializerContext
{
    private static JsonSerializerOptions? s_sharedOptions;

    /// <summary>Read-only options over this context, for RpcConnectionOptions.JsonSerializerOptions.</summary>
    // Built on first use: a static initialiser would run before the generated Default is set.
    public static JsonSerializerOptions SharedOptions => s_sharedOptions ??= CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions { TypeInfoResolver = Default };
        options.MakeReadOnly();
        return options;
    }
}
