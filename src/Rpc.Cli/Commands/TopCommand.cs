using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RpcGen.Cli.Broker;
using RpcGen.Cli.Contracts;
using Spectre.Console;

namespace RpcGen.Cli.Commands;

/// <summary>
/// rpcgen top: a live view per service of the contracts (or per queue without them): requests in and out per second,
/// queue depth, consumers and dead letters, and each events exchange's publish rate, from the management API, redrawn
/// every second (--interval). --once prints one table and exits, for scripts and logs.
/// </summary>
internal static class TopCommand
{
    public static Command Create(CommonOptions common)
    {
        var management = new Option<string?>("--management") { Description = $"The management API's URL (default: ${ManagementApi.EnvironmentVariable}, else http://HOST:AMQP_PORT+10000/)." };
        var interval = new Option<string?>("--interval") { Description = "How often to refresh (default 1s)." };
        var once = new Option<bool>("--once") { Description = "Print one table and exit." };
        var command = new Command("top", "Watch each service live: requests in/out per second, queue depth, consumers, dead letters (management API).") { management, interval, once };
        command.SetAction(async (result, cancellationToken) =>
        {
            ContractSet? contracts = null;
            try
            {
                contracts = common.LoadContracts(result);
            }
            catch (CliException) when (result.GetValue(common.Contracts) is not { Length: > 0 })
            {
                // Without contracts every queue is shown.
            }

            var period = CommonOptions.Duration(result.GetValue(interval), "--interval") ?? TimeSpan.FromSeconds(1);
            var address = common.Address(result);
            using var api = new ManagementApi(address, result.GetValue(management));
            if (result.GetValue(once))
            {
                // Written to a file or a pipe, the table keeps its columns instead of wrapping at Spectre's default 80.
                if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 120;
                AnsiConsole.Write(await TableAsync(api, contracts, address, cancellationToken));
                return ExitCodes.Ok;
            }

            var first = await TableAsync(api, contracts, address, cancellationToken);
            try
            {
                await AnsiConsole.Live(first).StartAsync(async live =>
                {
                    var last = first;
                    while (true)
                    {
                        await Task.Delay(period, cancellationToken);
                        try
                        {
                            last = await TableAsync(api, contracts, address, cancellationToken);
                        }
                        catch (CliException e)
                        {
                            // A broker busy or restarting for a moment: keep the last figures and say why they are old.
                            last.Caption($"[red]{DateTime.Now:HH:mm:ss}: {Markup.Escape(e.Message)} The figures are those of the title's time.[/]");
                        }

                        live.UpdateTarget(last);
                    }
                });
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl-C (or q) is how top ends.
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<Table> TableAsync(ManagementApi api, ContractSet? contracts, BrokerAddress address, CancellationToken cancellationToken)
    {
        var queues = await api.QueuesAsync(cancellationToken);
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"rpcgen top: {Markup.Escape(address.Display)}, {DateTime.Now:HH:mm:ss}")
            .Caption("in/s published to the queue, out/s delivered to servers, dead: in its .dead-letter queue");
        table.AddColumn("service");
        table.AddColumn("queue");
        foreach (var column in new[] { "in/s", "out/s", "depth", "unacked", "consumers", "dead" }) table.AddColumn(new TableColumn(column).RightAligned());

        IEnumerable<(string Service, string Queue)> rows = contracts is null
            ? queues.Keys.Where(q => !q.StartsWith("amq.", StringComparison.Ordinal) && !q.EndsWith(DeadLetterQueue.Suffix, StringComparison.Ordinal))
                .Order(StringComparer.Ordinal).Select(q => ("", q))
            : contracts.Services.Where(s => !s.IsEvents).Select(s => (s.Name, address.Prefix + s.Queue));
        foreach (var (service, queue) in rows)
        {
            var figures = queues.GetValueOrDefault(queue);
            var dead = queues.GetValueOrDefault(queue + DeadLetterQueue.Suffix);
            table.AddRow(
                Markup.Escape(service), Markup.Escape(queue),
                Rate(figures?.InPerSecond), Rate(figures?.OutPerSecond),
                figures is null ? "[grey]no queue[/]" : figures.Messages.ToString(CultureInfo.InvariantCulture),
                figures?.Unacked.ToString(CultureInfo.InvariantCulture) ?? "-",
                figures is null ? "-" : figures.Consumers == 0 ? "[red]0[/]" : figures.Consumers.ToString(CultureInfo.InvariantCulture),
                dead is null ? "-" : dead.Messages > 0 ? $"[yellow]{dead.Messages}[/]" : "0");
        }

        if (contracts?.Services.Any(s => s.IsEvents) == true)
        {
            var exchanges = await api.ExchangesAsync(cancellationToken);
            foreach (var events in contracts.Services.Where(s => s.IsEvents))
            {
                var figures = exchanges.GetValueOrDefault(address.Prefix + events.Exchange);
                table.AddRow(Markup.Escape(events.Name), Markup.Escape("exchange " + address.Prefix + events.Exchange), Rate(figures?.InPerSecond), Rate(figures?.OutPerSecond),
                    "-", "-", "-", "-");
            }
        }

        return table;
    }

    private static string Rate(double? rate) => rate is { } r ? r.ToString("0.0", CultureInfo.InvariantCulture) : "-";
}
