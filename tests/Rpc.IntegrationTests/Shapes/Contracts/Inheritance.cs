// Shape: methods of base interfaces belong to the service (bases need no [RpcService]); a diamond counts each method once.
using System.Threading.Tasks;

namespace RpcGen.IntegrationTests.Shapes.Inheritance;

internal interface IPingable
{
    Task<string> PingAsync();
}

internal interface IReader : IPingable
{
    Task<string?> GetAsync(string key);
}

internal interface IWriter : IPingable
{
    Task SetAsync(string key, string? value);
}

/// <summary>A diamond: IPingable reaches it through both IReader and IWriter.</summary>
[RpcService]
internal interface IKeyValueStore : IReader, IWriter
{
    ValueTask<int> CountAsync();
}

/// <summary>Derived from another service: the base's methods are served under the derived service's queue too.</summary>
[RpcService]
internal interface IAuditedStore : IKeyValueStore
{
    Task<string[]> HistoryAsync();
}
