#if NET9_0_OR_GREATER
using System;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;

namespace RpcGen.Wire.AsyncApi;

/// <summary>
/// The JSON Schemas of a service's bodies, shaped by docs/wire-format.md: no parameter, an empty body; one, its bare
/// value; two or more, an object keyed by parameter name; the reply, the result's value; errors, the error object.
/// Types are described by System.Text.Json's exporter with the service's serializer settings.
/// </summary>
internal sealed class MessageSchemas
{
    private static readonly JsonSchemaExporterOptions s_exporter = new() { TreatNullObliviousAsNonNullable = false };

    private readonly RpcServiceDescriptor _service;
    private readonly JsonSerializerOptions _json;

    public MessageSchemas(RpcServiceDescriptor service, JsonSerializerOptions? json)
    {
        _service = service;
        _json = json ?? new JsonSerializerOptions();
        RpcSettings.PrepareJson(_json);
    }

    public JsonNode Request(RpcMethodDescriptor method)
    {
        var parameters = method.Parameters;
        if (parameters.Count == 0)
        {
            return new JsonObject
            {
                ["type"] = "null",
                ["description"] = "No arguments: send an empty body (an RpcGen server also accepts null and {}).",
            };
        }

        if (parameters.Count == 1)
        {
            var schema = Parameter(method, parameters[0]);
            if ((parameters[0].Flags & RpcParameterFlags.Optional) != 0)
            {
                Describe(schema, "The argument '" + parameters[0].Name + "' as a bare JSON value; an empty body uses its default.");
            }
            else
            {
                Describe(schema, "The argument '" + parameters[0].Name + "' as a bare JSON value, not wrapped in an object.");
            }

            return schema;
        }

        var properties = new JsonObject();
        var required = new JsonArray();
        foreach (var parameter in parameters)
        {
            properties[parameter.Name] = Parameter(method, parameter);
            if ((parameter.Flags & RpcParameterFlags.Optional) == 0) required.Add((JsonNode)parameter.Name);
        }

        return new JsonObject
        {
            ["type"] = "object",
            ["description"] = "One property per argument, keyed by parameter name (case-sensitive), in any order; an unknown or repeated property is rejected.",
            ["properties"] = properties,
            ["required"] = required,
            ["additionalProperties"] = false,
        };
    }

    public JsonNode Reply(RpcMethodDescriptor method)
    {
        if (method.ResultType is not { } type)
        {
            return new JsonObject { ["type"] = "null", ["description"] = "No result: the reply body is empty." };
        }

        return Export(method, type, "its result");
    }

    public JsonNode Error()
    {
        var types = new JsonArray(
            WireContract.ErrorTypes.BadRequest, WireContract.ErrorTypes.UnknownMethod, WireContract.ErrorTypes.TooLarge,
            WireContract.ErrorTypes.UnsupportedContentType, WireContract.ErrorTypes.DeadlineExceeded, WireContract.ErrorTypes.Cancelled,
            WireContract.ErrorTypes.ServerError);
        return new JsonObject
        {
            ["type"] = "object",
            ["description"] = "An error reply (header rpc-status = error) in place of the result.",
            ["properties"] = new JsonObject
            {
                [WireContract.ErrorTypeField] = new JsonObject
                {
                    ["type"] = "string",
                    ["description"] = "One of the runtime's rpc: types (which never ran the method, or could not send its result), or the full .NET type name of the exception the method threw.",
                    ["examples"] = types,
                },
                [WireContract.ErrorMessageField] = new JsonObject { ["type"] = "string", ["description"] = "What went wrong, for people." },
                [WireContract.ErrorDetailField] = new JsonObject { ["type"] = "string", ["description"] = "The exception's stack trace; only from servers with RpcServerOptions.IncludeExceptionDetails." },
                [WireContract.ErrorDataField] = new JsonObject { ["type"] = "object", ["description"] = "Only on a declared fault's reply: see the method's fault messages." },
            },
            ["required"] = new JsonArray(WireContract.ErrorTypeField, WireContract.ErrorMessageField),
        };
    }

    /// <summary>The error reply of a declared fault: its <c>type</c>, and <c>data</c> with the exception's properties.</summary>
    public JsonNode Fault(RpcMethodDescriptor method, RpcFaultDescriptor fault)
    {
        var data = new JsonObject();
        foreach (var (name, type) in fault.DataProperties)
        {
            data[name] = Export(method, type, "property '" + name + "' of fault " + fault.WireType);
        }

        return new JsonObject
        {
            ["type"] = "object",
            ["description"] = "The error reply (header rpc-status = error) of the declared fault " + fault.WireType + ": an RpcGen client rethrows it as that exception.",
            ["properties"] = new JsonObject
            {
                [WireContract.ErrorTypeField] = new JsonObject { ["const"] = fault.WireType },
                [WireContract.ErrorMessageField] = new JsonObject { ["type"] = "string" },
                [WireContract.ErrorDetailField] = new JsonObject { ["type"] = "string" },
                [WireContract.ErrorDataField] = new JsonObject
                {
                    ["type"] = "object",
                    ["description"] = "The exception's public properties, named as in C#; one left out reads as its type's default.",
                    ["properties"] = data,
                },
            },
            ["required"] = new JsonArray(WireContract.ErrorTypeField, WireContract.ErrorMessageField),
        };
    }

    private JsonNode Parameter(RpcMethodDescriptor method, RpcParameterDescriptor parameter)
    {
        if (parameter.ParameterType is not { } type) throw Untyped(method);
        var schema = Export(method, type, "parameter '" + parameter.Name + "'");
        // The exporter cannot see a parameter's nullable annotation; the descriptor can (docs: null is rejected then).
        if ((parameter.Flags & RpcParameterFlags.NotNull) != 0) RemoveNull(schema);
        return schema;
    }

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "The options are read-only with a resolver (PrepareJson); a trimmed app's context resolves every contract type.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "As above: no reflection-based metadata is created when a resolver is set.")]
    private JsonNode Export(RpcMethodDescriptor method, Type type, string what)
    {
        try
        {
            return _json.GetJsonSchemaAsNode(type, s_exporter);
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw new InvalidOperationException(
                $"RpcAsyncApi cannot describe {what} of {_service.Name}.{method.WireName} ({type}): {e.Message} " +
                "Pass the JsonSerializerOptions the service runs with, whose TypeInfoResolver covers every contract type.", e);
        }
    }

    private InvalidOperationException Untyped(RpcMethodDescriptor method) =>
        new($"{_service.Name}.{method.WireName} was generated without its parameter and result types (by an older RpcGen); rebuild the contract's project with this RpcGen.");

    private static void RemoveNull(JsonNode schema)
    {
        if (schema is JsonObject obj && obj["type"] is JsonArray types)
        {
            for (int i = types.Count - 1; i >= 0; i--)
            {
                if (types[i] is JsonValue value && value.TryGetValue(out string? name) && name == "null") types.RemoveAt(i);
            }

            if (types.Count == 1) obj["type"] = types[0]!.DeepClone();
        }
    }

    private static void Describe(JsonNode schema, string description)
    {
        if (schema is JsonObject obj && !obj.ContainsKey("description")) obj["description"] = description;
    }
}
#endif
