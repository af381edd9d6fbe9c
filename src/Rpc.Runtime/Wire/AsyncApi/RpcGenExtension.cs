#if NET9_0_OR_GREATER
using System.Text.Json.Nodes;

namespace RpcGen.Wire.AsyncApi;

/// <summary>
/// The <c>x-rpcgen</c> extension of a document and of each operation: what AsyncAPI has no field for and a tool needs
/// to make RpcGen's calls from the document alone (the <c>rpcgen</c> command-line tool reads it): the kind of each
/// method, its parameters in order with their flags, its timeout and its declared faults.
/// </summary>
internal static class RpcGenExtension
{
    public const string Name = "x-rpcgen";

    public static JsonObject Service(RpcServiceDescriptor service, string queue)
    {
        var extension = new JsonObject { ["kind"] = "service", ["service"] = service.Name, ["queue"] = queue };
        if (service.Ordered) extension["ordered"] = true;
        return extension;
    }

    public static JsonObject Events(RpcEventsDescriptor events, string exchange) => new()
    {
        ["kind"] = "events",
        ["service"] = events.Name,
        ["exchange"] = exchange,
        ["exchangeType"] = Transport.ExchangeDeclarations.TypeName(events.ExchangeType),
    };

    public static JsonObject Method(RpcMethodDescriptor method)
    {
        var parameters = new JsonArray();
        foreach (var parameter in method.Parameters)
        {
            var entry = new JsonObject { ["name"] = parameter.Name };
            if ((parameter.Flags & RpcParameterFlags.Optional) != 0) entry["optional"] = true;
            if ((parameter.Flags & RpcParameterFlags.NotNull) != 0) entry["notNull"] = true;
            parameters.Add((JsonNode)entry);
        }

        var faults = new JsonArray();
        foreach (var fault in method.Faults) faults.Add((JsonNode)fault.WireType);
        var extension = new JsonObject
        {
            ["method"] = method.WireName,
            ["kind"] = method.Service is RpcEventsDescriptor ? "event" : method.OneWay ? "one-way" : method.Streams ? "stream" : "call",
            ["parameters"] = parameters,
            ["faults"] = faults,
        };
        if (method.TimeoutMilliseconds > 0) extension["timeoutMs"] = method.TimeoutMilliseconds;
        if (method.TimeToLiveMilliseconds > 0) extension["timeToLiveMs"] = method.TimeToLiveMilliseconds;
        return extension;
    }
}
#endif
