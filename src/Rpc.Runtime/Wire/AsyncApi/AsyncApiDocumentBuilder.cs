#if NET9_0_OR_GREATER
using System;
using System.Text.Json.Nodes;

namespace RpcGen.Wire.AsyncApi;

/// <summary>
/// Lays one service out as AsyncAPI 3.0: the service queue as a channel, the caller's reply queue as a second
/// channel whose address is each request's <c>reply_to</c>, an operation per method with its reply, and every body
/// as a message whose payload is a schema under <c>components.schemas</c>.
/// </summary>
internal sealed class AsyncApiDocumentBuilder
{
    // AMQP bindings of the AsyncAPI bindings project, version 0.3.0: queue properties, message type, acks.
    private const string AmqpBindingVersion = "0.3.0";
    private const string ErrorMessageName = "error";

    private readonly RpcServiceDescriptor _service;
    private readonly RpcAsyncApiOptions _options;
    private readonly MessageSchemas _schemas;
    private readonly string _queue;
    private readonly string _requestChannel;
    private readonly string _replyChannel;
    private readonly JsonObject _componentSchemas = new();
    private readonly JsonObject _componentMessages = new();

    public AsyncApiDocumentBuilder(RpcServiceDescriptor service, RpcAsyncApiOptions options)
    {
        if (service is RpcEventsDescriptor events)
        {
            throw new ArgumentException(
                $"'{service.Name}' is an [RpcEvents] interface (exchange '{events.Exchange}'); RpcAsyncApi.CreateEventsDocument describes it.",
                nameof(service));
        }

        _service = service;
        _options = options;
        _schemas = new MessageSchemas(service, options.JsonSerializerOptions);
        _queue = (options.QueuePrefix ?? string.Empty) + service.Queue;
        _requestChannel = service.Name;
        _replyChannel = service.Name + ".reply";
    }

