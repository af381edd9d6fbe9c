using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace RpcGen.Cli.Contracts;

/// <summary>
/// The contracts rpcgen knows: read from AsyncAPI documents that RpcGen wrote (<c>RpcAsyncApi</c>), each a file or a
/// directory of <c>*.json</c> files; the documents' <c>x-rpcgen</c> extension says what AsyncAPI has no field for.
/// </summary>
internal sealed class ContractSet
{
    /// <summary>The variable with contract paths, separated like PATH entries.</summary>
    public const string EnvironmentVariable = "RPCGEN_CONTRACTS";

    private const string Extension = "x-rpcgen";

    private ContractSet(List<ServiceContract> services) => Services = services;

    public IReadOnlyList<ServiceContract> Services { get; }

    /// <summary>
    /// Reads <paramref name="paths"/>; with none, RPCGEN_CONTRACTS; with neither, ./asyncapi or the current directory's
    /// *.asyncapi.json files.
    /// </summary>
    public static ContractSet Load(IReadOnlyList<string> paths)
    {
        var sources = paths.Count > 0 ? paths.ToList() : FromEnvironment();
        if (sources.Count == 0)
        {
            if (Directory.Exists("asyncapi")) sources.Add("asyncapi");
            else sources.AddRange(Directory.GetFiles(".", "*.asyncapi.json").Order(StringComparer.Ordinal));
        }

        if (sources.Count == 0)
        {
            throw new CliException(ExitCodes.Usage,
                $"no contract: pass --contract FILE|DIR (an AsyncAPI document RpcGen wrote), or set {EnvironmentVariable}.");
        }

        var services = new List<ServiceContract>();
        foreach (var source in sources)
        {
            if (Directory.Exists(source))
            {
                foreach (var file in Directory.GetFiles(source, "*.json").Order(StringComparer.Ordinal))
                {
                    if (Read(file, required: false) is { } found) services.Add(found);
                }
            }
            else if (File.Exists(source))
            {
                services.Add(Read(source, required: true)!);
            }
            else
            {
                throw new CliException(ExitCodes.Usage, $"contract '{source}' does not exist.");
            }
        }

        foreach (var clash in services.GroupBy(s => s.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            throw new CliException(ExitCodes.Usage, $"two contracts are named '{clash.Key}': {string.Join(" and ", clash.Select(s => s.Source))}.");
        }

        if (services.Count == 0) throw new CliException(ExitCodes.Usage, $"no RpcGen AsyncAPI document in {string.Join(", ", sources)}.");
        return new ContractSet(services);
    }

    public ServiceContract? FindService(string name) =>
        Services.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.Ordinal))
        ?? Services.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Service.Method, or a usage error that names what exists.</summary>
    public MethodContract FindMethod(string fullName)
    {
        int dot = fullName.LastIndexOf('.');
        if (dot <= 0 || dot == fullName.Length - 1)
        {
            throw new CliException(ExitCodes.Usage, $"'{fullName}' is not Service.Method; known: {string.Join(", ", Services.SelectMany(s => s.Methods).Select(m => m.FullName))}.");
        }

        var serviceName = fullName[..dot];
        var methodName = fullName[(dot + 1)..];
        var service = FindService(serviceName)
            ?? throw new CliException(ExitCodes.Usage, $"unknown service '{serviceName}'; the contracts have: {string.Join(", ", Services.Select(s => s.Name))}.");
        return service.Methods.FirstOrDefault(m => string.Equals(m.Name, methodName, StringComparison.Ordinal))
            ?? service.Methods.FirstOrDefault(m => string.Equals(m.Name, methodName, StringComparison.OrdinalIgnoreCase))
            ?? throw new CliException(ExitCodes.Usage, $"unknown method '{methodName}' of {service.Name}; it has: {string.Join(", ", service.Methods.Select(m => m.Name))}.");
    }

    private static List<string> FromEnvironment() =>
        (Environment.GetEnvironmentVariable(EnvironmentVariable) ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    private static ServiceContract? Read(string file, bool required)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(file));
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            if (!required) return null;
            throw new CliException(ExitCodes.Usage, $"contract '{file}' is not JSON: {e.Message}");
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("asyncapi", out _))
        {
            if (!required) return null;
            throw new CliException(ExitCodes.Usage, $"'{file}' is not an AsyncAPI document.");
        }

        if (!root.TryGetProperty(Extension, out var extension))
        {
            throw new CliException(ExitCodes.Usage,
                $"'{file}' has no {Extension} extension: write it again with this RpcGen (RpcAsyncApi.CreateDocument / CreateEventsDocument).");
        }

        var events = Text(extension, "kind") == "events";
        var service = new ServiceContract
        {
            Name = Text(extension, "service") ?? throw Malformed(file, "service"),
            Source = file,
            Document = root,
            Queue = events ? null : Text(extension, "queue") ?? throw Malformed(file, "queue"),
            Ordered = extension.TryGetProperty("ordered", out var ordered) && ordered.ValueKind == JsonValueKind.True,
            Exchange = events ? Text(extension, "exchange") ?? throw Malformed(file, "exchange") : null,
            ExchangeType = events ? Text(extension, "exchangeType") ?? "topic" : null,
        };

        if (root.TryGetProperty("operations", out var operations))
        {
            foreach (var operation in operations.EnumerateObject())
            {
                if (!operation.Value.TryGetProperty(Extension, out var method)) continue;
                service.Methods.Add(Method(service, method, root));
            }
        }

        return service;
    }

    private static MethodContract Method(ServiceContract service, JsonElement method, JsonElement root)
    {
        var name = Text(method, "method") ?? throw Malformed(service.Source, "method");
        var kind = Text(method, "kind") switch
        {
            "one-way" => MethodKind.OneWay,
            "stream" => MethodKind.Stream,
            "event" => MethodKind.Event,
            _ => MethodKind.Call,
        };
        var parameters = new List<ParameterContract>();
        if (method.TryGetProperty("parameters", out var list))
        {
            foreach (var p in list.EnumerateArray())
            {
                parameters.Add(new ParameterContract(Text(p, "name") ?? "?", Flag(p, "optional"), Flag(p, "notNull")));
            }
        }

        var faults = new List<string>();
        if (method.TryGetProperty("faults", out var declared))
        {
            foreach (var fault in declared.EnumerateArray()) faults.Add(fault.GetString() ?? "?");
        }

        JsonElement? schemas = root.TryGetProperty("components", out var components) && components.TryGetProperty("schemas", out var s) ? s : null;
        JsonElement? Schema(string key) => schemas is { } all && all.TryGetProperty(key, out var schema) ? schema : null;
        return new MethodContract
        {
            Service = service,
            Name = name,
            Kind = kind,
            Parameters = parameters,
            Faults = faults,
            TimeoutMilliseconds = method.TryGetProperty("timeoutMs", out var timeout) ? timeout.GetInt32() : 0,
            TimeToLiveMilliseconds = method.TryGetProperty("timeToLiveMs", out var ttl) ? ttl.GetInt32() : 0,
            RequestSchema = kind == MethodKind.Event ? Schema(name) : Schema(name + ".request"),
            ReplySchema = kind is MethodKind.Call or MethodKind.Stream ? Schema(name + ".reply") : null,
        };
    }

    private static string? Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static bool Flag(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.True;

    private static CliException Malformed(string file, string what) =>
        new(ExitCodes.Usage, $"'{file}': its {Extension} extension has no '{what}'.");
}
