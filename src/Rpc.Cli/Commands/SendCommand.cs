using System;
using System.CommandLine;
using RpcGen.Cli.Broker;
using RpcGen.Cli.Contracts;

namespace RpcGen.Cli.Commands;

/// <summary>rpcgen send Service.Method JSON: one-way work, persistent and confirmed by the broker, as RpcGen sends it.</summary>
internal static class SendCommand
{
    public static Command Create(CommonOptions common)
    {
        var method = new Argument<string>("METHOD") { Description = "Service.Method of a one-way method ([RpcMethod(OneWay = true)])." };
        var json = new Argument<string?>("JSON") { Description = "The arguments, as for rpcgen call.", Arity = ArgumentArity.ZeroOrOne };
        var headers = new Option<string[]>("--header", "-H") { Description = "A header NAME=VALUE for the server; repeatable." };
        var command = new Command("send", "Send one-way work to a service's queue; returns once the broker has it (confirmed), not when it ran.") { method, json, headers };
        command.SetAction(async (result, cancellationToken) =>
        {
            var contracts = common.LoadContracts(result);
            var target = contracts.FindMethod(result.GetValue(method)!);
            if (target.Kind != MethodKind.OneWay) throw CallCommand.WrongVerb(target);
            var body = RequestInput.Read(target, result.GetValue(json));
            var headerValues = CommonOptions.Headers(result.GetValue(headers));

            var address = common.Address(result);
            await using var rpc = await CliConnection.ConnectAsync(address, "send", cancellationToken);
            using var scope = RpcCallOptions.Use(new RpcCallOptions { Headers = headerValues });
            var request = rpc.Invoker.CreateRequest(new RuntimeDescriptors().For(target));
            if (body is { } value) request.WriteValue(value);
            try
            {
                await rpc.Invoker.SendAsync(request, cancellationToken);
            }
            catch (RpcException e)
            {
                return CallOutcomes.Report(target, e);
            }

            Console.Out.WriteLine($"sent {target.FullName} to queue '{address.Prefix}{target.Service.Queue}' (persistent, confirmed by the broker).");
            return ExitCodes.Ok;
        });
        return command;
    }
}
