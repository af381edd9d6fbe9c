using System;
using System.CommandLine;
using System.Linq;
using System.Text;
using System.Text.Json;
using RpcGen.Cli.Contracts;

namespace RpcGen.Cli.Commands;

/// <summary>rpcgen describe [FILE...]: services, methods, parameters, faults, events, queues and exchanges.</summary>
internal static class DescribeCommand
{
    public static Command Create(CommonOptions common)
    {
        var files = new Argument<string[]>("FILE")
        {
            Description = "AsyncAPI documents RpcGen wrote, or directories of them (default: --contract, $RPCGEN_CONTRACTS, ./asyncapi).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command("describe", "Show what the contracts offer: services and their methods, events, faults, queues and exchanges.") { files };
        command.SetAction(result =>
        {
            var contracts = common.LoadContracts(result, result.GetValue(files));
            Console.Out.Write(Render(contracts));
            return ExitCodes.Ok;
        });
        return command;
    }

    public static string Render(ContractSet contracts)
    {
        var text = new StringBuilder();
        foreach (var service in contracts.Services)
        {
            if (service.IsEvents)
            {
                text.AppendLine($"{service.Name}: events on the {service.ExchangeType} exchange '{service.Exchange}'   ({service.Source})");
            }
            else
            {
                text.AppendLine($"{service.Name}: service on queue '{service.Queue}'{(service.Ordered ? " (ordered: one consumer at a time)" : string.Empty)}   ({service.Source})");
            }

            foreach (var method in service.Methods)
            {
                var result = method.Kind switch
                {
                    MethodKind.Call => CallOutcomes.ReturnsNothing(method) ? " -> nothing" : " -> " + (method.ReplySchema is { } r ? SchemaText.Of(r) : "?"),
                    MethodKind.Stream => " -> stream of " + (method.ReplySchema is { } s ? SchemaText.Of(s) : "?"),
                    _ => string.Empty,
                };
                text.AppendLine($"  {method.KindName,-8}{method.Name}({SchemaText.Parameters(method)}){result}");
                if (method.TimeoutMilliseconds > 0) text.AppendLine($"          timeout {method.TimeoutMilliseconds} ms");
                if (method.TimeToLiveMilliseconds > 0) text.AppendLine($"          expires after {method.TimeToLiveMilliseconds} ms in the queue");
                foreach (var fault in method.Faults) text.AppendLine($"          fault {fault} {FaultData(service, fault)}");
                if (method.Kind == MethodKind.Event) text.AppendLine($"          routing key: the publisher's ([RpcRoutingKey]), else '{method.Name}'");
            }

            if (service.IsEvents)
            {
                text.AppendLine($"  exchange  {service.Exchange} ({service.ExchangeType}, durable); each subscriber group binds a durable queue of its own, with {{queue}}.dead-letter beside it");
            }
            else
            {
                text.AppendLine($"  queues    {service.Queue} (requests, durable)" +
                    (service.Methods.Any(m => m.Kind == MethodKind.OneWay) ? $", {service.Queue}.dead-letter (failed one-way work)" : string.Empty));
                text.AppendLine($"  exchange  rpc-control.{service.Queue} (fanout: cancels and stream credit)");
            }

            text.AppendLine();
        }

        return text.ToString();
    }

    private static string FaultData(ServiceContract service, string fault)
    {
        if (!service.Document.TryGetProperty("components", out var components) || !components.TryGetProperty("schemas", out var schemas) ||
            !schemas.TryGetProperty(fault, out var schema) || !schema.TryGetProperty("properties", out var properties) ||
            !properties.TryGetProperty("data", out var data))
        {
            return string.Empty;
        }

        return data.ValueKind == JsonValueKind.Object ? "data " + SchemaText.Of(data) : string.Empty;
    }
}
