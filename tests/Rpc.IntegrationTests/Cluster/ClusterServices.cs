using System.Collections.Concurrent;

namespace RpcGen.IntegrationTests.Cluster;

/// <summary>Durable one-way work: each confirmed RecordAsync must reach a server, whatever node dies meanwhile.</summary>
[RpcService(Queue = "cluster-ledger")]
public interface ILedger
{
    [RpcMethod(OneWay = true)]
    Task RecordAsync(int id);
}

/// <summary>Shared by every server of a test, so the ids recorded are the union of what each server ran.</summary>
public sealed class Ledger : ILedger
{
    private readonly ConcurrentDictionary<int, byte> _recorded = new();

    public int Count => _recorded.Count;

    public bool Contains(int id) => _recorded.ContainsKey(id);

    public Task RecordAsync(int id)
    {
        _recorded.TryAdd(id, 0);
        return Task.CompletedTask;
    }
}
