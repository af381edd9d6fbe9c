using System;
using System.CommandLine;
using System.Text.Json;
using RpcGen.Cli.Broker;
using RpcGen.Cli.Contracts;

namespace RpcGen.Cli.Commands;

/// <summary>
/// rpcgen stream Service.Method JSON: prints the items of a streamed result as they arrive, one JSON value a line.
/// Ctrl-C cancels the enumeration, which sends RpcGen's cancel to the server, as any client's would.
/// </summary>
internal static class StreamCommand
{
    public static Command Create(CommonOptions common)
    {
        var method = new Argument<string>("METHOD") { Description = "Service.Method of a method that returns IAsyncEnumerable<T>." };
        var json = new Argument<string?>("JSON") { Description = "The arguments, as for rpcgen call.", Arity = ArgumentArity.ZeroOrOne };
        var window = new Option<int?>("--window") { Description = "How many items the server may send ahead of what was printed (credit; default 256)." };
        var timeout = new Option<string?>("--timeout") { Description = "How long to wait for the first item: 250ms, 5s (default: the method's, else 30s)." };
        var deadline = new Option<string?>("--deadline") { Description = "End the whole stream at this time (ISO 8601) or after this long." };
        var headers = new Option<string[]>("--header", "-H") { Description = "A header NAME=VALUE for the server; repeatable." };
        var command = new Command("stream", "Stream a method's items as they arrive; Ctrl-C cancels the server's work.") { method, json, window, timeout, deadline, headers };
        command.SetAction(async (result, cancellationToken) =>
        {
            var contracts = common.LoadContracts(result);
            var target = contracts.FindMethod(result.GetValue(method)!);
            if (target.Kind != MethodKind.Stream) throw CallCommand.WrongVerb(target);
            var body = RequestInput.Read(target, result.GetValue(json));
            var credit = result.GetValue(window);
            if (credit is < 1) throw new CliException(ExitCodes.Usage, "--window must be at least 1.");
            TimeSpan? streamDeadline = CommonOptions.Deadline(result.GetValue(deadline)) is { } at ? at - DateTimeOffset.UtcNow : null;
            if (streamDeadline is { } d && d <= TimeSpan.Zero) throw new CliException(ExitCodes.Timeout, "the deadline has passed; nothing was sent.");
            var options = new RpcCallOptions
            {
                Timeout = CommonOptions.Duration(result.GetValue(timeout), "--timeout"),
                StreamDeadline = streamDeadline,
                Headers = CommonOptions.Headers(result.GetValue(headers)),
            };

            await using var rpc = await CliConnection.ConnectAsync(common.Address(result), "stream", cancellationToken,
                o => { if (credit is { } w) o.Client.StreamWindow = w; });
            var descriptor = new RuntimeDescriptors().For(target);
            using var scope = RpcCallOptions.Use(options);
            var request = rpc.Invoker.CreateRequest(descriptor);
            if (body is { } value) request.WriteValue(value);
            long items = 0;
            try
            {
                await foreach (var item in rpc.Invoker.StreamAsync<JsonElement>(request, cancellationToken))
                {
                    Console.Out.WriteLine(CliJson.Format(item, compact: true));
                    items++;
                }

                Console.Error.WriteLine($"{items} items; the stream ended.");
                return ExitCodes.Ok;
            }
            catch (RpcException e)
            {
                Console.Error.WriteLine($"{items} items before the stream failed.");
                return CallOutcomes.Report(target, e);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Console.Error.WriteLine($"interrupted after {items} items: the stream was cancelled, at the server too.");
                return ExitCodes.Interrupted;
            }
        });
        return command;
    }
}
