// Shape: one-way methods: the client publishes without reply_to and completes on the broker's confirm; the
// server runs the method and sends no reply.
using System.Threading.Tasks;

namespace RpcGen.IntegrationTests.Shapes.OneWay;

[RpcService]
internal interface IEventSink
{
    [RpcMethod(OneWay = true)]
    Task RecordAsync(string name, int value);

    [RpcMethod("notify", OneWay = true)]
    ValueTask NotifyAsync(string message);

    Task<string[]> RecordedAsync();
}
