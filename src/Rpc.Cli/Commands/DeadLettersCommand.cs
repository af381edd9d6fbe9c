using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using RpcGen.Cli.Broker;

namespace RpcGen.Cli.Commands;

/// <summary>
/// rpcgen dead-letters list|show|replay|purge QUEUE: the failed one-way work and events RpcGen moved to
/// QUEUE.dead-letter. list and show leave the queue as it was; replay puts messages back in the queue they failed in
/// with their retries reset; purge deletes them.
/// </summary>
internal static class DeadLettersCommand
{
    private const int DefaultLimit = 1000;

    public static Command Create(CommonOptions common)
    {
        var command = new Command("dead-letters", "List, show, replay or purge the messages in a queue's dead-letter queue (QUEUE.dead-letter).");
        command.Add(List(common));
        command.Add(Show(common));
        command.Add(Change(common, "replay",
            "Put dead letters back into the queue they failed in, with rpc-retries reset and the replay recorded in headers (rpc-replayed-at, rpc-replayed-by); " +
            "each is removed only after the broker confirmed its copy."));
        command.Add(Change(common, "purge", "Delete dead letters for good."));
        return command;
    }

    private sealed class Filters
    {
        public Argument<string> Queue { get; } = new("QUEUE") { Description = "A service's name from the contracts (e.g. Stock), its queue (shop.stock), a subscriber's queue, or the dead-letter queue itself." };
        public Option<string[]> Ids { get; } = new("--id") { Description = "Only these message ids (as list shows them); repeatable." };
        public Option<string?> Method { get; } = new("--method") { Description = "Only messages of this method or event." };
        public Option<string?> Error { get; } = new("--error") { Description = "Only messages whose error type or message contains this text." };
        public Option<int> Limit { get; } = new("--limit") { Description = $"Look at no more than this many messages (default {DefaultLimit}).", DefaultValueFactory = _ => DefaultLimit };

        public void AddTo(Command command)
        {
            command.Add(Queue);
            command.Add(Ids);
            command.Add(Method);
            command.Add(Error);
            command.Add(Limit);
        }

        public bool Any(ParseResult result) =>
            result.GetValue(Ids) is { Length: > 0 } || result.GetValue(Method) is not null || result.GetValue(Error) is not null;

        public Func<DeadLetter, bool> Matcher(ParseResult result)
        {
            var ids = result.GetValue(Ids) is { Length: > 0 } list ? new HashSet<string>(list, StringComparer.Ordinal) : null;
            var method = result.GetValue(Method);
            var error = result.GetValue(Error);
            return letter =>
                (ids is null || ids.Contains(letter.Id)) &&
                (method is null || string.Equals(letter.Method, method, StringComparison.Ordinal)) &&
                (error is null || (letter.ErrorType?.Contains(error, StringComparison.OrdinalIgnoreCase) ?? false) ||
                    (letter.ErrorMessage?.Contains(error, StringComparison.OrdinalIgnoreCase) ?? false));
        }
    }

