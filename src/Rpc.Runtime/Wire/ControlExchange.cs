using System.Threading.Tasks;
using RabbitMQ.Client;

namespace RpcGen.Wire;

/// <summary>
/// The control exchange of a service, declared alike by its servers (which bind it) and by callers (which publish
/// cancels to it): fanout, not durable, auto-delete, so it goes away with the last server's binding and a redeclare
/// with other arguments never happens.
/// </summary>
internal static class ControlExchange
{
    public static Task DeclareAsync(IChannel channel, string exchange) =>
        channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: false, autoDelete: true);
}