    public JsonObject Build()
    {
        var requestMessages = new JsonObject();
        var replyMessages = new JsonObject();
        var operations = new JsonObject();
        foreach (var method in _service.Methods)
        {
            var request = method.WireName + ".request";
            AddMessage(request, Message(request, method.WireName, "The arguments of " + _service.Name + "." + method.WireName + ".",
                _schemas.Request(method), messageType: method.WireName, RequestHeaders(method)));
            requestMessages[request] = Ref("#/components/messages/" + Pointer.Escape(request));

            JsonObject? reply = null;
            if (!method.OneWay)
            {
                var replyName = method.WireName + ".reply";
                var replySummary = method.Streams
                    ? "One item of the stream " + _service.Name + "." + method.WireName + " returns; items travel in stream messages (docs/wire-format.md)."
                    : "The result of " + _service.Name + "." + method.WireName + ".";
                AddMessage(replyName, Message(replyName, method.WireName + (method.Streams ? " item" : " reply"), replySummary,
                    _schemas.Reply(method), messageType: null, headers: null));
                replyMessages[replyName] = Ref("#/components/messages/" + Pointer.Escape(replyName));
                var replyRefs = new JsonArray(
                    Ref("#/channels/" + Pointer.Escape(_replyChannel) + "/messages/" + Pointer.Escape(replyName)),
                    Ref("#/channels/" + Pointer.Escape(_replyChannel) + "/messages/" + ErrorMessageName));
                foreach (var fault in method.Faults)
                {
                    // Faults are named by their wire type; a fault shared by several methods is one message.
                    if (!_componentMessages.ContainsKey(fault.WireType))
                    {
                        AddMessage(fault.WireType, FaultMessage(method, fault));
                        replyMessages[fault.WireType] = Ref("#/components/messages/" + Pointer.Escape(fault.WireType));
                    }

                    replyRefs.Add((JsonNode)Ref("#/channels/" + Pointer.Escape(_replyChannel) + "/messages/" + Pointer.Escape(fault.WireType)));
                }

                reply = new JsonObject
                {
                    // RpcGen clients ask for direct reply-to; any queue a request names in reply_to gets the reply.
                    ["address"] = new JsonObject
                    {
                        ["description"] = "The queue the request's reply_to property names (RpcGen clients send a server-named amq.gen- queue of their connection, or amq.rabbitmq.reply-to).",
                        ["location"] = "$message.header#/reply_to",
                    },
                    ["channel"] = Ref("#/channels/" + Pointer.Escape(_replyChannel)),
                    ["messages"] = replyRefs,
                };
            }

            operations[method.WireName] = Operation(method, request, reply);
        }

        AddMessage(ErrorMessageName, ErrorMessage());
        replyMessages[ErrorMessageName] = Ref("#/components/messages/" + ErrorMessageName);

        var document = new JsonObject
        {
            ["asyncapi"] = RpcAsyncApi.SpecificationVersion,
            ["info"] = new JsonObject
            {
                ["title"] = _options.Title ?? _service.Name,
                ["version"] = _options.Version,
                ["description"] = _options.Description ??
                    $"The RpcGen service {_service.Name}: requests to the queue '{_queue}' through the default exchange, replies to the caller's reply_to queue. " +
                    "Bodies are UTF-8 JSON; the wire rules are those of RpcGen's docs/wire-format.md.",
            },
            ["defaultContentType"] = WireContract.JsonContentType,
            [RpcGenExtension.Name] = RpcGenExtension.Service(_service, _queue),
            ["channels"] = new JsonObject
            {
                [_requestChannel] = new JsonObject
                {
                    ["address"] = _queue,
                    ["title"] = _service.Name + " requests",
                    ["description"] = "The service queue. Publish requests to the default exchange (\"\") with this routing key.",
                    ["messages"] = requestMessages,
                    ["bindings"] = new JsonObject
                    {
                        ["amqp"] = new JsonObject
                        {
                            ["is"] = "queue",
                            ["queue"] = new JsonObject { ["name"] = _queue, ["durable"] = true, ["exclusive"] = false, ["autoDelete"] = false },
                            ["bindingVersion"] = AmqpBindingVersion,
                        },
                    },
                },
                [_replyChannel] = new JsonObject
                {
                    // A null address: each request names its own reply queue at run time.
                    ["address"] = null,
                    ["title"] = _service.Name + " replies",
                    ["description"] = "The caller's reply queue, named per request by reply_to; the reply carries the request's correlation_id.",
                    ["messages"] = replyMessages,
                },
            },
            ["operations"] = operations,
            ["components"] = new JsonObject
            {
                ["schemas"] = _componentSchemas,
                ["messages"] = _componentMessages,
                ["correlationIds"] = new JsonObject
                {
                    ["correlation_id"] = new JsonObject
                    {
                        ["description"] = "The AMQP correlation_id property: copied from a request to its reply.",
                        ["location"] = "$message.header#/correlation_id",
                    },
                },
            },
        };
        return document;
    }

    private JsonObject Operation(RpcMethodDescriptor method, string request, JsonObject? reply)
    {
        var server = _options.Perspective == RpcAsyncApiPerspective.Server;
        var operation = new JsonObject
        {
            ["action"] = server ? "receive" : "send",
            ["channel"] = Ref("#/channels/" + Pointer.Escape(_requestChannel)),
            ["title"] = _service.Name + "." + method.WireName,
            ["summary"] = method.OneWay
                ? "One-way: the server runs it and never replies; failures are retried, then dead-lettered to '" + _queue + ".dead-letter'."
                : method.Streams
                    ? (server ? "Receives a request and streams its items, then an end or error marker." : "Sends a request and reads the streamed items.")
                    : (server ? "Receives a request and replies with the result or an error." : "Sends a request and awaits the result or an error."),
            ["messages"] = new JsonArray(Ref("#/channels/" + Pointer.Escape(_requestChannel) + "/messages/" + Pointer.Escape(request))),
            ["bindings"] = new JsonObject
            {
                ["amqp"] = method.OneWay
                    ? new JsonObject { ["deliveryMode"] = 2, ["mandatory"] = true, ["ack"] = true, ["bindingVersion"] = AmqpBindingVersion }
                    : new JsonObject { ["deliveryMode"] = 1, ["mandatory"] = true, ["ack"] = true, ["bindingVersion"] = AmqpBindingVersion },
            },
        };
        if (reply is not null) operation["reply"] = reply;
        operation[RpcGenExtension.Name] = RpcGenExtension.Method(method);
        return operation;
    }

