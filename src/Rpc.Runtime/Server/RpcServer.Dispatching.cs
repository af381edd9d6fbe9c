using System;
using System.Buffers;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RpcGen.Server;

namespace RpcGen;

// How a delivery leaves RabbitMQ.Client's consumer dispatcher. The server's channel dispatches with a concurrency of
// one, and each delivery is handed to the thread pool here: RabbitMQ.Client 7 runs a dispatch concurrency of N as N
// loops waiting on one channel, and every delivery woke all N of them, so a lone request cost the server 66 thread-pool
// work items at the default prefetch of 64 (issue 27; docs/performance.md). The broker's prefetch still bounds the
// deliveries handled at once, as the dispatch concurrency did.
public sealed partial class RpcServer
{
    /// <summary>
    /// Takes a delivery off the dispatcher: counted in flight at once (so stopping waits for it), its body copied (the
    /// dispatcher reuses the buffer once the consumer returns), and handled on the thread pool.
    /// </summary>
    internal void Dispatch(RequestConsumer consumer, ulong deliveryTag, bool redelivered, string exchange, string routingKey,
        IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body)
    {
        _inFlight.Enter();
        var copy = ArrayPool<byte>.Shared.Rent(body.Length);
        body.Span.CopyTo(copy);
        // Local: the dispatcher's thread is about to go idle and takes it next, instead of waking another thread.
        ThreadPool.UnsafeQueueUserWorkItem(new Delivery(this, consumer, deliveryTag, redelivered, exchange, routingKey, properties, copy, body.Length),
            preferLocal: true);
    }

    private sealed class Delivery(RpcServer server, RequestConsumer consumer, ulong deliveryTag, bool redelivered, string exchange, string routingKey,
        IReadOnlyBasicProperties properties, byte[] body, int length) : IThreadPoolWorkItem
    {
        public void Execute() => _ = HandleAsync();

        private async Task HandleAsync()
        {
            try
            {
                await server.HandleAsync(consumer, deliveryTag, redelivered, exchange, routingKey, properties, body.AsMemory(0, length)).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(body);
            }
        }
    }
}