    private static Command List(CommonOptions common)
    {
        var filters = new Filters();
        var json = new Option<bool>("--json") { Description = "One JSON object a line instead of the table." };
        var command = new Command("list", "List dead letters: id, method, retries, error. The queue is left as it was.");
        filters.AddTo(command);
        command.Add(json);
        command.SetAction((result, cancellationToken) => WithQueueAsync(common, result, filters, "dead-letters list", cancellationToken, async (queue, letters, _) =>
        {
            var matcher = filters.Matcher(result);
            var shown = letters.Where(matcher).ToList();
            if (result.GetValue(json))
            {
                foreach (var letter in shown) Console.Out.WriteLine(Summary(letter, compact: true));
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine($"{queue.Name}: {queue.Waiting} messages{(shown.Count != letters.Count ? $", {shown.Count} match" : string.Empty)}");
            if (shown.Count == 0) return ExitCodes.Ok;
            int idWidth = Math.Max(2, shown.Max(l => l.Id.Length));
            int methodWidth = Math.Max(6, shown.Max(l => l.Method.Length));
            Console.Out.WriteLine($"{"ID".PadRight(idWidth)}  {"METHOD".PadRight(methodWidth)}  RETRIES  REPLAYS  FROM QUEUE  ERROR");
            foreach (var letter in shown)
            {
                var error = $"{letter.ErrorType}: {letter.ErrorMessage}";
                Console.Out.WriteLine($"{letter.Id.PadRight(idWidth)}  {letter.Method.PadRight(methodWidth)}  {letter.Header("rpc-retries") ?? "-",7}  " +
                    $"{letter.Header("rpc-replays") ?? "0",7}  {letter.SourceQueue}  {(error.Length > 80 ? error[..80] + "…" : error)}");
            }

            await Task.CompletedTask;
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Show(CommonOptions common)
    {
        var filters = new Filters();
        var command = new Command("show", "Show dead letters in full: properties, headers and the body as JSON. The queue is left as it was.");
        filters.AddTo(command);
        command.SetAction((result, cancellationToken) => WithQueueAsync(common, result, filters, "dead-letters show", cancellationToken, (queue, letters, _) =>
        {
            var shown = letters.Where(filters.Matcher(result)).ToList();
            if (shown.Count == 0) throw new CliException(ExitCodes.Usage, $"no message in {queue.Name} matches.");
            foreach (var letter in shown) Console.Out.WriteLine(Summary(letter, compact: false, full: true));
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command Change(CommonOptions common, string verb, string description)
    {
        var filters = new Filters();
        var all = new Option<bool>("--all") { Description = $"{verb} every message (without it, --id, --method or --error must say which)." };
        var command = new Command(verb, description);
        filters.AddTo(command);
        command.Add(all);
        command.SetAction((result, cancellationToken) =>
        {
            if (!filters.Any(result) && !result.GetValue(all))
            {
                throw new CliException(ExitCodes.Usage, $"say which messages to {verb}: --id ID, --method NAME, --error TEXT, or --all.");
            }

            return WithQueueAsync(common, result, filters, "dead-letters " + verb, cancellationToken, async (queue, letters, address) =>
            {
                var chosen = letters.Where(filters.Matcher(result)).ToList();
                int done = 0;
                foreach (var letter in chosen)
                {
                    if (verb == "replay")
                    {
                        await queue.ReplayAsync(letter, address.User, cancellationToken);
                        Console.Out.WriteLine($"replayed {letter.Id} ({letter.Method}) to '{letter.SourceQueue}'");
                    }
                    else
                    {
                        await queue.PurgeAsync(letter, cancellationToken);
                        Console.Out.WriteLine($"purged {letter.Id} ({letter.Method})");
                    }

                    done++;
                }

                Console.Out.WriteLine($"{done} of {queue.Waiting} messages {(verb == "replay" ? "replayed" : "purged")}; {queue.Waiting - done} left in {queue.Name}.");
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    private static async Task<int> WithQueueAsync(CommonOptions common, ParseResult result, Filters filters, string verb, CancellationToken cancellationToken,
        Func<DeadLetterQueue, List<DeadLetter>, BrokerAddress, Task<int>> work)
    {
        var address = common.Address(result);
        var name = result.GetValue(filters.Queue)!;
        var queueName = name;
        if (!name.Contains('.') || result.GetValue(common.Contracts) is { Length: > 0 })
        {
            try
            {
                if (common.LoadContracts(result).FindService(name) is { IsEvents: false } service) queueName = address.Prefix + service.Queue;
            }
            catch (CliException) when (result.GetValue(common.Contracts) is not { Length: > 0 })
            {
                // No contract at hand: QUEUE is a queue's name.
            }
        }

        await using var rpc = await CliConnection.ConnectAsync(address, verb, cancellationToken);
        await using var queue = await DeadLetterQueue.OpenAsync(rpc.Connection, DeadLetterQueue.NameFor(queueName), cancellationToken);
        var letters = await queue.FetchAsync(result.GetValue(filters.Limit), cancellationToken);
        return await work(queue, letters, address);
    }

    private static string Summary(DeadLetter letter, bool compact, bool full = false) => CliJson.Object(writer =>
    {
        writer.WriteString("id", letter.Id);
        writer.WriteString("method", letter.Method);
        writer.WriteString("queue", letter.SourceQueue);
        writer.WriteString("errorType", letter.ErrorType);
        writer.WriteString("errorMessage", letter.ErrorMessage);
        writer.WriteString("retries", letter.Header("rpc-retries"));
        if (full)
        {
            if (letter.Properties.UserId is { } user) writer.WriteString("userId", user);
            if (letter.Properties.Timestamp.UnixTime > 0) writer.WriteString("timestamp", DateTimeOffset.FromUnixTimeSeconds(letter.Properties.Timestamp.UnixTime).ToString("O"));
            writer.WriteStartObject("headers");
            foreach (var (key, value) in (letter.Properties.Headers ?? new Dictionary<string, object?>()).OrderBy(h => h.Key, StringComparer.Ordinal))
            {
                writer.WriteString(key, TailCommand.HeaderText(value));
            }

            writer.WriteEndObject();
        }

        writer.WritePropertyName("body");
        try
        {
            using var document = JsonDocument.Parse(letter.Body);
            document.RootElement.WriteTo(writer);
        }
        catch (JsonException)
        {
            writer.WriteStringValue(System.Text.Encoding.UTF8.GetString(letter.Body.Span));
        }
    }, compact);
}
