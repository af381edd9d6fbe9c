using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using RpcGen.IntegrationTests.Infrastructure;
using Xunit;

namespace RpcGen.IntegrationTests.Interop;

/// <summary>
/// The AsyncAPI 3.0 document RpcAsyncApi writes: its structure, its references and schemas, and a request built from
/// nothing but the document (queue, message type, body schema) that a real RpcGen server on the broker answers with a
/// reply the document's reply schema accepts.
/// </summary>
public sealed class AsyncApiTests
{
    [Fact]
    public void The_document_has_the_AsyncAPI_3_structure_with_an_operation_and_reply_per_method()
    {
        var document = RpcAsyncApi.CreateDocument<IOrderDesk>(new RpcAsyncApiOptions { Version = "2.1.0" });

        Assert.Equal("3.0.0", (string?)document["asyncapi"]);
        Assert.Equal("OrderDesk", (string?)document["info"]!["title"]);
        Assert.Equal("2.1.0", (string?)document["info"]!["version"]);
        Assert.Equal("application/json", (string?)document["defaultContentType"]);

        var channels = document["channels"]!.AsObject();
        Assert.Equal("asyncapi-orders", (string?)channels["OrderDesk"]!["address"]);
        Assert.Equal("queue", (string?)channels["OrderDesk"]!["bindings"]!["amqp"]!["is"]);
        Assert.Null(channels["OrderDesk.reply"]!["address"]); // each request names its reply queue

        var operations = document["operations"]!.AsObject();
        Assert.Equal(new[] { "Quote", "Count", "Ticket", "Deepest", "Reset", "Note" }, operations.Select(o => o.Key));
        foreach (var (name, operation) in operations)
        {
            Assert.Contains((string?)operation!["action"], new[] { "send", "receive" });
            var channel = Resolve(document, (string)operation["channel"]!["$ref"]!);
            Assert.Same(channels["OrderDesk"], channel);
            var request = Resolve(document, (string)operation["messages"]![0]!["$ref"]!);
            Assert.Equal(name, (string?)request["bindings"]!["amqp"]!["messageType"]); // the AMQP type property
            Assert.Equal("application/json", (string?)request["contentType"]);
            Assert.NotNull(Resolve(document, (string)request["payload"]!["$ref"]!));
            if (name == "Note")
            {
                Assert.Null(operation["reply"]); // one-way: the server never replies
                continue;
            }

            var reply = operation["reply"]!;
            Assert.Equal("$message.header#/reply_to", (string?)reply["address"]!["location"]);
            Assert.Same(channels["OrderDesk.reply"], Resolve(document, (string)reply["channel"]!["$ref"]!));
            var replies = reply["messages"]!.AsArray().Select(m => Resolve(document, (string)m!["$ref"]!)).ToList();
            // The result, any error, and the faults the method declares.
            var expected = name == "Quote"
                ? new[] { name + ".reply", "error", typeof(QuoteRefusedException).FullName }
                : new[] { name + ".reply", "error" };
            Assert.Equal(expected, replies.Select(m => (string?)m["name"]));
            Assert.All(replies.Skip(1), m => Assert.Equal("error", (string?)m["headers"]!["properties"]!["rpc-status"]!["const"]));
        }

        // A client's view of the same contract sends where the server's receives.
        var client = RpcAsyncApi.CreateDocument<IOrderDesk>(new RpcAsyncApiOptions { Perspective = RpcAsyncApiPerspective.Client });
        Assert.All(client["operations"]!.AsObject(), o => Assert.Equal("send", (string?)o.Value!["action"]));
    }

