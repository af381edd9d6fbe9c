using System;
using System.CommandLine;
using System.Text.Json;
using RpcGen.Cli.Broker;
using RpcGen.Cli.Contracts;

namespace RpcGen.Cli.Commands;

/// <summary>rpcgen call Service.Method JSON: one request and its reply, through RpcGen's own invoker.</summary>
internal static class CallCommand
{
    public static Command Create(CommonOptions common)
    {
        var method = new Argument<string>("METHOD") { Description = "Service.Method, as rpcgen describe lists it." };
        var json = new Argument<string?>("JSON")
        {
            Description = "The arguments as the request body: the bare value of a single parameter, an object keyed by name for several; - reads stdin, @FILE a file.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var timeout = new Option<string?>("--timeout") { Description = "How long to wait for the reply: 250ms, 5s, 2m (default: the method's, else 30s)." };
        var deadline = new Option<string?>("--deadline") { Description = "Give up at this time (ISO 8601, e.g. 2026-12-07T09:00:00Z) or after this long; the server sees it as the call's deadline." };
        var headers = new Option<string[]>("--header", "-H") { Description = "A header NAME=VALUE the server reads in RpcContext.Headers; repeatable." };
        var command = new Command("call", "Call a method and print its result as JSON, or its declared fault with the fault's data.") { method, json, timeout, deadline, headers };
        command.SetAction(async (result, cancellationToken) =>
        {
            var contracts = common.LoadContracts(result);
            var target = contracts.FindMethod(result.GetValue(method)!);
            if (target.Kind != MethodKind.Call) throw WrongVerb(target);
            var body = RequestInput.Read(target, result.GetValue(json));
            var limit = Limit(CommonOptions.Duration(result.GetValue(timeout), "--timeout"), CommonOptions.Deadline(result.GetValue(deadline)), target);
            var callHeaders = CommonOptions.Headers(result.GetValue(headers));
            var address = common.Address(result);

            await using var rpc = await CliConnection.ConnectAsync(address, "call", cancellationToken);
            var descriptor = new RuntimeDescriptors().For(target);
            using var scope = RpcCallOptions.Use(new RpcCallOptions { Timeout = limit, Headers = callHeaders });
            var request = rpc.Invoker.CreateRequest(descriptor);
            if (body is { } value) request.WriteValue(value);
            try
            {
                if (CallOutcomes.ReturnsNothing(target))
                {
                    await rpc.Invoker.CallAsync(request, cancellationToken);
                    Console.Out.WriteLine("null");
                }
                else
                {
                    var reply = await rpc.Invoker.CallAsync<JsonElement>(request, cancellationToken);
                    Console.Out.WriteLine(CliJson.Format(reply));
                }

                return ExitCodes.Ok;
            }
            catch (RpcException e)
            {
                return CallOutcomes.Report(target, e);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Console.Error.WriteLine($"interrupted: {target.FullName} was cancelled, at the server too.");
                return ExitCodes.Interrupted;
            }
        });
        return command;
    }

    /// <summary>The call's timeout: --timeout, cut to --deadline; a deadline already past fails before sending.</summary>
    private static TimeSpan? Limit(TimeSpan? timeout, DateTimeOffset? deadline, MethodContract method)
    {
        if (deadline is not { } at) return timeout;
        var left = at - DateTimeOffset.UtcNow;
        if (left <= TimeSpan.Zero) throw new CliException(ExitCodes.Timeout, $"the deadline {at:O} has passed; {method.FullName} was not sent.");
        return timeout is { } t && t < left ? t : left;
    }

    public static CliException WrongVerb(MethodContract method) => new(ExitCodes.Usage, method.Kind switch
    {
        MethodKind.Stream => $"{method.FullName} streams its result: use rpcgen stream {method.FullName} ...",
        MethodKind.OneWay => $"{method.FullName} is one-way work: use rpcgen send {method.FullName} ...",
        MethodKind.Event => $"{method.FullName} is an event: use rpcgen publish {method.FullName} ... --routing-key KEY",
        _ => $"{method.FullName} is a request/reply method: use rpcgen call {method.FullName} ...",
    });
}
