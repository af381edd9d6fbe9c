namespace RpcGen.Generator.Parsing;

/// <summary>The metadata names of the runtime's attributes the parser reads.</summary>
internal static class AttributeNames
{
    public const string RpcService = "RpcGen.RpcServiceAttribute";
    public const string RpcMethod = "RpcGen.RpcMethodAttribute";
    public const string RpcFault = "RpcGen.RpcFaultAttribute";
    public const string RpcEvents = "RpcGen.RpcEventsAttribute";
    public const string RoutingKey = "RpcGen.RpcRoutingKeyAttribute";
}
