namespace RpcGen.Generator.Model;

/// <summary>What an [RpcEvents] interface adds to its model: the exchange (without prefix) and its type's enum member name.</summary>
internal sealed record EventsModel(string Exchange, string ExchangeType);
