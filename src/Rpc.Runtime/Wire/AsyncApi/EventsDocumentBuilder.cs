#if NET9_0_OR_GREATER
using System.Text.Json.Nodes;

namespace RpcGen.Wire.AsyncApi;

/// <summary>
/// Lays one <see cref="RpcEventsAttribute"/> interface out as AsyncAPI 3.0: its exchange as a channel, an operation
/// per event, and each event's body as a message whose payload is a schema under <c>components.schemas</c>. Events
/// have no reply; the server perspective is a subscriber's (<c>receive</c>), the client one a publisher's (<c>send</c>).
/// </summary>
internal sealed class EventsDocumentBuilder
{
    private const string AmqpBindingVersion = "0.3.0";

    private readonly RpcEventsDescriptor _events;
    private readonly RpcAsyncApiOptions _options;
    private readonly MessageSchemas _schemas;
    private readonly string _exchange;

    public EventsDocumentBuilder(RpcEventsDescriptor events, RpcAsyncApiOptions options)
    {
        _events = events;
        _options = options;
        _schemas = new MessageSchemas(events, options.JsonSerializerOptions);
        _exchange = (options.QueuePrefix ?? string.Empty) + events.Exchange;
    }

    public JsonObject Build()
    {
        var channel = _events.Name;
        var channelMessages = new JsonObject();
        var componentSchemas = new JsonObject();
        var componentMessages = new JsonObject();
        var operations = new JsonObject();
        var subscriber = _options.Perspective == RpcAsyncApiPerspective.Server;
        foreach (var method in _events.Methods)
        {
            var name = method.WireName;
            componentSchemas[name] = Pointer.Rebase(_schemas.Request(method), "#/components/schemas/" + Pointer.Escape(name));
            componentMessages[name] = new JsonObject
            {
                ["name"] = name,
                ["title"] = _events.Name + "." + name,
                ["summary"] = "The event's arguments, laid out as a request body is (docs/wire-format.md).",
                ["contentType"] = WireContract.JsonContentType,
                ["payload"] = Ref("#/components/schemas/" + Pointer.Escape(name)),
                ["bindings"] = new JsonObject { ["amqp"] = new JsonObject { ["messageType"] = name, ["bindingVersion"] = AmqpBindingVersion } },
            };
            channelMessages[name] = Ref("#/components/messages/" + Pointer.Escape(name));
            operations[name] = new JsonObject
            {
                ["action"] = subscriber ? "receive" : "send",
                ["channel"] = Ref("#/channels/" + Pointer.Escape(channel)),
                ["title"] = _events.Name + "." + name,
                ["summary"] = "Published persistent and confirmed to the exchange with the publisher's routing key ([RpcRoutingKey]), else the event's name; " +
                    "each subscriber group's queue gets a copy.",
                ["messages"] = new JsonArray(Ref("#/channels/" + Pointer.Escape(channel) + "/messages/" + Pointer.Escape(name))),
                ["bindings"] = new JsonObject
                {
                    ["amqp"] = new JsonObject { ["deliveryMode"] = 2, ["mandatory"] = true, ["ack"] = true, ["bindingVersion"] = AmqpBindingVersion },
                },
                [RpcGenExtension.Name] = RpcGenExtension.Method(method),
            };
        }

        var exchangeType = Transport.ExchangeDeclarations.TypeName(_events.ExchangeType);
        return new JsonObject
        {
            ["asyncapi"] = RpcAsyncApi.SpecificationVersion,
            ["info"] = new JsonObject
            {
                ["title"] = _options.Title ?? _events.Name,
                ["version"] = _options.Version,
                ["description"] = _options.Description ??
                    $"The RpcGen events {_events.Name}: published to the {exchangeType} exchange '{_exchange}'. " +
                    "Bodies are UTF-8 JSON; the wire rules are those of RpcGen's docs/wire-format.md.",
            },
            ["defaultContentType"] = WireContract.JsonContentType,
            [RpcGenExtension.Name] = RpcGenExtension.Events(_events, _exchange),
            ["channels"] = new JsonObject
            {
                [channel] = new JsonObject
                {
                    ["address"] = _exchange,
                    ["title"] = _events.Name + " events",
                    ["description"] = "The events exchange. A subscriber group binds its own durable queue to it; a queue bound after an event was published does not get it.",
                    ["messages"] = channelMessages,
                    ["bindings"] = new JsonObject
                    {
                        ["amqp"] = new JsonObject
                        {
                            ["is"] = "routingKey",
                            ["exchange"] = new JsonObject { ["name"] = _exchange, ["type"] = exchangeType, ["durable"] = true, ["autoDelete"] = false },
                            ["bindingVersion"] = AmqpBindingVersion,
                        },
                    },
                },
            },
            ["operations"] = operations,
            ["components"] = new JsonObject { ["schemas"] = componentSchemas, ["messages"] = componentMessages },
        };
    }

    private static JsonObject Ref(string pointer) => new() { ["$ref"] = pointer };
}
#endif