    private void AddMessage(string name, JsonObject message) => _componentMessages[name] = message;

    /// <summary>A message and its payload schema, both under <paramref name="name"/> in the components.</summary>
    private JsonObject Message(string name, string title, string summary, JsonNode payload, string? messageType, JsonObject? headers)
    {
        var schemaName = name;
        _componentSchemas[schemaName] = Pointer.Rebase(payload, "#/components/schemas/" + Pointer.Escape(schemaName));
        var message = new JsonObject
        {
            ["name"] = schemaName,
            ["title"] = title,
            ["summary"] = summary,
            ["contentType"] = WireContract.JsonContentType,
            ["correlationId"] = Ref("#/components/correlationIds/correlation_id"),
        };
        if (headers is not null) message["headers"] = headers;
        message["payload"] = Ref("#/components/schemas/" + Pointer.Escape(schemaName));
        var amqp = new JsonObject();
        if (messageType is not null) amqp["messageType"] = messageType;
        amqp["bindingVersion"] = AmqpBindingVersion;
        message["bindings"] = new JsonObject { ["amqp"] = amqp };
        return message;
    }

    private static JsonObject RequestHeaders(RpcMethodDescriptor method)
    {
        var properties = new JsonObject
        {
            [WireContract.TraceParentHeader] = new JsonObject { ["type"] = "string", ["description"] = "W3C Trace Context of the caller's span; optional." },
            [WireContract.TraceStateHeader] = new JsonObject { ["type"] = "string", ["description"] = "W3C Trace Context state; optional." },
        };
        if (!method.OneWay)
        {
            properties[WireContract.DeadlineHeader] = new JsonObject
            {
                ["type"] = "integer",
                ["description"] = "When the caller stops waiting, in Unix milliseconds (AMQP long-long); optional. A server refuses a request past it with rpc:deadline-exceeded.",
            };
        }

        return new JsonObject { ["type"] = "object", ["properties"] = properties };
    }

    private JsonObject ErrorMessage()
    {
        _componentSchemas[ErrorMessageName] = _schemas.Error();
        return new JsonObject
        {
            ["name"] = ErrorMessageName,
            ["title"] = "Error reply",
            ["summary"] = "The reply to a request that failed: any method may answer with it instead of its result.",
            ["contentType"] = WireContract.JsonContentType,
            ["correlationId"] = Ref("#/components/correlationIds/correlation_id"),
            ["headers"] = ErrorHeaders(),
            ["payload"] = Ref("#/components/schemas/" + ErrorMessageName),
            ["bindings"] = new JsonObject { ["amqp"] = new JsonObject { ["bindingVersion"] = AmqpBindingVersion } },
        };
    }

    private JsonObject FaultMessage(RpcMethodDescriptor method, RpcFaultDescriptor fault)
    {
        _componentSchemas[fault.WireType] = _schemas.Fault(method, fault);
        return new JsonObject
        {
            ["name"] = fault.WireType,
            ["title"] = "Fault " + fault.WireType,
            ["summary"] = "A declared fault ([RpcFault]): an error reply whose data carries the exception's properties.",
            ["contentType"] = WireContract.JsonContentType,
            ["correlationId"] = Ref("#/components/correlationIds/correlation_id"),
            ["headers"] = ErrorHeaders(),
            ["payload"] = Ref("#/components/schemas/" + Pointer.Escape(fault.WireType)),
            ["bindings"] = new JsonObject { ["amqp"] = new JsonObject { ["bindingVersion"] = AmqpBindingVersion } },
        };
    }

    private static JsonObject ErrorHeaders() => new()
    {
        ["type"] = "object",
        ["properties"] = new JsonObject { [WireContract.StatusHeader] = new JsonObject { ["const"] = WireContract.StatusError } },
        ["required"] = new JsonArray(WireContract.StatusHeader),
    };

    private static JsonObject Ref(string pointer) => new() { ["$ref"] = pointer };
}
#endif
