#if NET9_0_OR_GREATER
using System.Text.Json;

namespace RpcGen;

/// <summary>What <see cref="RpcAsyncApi"/> puts into a document.</summary>
public sealed class RpcAsyncApiOptions
{
    /// <summary>
    /// The serializer settings the service runs with (<see cref="RpcConnectionOptions.JsonSerializerOptions"/>), so the schemas
    /// describe the JSON that is really on the wire: property names, naming policy, number handling. Null: the
    /// defaults RpcGen uses, System.Text.Json's own. A trimmed or AOT app passes its options with its
    /// <c>JsonSerializerContext</c>.
    /// </summary>
    public JsonSerializerOptions? JsonSerializerOptions { get; set; }

    /// <summary>Put in front of the queue name, as <see cref="RpcConnectionOptions.QueuePrefix"/> is; empty by default.</summary>
    public string QueuePrefix { get; set; } = string.Empty;

    /// <summary>Whose side the operations describe: the server's (<c>receive</c>, the default) or a client's (<c>send</c>).</summary>
    public RpcAsyncApiPerspective Perspective { get; set; } = RpcAsyncApiPerspective.Server;

    /// <summary>The document's <c>info.title</c>; the service name when null.</summary>
    public string? Title { get; set; }

    /// <summary>The document's <c>info.version</c>: the version of the contract, which AsyncAPI requires.</summary>
    public string Version { get; set; } = "1.0.0";

    /// <summary>The document's <c>info.description</c>; a sentence naming the service and its queue when null.</summary>
    public string? Description { get; set; }
}

/// <summary>Whose side an AsyncAPI document's operations are written from.</summary>
public enum RpcAsyncApiPerspective
{
    /// <summary>The server's: each operation <c>receive</c>s requests from the service queue and replies.</summary>
    Server,

    /// <summary>A client's: each operation <c>send</c>s requests to the service queue and awaits the reply.</summary>
    Client,
}
#endif
