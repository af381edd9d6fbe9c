using System.Threading.Tasks;
using RabbitMQ.Client;

namespace RpcGen.Wire;

/// <summary>
/// The control exchange of a service, declared by its servers, which bind it: fanout, not durable, auto-delete, so it
/// goes away with the last server's binding. Callers only publish to it (cancels, stream credit) and need no configure
/// permission: they cannot delete it or re-declare it with other arguments under the servers (docs/security.md).
/// </summary>
internal static class ControlExchange
{
    public static Task DeclareAsync(IChannel channel, string exchange) =>
        channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: false, autoDelete: true);
}
