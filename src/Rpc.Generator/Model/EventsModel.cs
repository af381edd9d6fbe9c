namespace RpcGen.Generator.Model;

/// <summary>What an [RpcEvents] interface adds to its model.</summary>
internal sealed record EventsModel
{
    /// <summary>The exchange, without prefix.</summary>
    public required string Exchange { get; init; }

    /// <summary>The exchange type's RpcExchangeType member name.</summary>
    public required string ExchangeType { get; init; }
}
