// Shape: methods of base interfaces belong to the service (bases need no [RpcService]); a diamond counts each method
// once; a generic base; the same C# signature from two bases, and a base method hidden with 'new', kept apart by
// [RpcMethod] names.
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

internal sealed record Item(int Id, string Name);

internal interface IRepository<T>
{
    Task<T?> FindAsync(int id);

    Task AddAsync(T item);
}

internal interface ILegacyVersion
{
    Task<int> VersionAsync();
}

internal interface IModernVersion
{
    [RpcMethod("version-text")]
    Task<string> VersionAsync();
}

internal interface ISized
{
    Task<int> SizeAsync();
}

/// <summary>A generic base, one signature from two bases, and a hidden base method.</summary>
[RpcService]
internal interface IItemCatalog : IRepository<Item>, ILegacyVersion, IModernVersion, ISized
{
    [RpcMethod("size-long")]
    new Task<long> SizeAsync();
}
