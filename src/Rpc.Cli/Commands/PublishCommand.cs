using System;
using System.CommandLine;
using RpcGen.Cli.Broker;
using RpcGen.Cli.Contracts;

namespace RpcGen.Cli.Commands;

/// <summary>rpcgen publish Events.Event JSON --routing-key K: an event, persistent and confirmed, as RpcGen publishes it.</summary>
internal static class PublishCommand
{
    public static Command Create(CommonOptions common)
    {
        var method = new Argument<string>("EVENT") { Description = "Events.Event, as rpcgen describe lists it." };
        var json = new Argument<string?>("JSON") { Description = "The event's arguments (without the routing key), as for rpcgen call.", Arity = ArgumentArity.ZeroOrOne };
        var routingKey = new Option<string?>("--routing-key", "-k") { Description = "The routing key (default: the event's name)." };
        var headers = new Option<string[]>("--header", "-H") { Description = "A header NAME=VALUE for subscribers; repeatable." };
        var command = new Command("publish", "Publish an event to its exchange; returns once the broker has it (confirmed).") { method, json, routingKey, headers };
        command.SetAction(async (result, cancellationToken) =>
        {
            var contracts = common.LoadContracts(result);
            var target = contracts.FindMethod(result.GetValue(method)!);
            if (target.Kind != MethodKind.Event) throw CallCommand.WrongVerb(target);
            var body = RequestInput.Read(target, result.GetValue(json));
            var key = result.GetValue(routingKey);
            var headerValues = CommonOptions.Headers(result.GetValue(headers));

            var address = common.Address(result);
            await using var rpc = await CliConnection.ConnectAsync(address, "publish", cancellationToken,
                o => o.Client.FailUnroutableEvents = true);
            using var scope = RpcCallOptions.Use(new RpcCallOptions { Headers = headerValues });
            var request = rpc.Invoker.CreateRequest(new RuntimeDescriptors().For(target));
            if (body is { } value) request.WriteValue(value);
            var shown = key ?? target.Name;
            try
            {
                await rpc.Invoker.PublishAsync(request, key, cancellationToken);
            }
            catch (RpcUnroutableEventException)
            {
                // Not a failure of the publish: nobody is bound for this key, so the broker dropped it, as it would for any publisher.
                Console.Out.WriteLine($"published {target.FullName} to exchange '{address.Prefix}{target.Service.Exchange}' with routing key '{shown}'; no queue is bound for it, so nobody got it.");
                return ExitCodes.Ok;
            }
            catch (RpcException e)
            {
                return CallOutcomes.Report(target, e);
            }

            Console.Out.WriteLine($"published {target.FullName} to exchange '{address.Prefix}{target.Service.Exchange}' with routing key '{shown}' (persistent, confirmed).");
            return ExitCodes.Ok;
        });
        return command;
    }
}
