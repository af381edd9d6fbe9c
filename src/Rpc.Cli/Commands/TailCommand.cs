using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using RpcGen.Cli.Broker;
using RpcGen.Cli.Contracts;

namespace RpcGen.Cli.Commands;

/// <summary>
/// rpcgen tail EXCHANGE|Events --bind PATTERN: prints events as they flow, from a server-named, exclusive, auto-delete
/// queue bound to the exchange, which the broker deletes when rpcgen stops: nothing is left behind, and no subscriber
/// group's queue is touched.
/// </summary>
internal static class TailCommand
{
    public static Command Create(CommonOptions common)
    {
        var source = new Argument<string>("SOURCE") { Description = "An events contract's name (e.g. OrderEvents) or an exchange's name." };
        var bind = new Option<string[]>("--bind", "-b") { Description = "A binding key, e.g. order.placed.* or order.#; repeatable (default: every event: # on topic, each event's name on direct)." };
        var count = new Option<int?>("--count", "-n") { Description = "Stop after this many events." };
        var json = new Option<bool>("--json") { Description = "One JSON object a line: routingKey, event, body, headers." };
        var command = new Command("tail", "Print events as they are published, from a temporary exclusive queue (nothing is left behind).") { source, bind, count, json };
        command.SetAction(async (result, cancellationToken) =>
        {
            var name = result.GetValue(source)!;
            ContractSet? contracts = null;
            try
            {
                contracts = common.LoadContracts(result);
            }
            catch (CliException) when (result.GetValue(common.Contracts) is not { Length: > 0 })
            {
                // A bare exchange needs no contract; the events then print as they came.
            }

            var events = contracts?.FindService(name) is { IsEvents: true } found ? found : contracts?.Services.FirstOrDefault(s => s.Exchange == name);
            var address = common.Address(result);
            var exchange = events is null ? name : address.Prefix + events.Exchange;
            var keys = result.GetValue(bind) is { Length: > 0 } given ? given : DefaultKeys(events);
            var limit = result.GetValue(count);
            var asJson = result.GetValue(json);

            await using var rpc = await CliConnection.ConnectAsync(address, "tail", cancellationToken);
            var channel = await rpc.Connection.CreateChannelAsync(cancellationToken: cancellationToken);
            try
            {
                await channel.ExchangeDeclarePassiveAsync(exchange, cancellationToken);
            }
            catch (OperationInterruptedException)
            {
                throw new CliException(ExitCodes.Usage, $"no exchange '{exchange}' on {address.Display}" +
                    (events is null && contracts is not null ? $"; events contracts: {string.Join(", ", contracts.Services.Where(s => s.IsEvents).Select(s => s.Name))}." : "."));
            }

            var queue = (await channel.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: true, cancellationToken: cancellationToken)).QueueName;
            foreach (var key in keys) await channel.QueueBindAsync(queue, exchange, key, cancellationToken: cancellationToken);

            var lines = Channel.CreateUnbounded<string>();
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += (_, delivery) =>
            {
                lines.Writer.TryWrite(Line(delivery, events, asJson));
                return Task.CompletedTask;
            };
            await channel.BasicConsumeAsync(queue, autoAck: true, consumer, cancellationToken);
            Console.Error.WriteLine($"tailing exchange '{exchange}' ({string.Join(", ", keys.Select(k => k.Length == 0 ? "all" : k))}) through temporary queue {queue} on {address.Display}; Ctrl-C stops.");

            int seen = 0;
            try
            {
                while (limit is null || seen < limit)
                {
                    var line = await lines.Reader.ReadAsync(cancellationToken);
                    Console.Out.WriteLine(line);
                    seen++;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl-C is how a tail ends.
            }

            await channel.CloseAsync(CancellationToken.None);
            Console.Error.WriteLine($"{seen} events; the temporary queue is gone.");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string[] DefaultKeys(ServiceContract? events) => events?.ExchangeType switch
    {
        "fanout" => new[] { string.Empty },
        "direct" => events.Methods.Select(m => m.Name).ToArray(),
        _ => new[] { "#" },
    };

    private static string Line(BasicDeliverEventArgs delivery, ServiceContract? events, bool asJson)
    {
        var type = delivery.BasicProperties.Type ?? "?";
        var known = events?.Methods.Any(m => m.Name == type) ?? false;
        JsonElement? body = null;
        try
        {
            if (!delivery.Body.IsEmpty)
            {
                using var document = JsonDocument.Parse(delivery.Body);
                body = document.RootElement.Clone();
            }
        }
        catch (JsonException)
        {
            // Shown as text below: tail shows what is on the wire, whoever published it.
        }

        var text = body is { } b ? CliJson.Format(b, compact: true) : Encoding.UTF8.GetString(delivery.Body.Span);
        if (!asJson) return $"{delivery.RoutingKey} {type}{(known || events is null ? string.Empty : " (not in the contract)")} {text}";
        return CliJson.Object(writer =>
        {
            writer.WriteString("routingKey", delivery.RoutingKey);
            writer.WriteString("event", type);
            writer.WritePropertyName("body");
            if (body is { } value) value.WriteTo(writer);
            else writer.WriteStringValue(text);
            if (delivery.BasicProperties.Headers is { Count: > 0 } headers)
            {
                writer.WriteStartObject("headers");
                foreach (var (key, header) in headers.OrderBy(h => h.Key, StringComparer.Ordinal)) writer.WriteString(key, HeaderText(header));
                writer.WriteEndObject();
            }
        }, compact: true);
    }

    public static string HeaderText(object? value) => value switch
    {
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        null => string.Empty,
        IEnumerable<object> list => "[" + string.Join(", ", list.Select(HeaderText)) + "]",
        IDictionary<string, object?> table => "{" + string.Join(", ", table.Select(p => p.Key + ": " + HeaderText(p.Value))) + "}",
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty,
    };
}
