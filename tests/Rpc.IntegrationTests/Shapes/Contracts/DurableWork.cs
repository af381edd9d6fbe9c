// Shape: durable one-way work: a service-wide time-to-live, a method's own, and an ordered service.
using System.Threading.Tasks;

namespace RpcGen.IntegrationTests.Shapes.DurableWork;

[RpcService(Queue = "expiring", TimeToLiveMilliseconds = 60000)]
internal interface IExpiringJobs
{
    [RpcMethod(OneWay = true)]
    Task StaleAsync(int id);

    [RpcMethod(OneWay = true, TimeToLiveMilliseconds = 1500)]
    Task SoonAsync(int id);

    /// <summary>A call waits for its reply: a time-to-live is for one-way work only and leaves it alone.</summary>
    Task<int> CountAsync();
}

[RpcService(Queue = "ledger", Ordered = true)]
internal interface ILedger
{
    [RpcMethod(OneWay = true)]
    Task AppendAsync(int entry);
}