    [Fact]
    public void Every_reference_resolves_and_every_schema_is_valid_JSON_Schema_shaped_by_the_wire_format()
    {
        var document = RpcAsyncApi.CreateDocument<IOrderDesk>();

        foreach (var reference in References(document)) Assert.NotNull(Resolve(document, reference));
        var schemas = document["components"]!["schemas"]!.AsObject();
        foreach (var (name, schema) in schemas)
        {
            var meta = MetaSchemas.Draft202012.Evaluate(JsonDocument.Parse(schema!.ToJsonString()).RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            Assert.True(meta.IsValid, name + " is not a valid JSON Schema: " + schema.ToJsonString());
        }

        // Two or more parameters: an object keyed by parameter name; the optional one is not required; nothing else.
        var quote = schemas["Quote.request"]!;
        Assert.Equal("object", (string?)quote["type"]);
        Assert.Equal(new[] { "product", "quantity", "express" }, quote["properties"]!.AsObject().Select(p => p.Key));
        Assert.Equal(new[] { "product", "quantity" }, quote["required"]!.AsArray().Select(r => (string?)r));
        Assert.False((bool)quote["additionalProperties"]!);
        Assert.Equal("string", (string?)quote["properties"]!["product"]!["type"]); // non-nullable: null is rejected
        // One parameter: its bare value (the record's own schema, C# property names as the default options write them).
        Assert.Contains("Items", schemas["Count.request"]!["properties"]!.AsObject().Select(p => p.Key));
        Assert.Equal("integer", (string?)schemas["Count.reply"]!["type"]);
        Assert.Equal("null", (string?)schemas["Ticket.request"]!["type"]); // no parameter: an empty body
        Assert.Equal("null", (string?)schemas["Reset.reply"]!["type"]);     // no result: an empty reply
        // The recursive type's self-reference points into its own schema, inside the document.
        Assert.Contains(References(schemas["Deepest.reply"]!), r => r.StartsWith("#/components/schemas/Deepest.reply", StringComparison.Ordinal));
        Assert.Equal(new[] { "type", "message" }, schemas["error"]!["required"]!.AsArray().Select(r => (string?)r));
        // A declared fault: its type, and data with the exception's properties and their types.
        var fault = schemas[typeof(QuoteRefusedException).FullName!]!;
        Assert.Equal(typeof(QuoteRefusedException).FullName, (string?)fault["properties"]!["type"]!["const"]);
        // (the exporter marks reference-type properties nullable unless the options respect nullable annotations)
        Assert.Contains("string", fault["properties"]!["data"]!["properties"]!["Product"]!["type"]!.AsArray().Select(t => (string?)t));
        Assert.Equal("integer", (string?)fault["properties"]!["data"]!["properties"]!["Limit"]!["type"]);
    }

    [Fact]
    public async Task Requests_built_from_the_document_get_replies_from_a_real_server_that_the_reply_schemas_accept()
    {
        await using var broker = new TestBroker();
        var connection = await broker.ConnectAsync();
        await broker.ServeAsync<IOrderDesk>(connection, new OrderDesk());
        // What a team in another language has: the document, with the queue prefix its deployment uses.
        var document = JsonNode.Parse(RpcAsyncApi.CreateDocument<IOrderDesk>(new RpcAsyncApiOptions { QueuePrefix = broker.Prefix }).ToJsonString())!;
        await using var raw = await RawAmqp.ConnectAsync();

        var answers = new Dictionary<string, JsonNode?>();
        foreach (var (name, operation) in document["operations"]!.AsObject())
        {
            if (operation!["reply"] is null) continue;
            var queue = (string)Resolve(document, (string)operation["channel"]!["$ref"]!)["address"]!;
            var request = Resolve(document, (string)operation["messages"]![0]!["$ref"]!);
            var requestSchema = SchemaAt(document, (string)request["payload"]!["$ref"]!);
            var body = Sample(requestSchema, requestSchema);
            Assert.True(Evaluate(requestSchema, body).IsValid, $"{name}: the sample {body?.ToJsonString()} does not match its own schema {requestSchema.ToJsonString()}");

            var reply = await raw.CallAsync(queue, body is null ? Array.Empty<byte>() : Encoding.UTF8.GetBytes(body.ToJsonString()),
                type: (string)request["bindings"]!["amqp"]!["messageType"]!, contentType: (string)request["contentType"]!);

            Assert.False(reply.Headers.ContainsKey("rpc-status"), name + " failed: " + Encoding.UTF8.GetString(reply.Body));
            var replyMessage = Resolve(document, (string)operation["reply"]!["messages"]![0]!["$ref"]!);
            var replySchema = SchemaAt(document, (string)replyMessage["payload"]!["$ref"]!);
            var replyBody = reply.Body.Length == 0 ? null : JsonNode.Parse(reply.Body);
            var check = Evaluate(replySchema, replyBody);
            Assert.True(check.IsValid, $"{name}: the reply {replyBody?.ToJsonString() ?? "(empty)"} does not match {replySchema.ToJsonString()}");
            answers[name] = replyBody;
        }

        // The samples are deterministic (see Sample), so the answers are known: the server really ran each method.
        Assert.Equal(5, answers.Count);
        Assert.Equal("sample", (string?)answers["Quote"]!["Product"]);
        Assert.Equal(3, (int)answers["Quote"]!["Quantity"]!);
        Assert.Equal(1, (int)answers["Count"]!);
        Assert.Equal(42, (long)answers["Ticket"]!);
        Assert.Null(answers["Reset"]);
        Assert.Equal("{\"Name\":\"sample\",\"Child\":null}", answers["Deepest"]!.ToJsonString()); // the innermost of two levels

        // A body the schema rejects gets the error reply the document describes.
        var quoteQueue = (string)document["channels"]!["OrderDesk"]!["address"]!;
        var bad = await raw.CallAsync(quoteQueue, "{\"product\":\"x\"}", type: "Quote", contentType: "application/json");
        Assert.Equal("error", bad.Headers["rpc-status"]);
        var error = JsonNode.Parse(bad.Body);
        Assert.True(Evaluate(SchemaAt(document, "#/components/schemas/error"), error).IsValid, error!.ToJsonString());
        Assert.Equal("rpc:bad-request", (string?)error!["type"]);

        // A declared fault's reply matches the fault's schema, data included.
        var refused = await raw.CallAsync(quoteQueue, "{\"product\":\"pear\",\"quantity\":1000}", type: "Quote", contentType: "application/json");
        Assert.Equal("error", refused.Headers["rpc-status"]);
        var faultBody = JsonNode.Parse(refused.Body);
        Assert.True(Evaluate(SchemaAt(document, "#/components/schemas/" + typeof(QuoteRefusedException).FullName), faultBody).IsValid, faultBody!.ToJsonString());
        Assert.Equal(100, (int)faultBody!["data"]!["Limit"]!);
    }

    /// <summary>The node a local JSON Pointer reference (<c>#/a/b</c>) names in the document, through any chain of references.</summary>
    private static JsonNode Resolve(JsonNode document, string reference)
    {
        Assert.StartsWith("#/", reference);
        var node = document;
        foreach (var token in reference[2..].Split('/'))
        {
            var name = token.Replace("~1", "/").Replace("~0", "~");
            node = node is JsonArray array ? array[int.Parse(name)]! : node.AsObject()[name] ?? throw new Xunit.Sdk.XunitException($"'{reference}' does not resolve: no '{name}'");
        }

        // A channel's message is itself a reference to the component: follow it, as AsyncAPI tools do.
        return node is JsonObject { Count: 1 } link && link["$ref"] is JsonValue next ? Resolve(document, (string)next!) : node!;
    }

    private static IEnumerable<string> References(JsonNode? node) => node switch
    {
        JsonObject obj => obj.SelectMany(p => p.Key == "$ref" && p.Value is JsonValue v ? new[] { (string)v! } : References(p.Value)),
        JsonArray array => array.SelectMany(References),
        _ => Array.Empty<string>(),
    };

    /// <summary>A component schema on its own: its references into itself rebased to its own root, as a validator needs.</summary>
    private static JsonNode SchemaAt(JsonNode document, string reference)
    {
        var schema = Resolve(document, reference).DeepClone();
        Rebase(schema, reference);
        return schema;

        static void Rebase(JsonNode? node, string root)
        {
            if (node is JsonObject obj)
            {
                if (obj["$ref"] is JsonValue value && ((string)value!).StartsWith(root, StringComparison.Ordinal)) obj["$ref"] = "#" + ((string)value!)[root.Length..];
                foreach (var property in obj.ToList()) if (property.Key != "$ref") Rebase(property.Value, root);
            }
            else if (node is JsonArray array)
            {
                foreach (var item in array) Rebase(item, root);
            }
        }
    }

    private static EvaluationResults Evaluate(JsonNode schema, JsonNode? instance) =>
        JsonSchema.FromText(schema.ToJsonString()).Evaluate(JsonDocument.Parse(instance?.ToJsonString() ?? "null").RootElement);

    /// <summary>
    /// A value a schema accepts, from the schema alone: every property of an object, one item of an array, and fixed
    /// values per type (strings "sample", integers 3, numbers 2.5, booleans false), the first non-null type of a union;
    /// below two levels a nullable value is null, so a recursive type (Category.Child) ends.
    /// </summary>
    private static JsonNode? Sample(JsonNode schema, JsonNode root, int depth = 0)
    {
        if (schema is JsonValue) return JsonValue.Create("sample"); // the schema 'true': anything goes
        if (schema["$ref"] is JsonValue reference) return Sample((string)reference! == "#" ? root : Resolve(root, (string)reference!), root, depth);
        var types = schema["type"] switch
        {
            JsonArray many => many.Select(t => (string)t!).ToList(),
            JsonValue one => new List<string> { (string)one! },
            _ => new List<string> { "object" },
        };
        if (depth >= 2 && types.Contains("null")) return null;
        return (types.FirstOrDefault(t => t != "null") ?? "null") switch
        {
            "null" => null,
            "string" => JsonValue.Create("sample"),
            "integer" => JsonValue.Create(3),
            "number" => JsonValue.Create(2.5),
            "boolean" => JsonValue.Create(false),
            "array" => new JsonArray(schema["items"] is { } items ? Sample(items, root, depth + 1) : JsonValue.Create("sample")),
            _ => new JsonObject((schema["properties"]?.AsObject() ?? new JsonObject())
                .Select(p => KeyValuePair.Create(p.Key, Sample(p.Value!, root, depth + 1)))),
        };
    }
}
