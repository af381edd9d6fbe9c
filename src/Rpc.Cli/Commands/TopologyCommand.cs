using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RpcGen.Cli.Broker;
using RpcGen.Cli.Contracts;
using RpcGen.Server;
using RpcGen.Transport;

namespace RpcGen.Cli.Commands;

/// <summary>
/// rpcgen topology apply [--dry-run]: declares what the contracts and subscriptions need with the runtime's own
/// declarations (QueueDeclarations, ExchangeDeclarations, EventTopology), so queues get the arguments RpcGen gives them
/// and a subscriber group's queue exists, bound, before the first event is published.
/// </summary>
internal static class TopologyCommand
{
    public static Command Create(CommonOptions common)
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Print what would be declared; connect to nothing." };
        var subscriptions = new Option<string[]>("--subscription", "-s")
        {
            Description = "A subscriber group's queue: QUEUE=Events[:KEY,KEY...], e.g. shop.notifications=OrderEvents:order.#; repeatable (default keys: as RpcGen's, # on topic).",
        };
        var queueType = new Option<string>("--queue-type") { Description = "classic or quorum (RpcTopologyOptions.QueueType), as the services are configured.", DefaultValueFactory = _ => "classic" };
        var apply = new Command("apply", "Declare every queue, exchange and binding the contracts and the given subscriptions need, as RpcGen itself would.")
        {
            dryRun, subscriptions, queueType,
        };
        apply.SetAction(async (result, cancellationToken) =>
        {
            var contracts = common.LoadContracts(result);
            var descriptors = new RuntimeDescriptors();
            var type = result.GetValue(queueType) switch
            {
                "classic" => RpcQueueType.Classic,
                "quorum" => RpcQueueType.Quorum,
                var other => throw new CliException(ExitCodes.Usage, $"--queue-type '{other}': use classic or quorum."),
            };
            var wanted = (result.GetValue(subscriptions) ?? Array.Empty<string>()).Select(s => Subscription(contracts, s)).ToList();
            var address = common.Address(result);
            var steps = Plan(contracts, wanted, address.Prefix, type);

            if (result.GetValue(dryRun))
            {
                foreach (var step in steps) Console.Out.WriteLine("would declare " + step.What);
                Console.Out.WriteLine($"{steps.Count} declarations (dry run: nothing was declared).");
                return ExitCodes.Ok;
            }

            await using var rpc = await CliConnection.ConnectAsync(address, "topology apply", cancellationToken, o => o.Topology.QueueType = type);
            foreach (var step in steps)
            {
                try
                {
                    await step.Declare(rpc.Connection, rpc.Settings, descriptors, cancellationToken);
                }
                catch (RpcException e)
                {
                    throw new CliException(ExitCodes.Failed, $"could not declare {step.What}: {address.Scrub(e.Message)}");
                }

                Console.Out.WriteLine("declared " + step.What);
            }

            Console.Out.WriteLine($"{steps.Count} declarations applied on {address.Display}.");
            return ExitCodes.Ok;
        });
        var command = new Command("topology", "Declare the broker topology the contracts need.") { apply };
        return command;
    }

    private sealed record Step(string What, Func<IConnection, RpcSettings, RuntimeDescriptors, CancellationToken, Task> Declare);

    private static List<Step> Plan(ContractSet contracts, List<(ServiceContract Events, RpcSubscription Subscription)> subscriptions, string prefix, RpcQueueType type)
    {
        var kind = type == RpcQueueType.Quorum ? "quorum" : "classic";
        var steps = new List<Step>();
        foreach (var service in contracts.Services.Where(s => !s.IsEvents))
        {
            var queue = prefix + service.Queue;
            steps.Add(new Step($"queue {queue} (durable, {kind}{(service.Ordered ? ", single active consumer" : string.Empty)}) for {service.Name}",
                (connection, settings, descriptors, ct) => OnChannelAsync(connection, ct, channel =>
                    QueueDeclarations.DeclareDurableAsync(channel, settings, queue, service.Name, ct, singleActiveConsumer: service.Ordered))));
            if (service.Methods.Any(m => m.Kind == MethodKind.OneWay))
            {
                steps.Add(new Step($"queue {queue}{QueueDeclarations.DeadLetterSuffix} (durable) for {service.Name}'s failed one-way work",
                    (connection, settings, descriptors, ct) => OnChannelAsync(connection, ct, channel => QueueDeclarations.DeclareDeadLetterAsync(channel, settings, queue, ct))));
            }
        }

        foreach (var events in contracts.Services.Where(s => s.IsEvents))
        {
            steps.Add(new Step($"exchange {prefix}{events.Exchange} ({events.ExchangeType}, durable) for {events.Name}",
                (connection, settings, descriptors, ct) =>
                {
                    var descriptor = (RpcEventsDescriptor)descriptors.For(events);
                    return ExchangeDeclarations.DeclareOrFindAsync(connection, settings, descriptor, settings.ExchangeFor(descriptor), ct);
                }));
        }

        foreach (var (events, subscription) in subscriptions)
        {
            var queue = prefix + subscription.Queue;
            var keys = subscription.Bindings.Count > 0 ? string.Join(", ", subscription.Bindings) : "RpcGen's default keys";
            steps.Add(new Step($"queue {queue} (durable, {kind}) bound to {prefix}{events.Exchange} with {keys}, and {queue}{QueueDeclarations.DeadLetterSuffix}, for {events.Name} subscribers",
                async (connection, settings, descriptors, ct) =>
                {
                    var descriptor = (RpcEventsDescriptor)descriptors.For(events);
                    await EventTopology.DeclareOnOwnChannelAsync(connection, settings, descriptor, subscription, ct);
                    await OnChannelAsync(connection, ct, channel => QueueDeclarations.DeclareDeadLetterAsync(channel, settings, queue, ct));
                }));
        }

        return steps;
    }

    private static (ServiceContract, RpcSubscription) Subscription(ContractSet contracts, string text)
    {
        int equals = text.IndexOf('=');
        if (equals <= 0) throw new CliException(ExitCodes.Usage, $"--subscription '{text}' is not QUEUE=Events[:KEY,KEY...].");
        var rest = text[(equals + 1)..];
        int colon = rest.IndexOf(':');
        var eventsName = colon < 0 ? rest : rest[..colon];
        var events = contracts.FindService(eventsName) is { IsEvents: true } found
            ? found
            : throw new CliException(ExitCodes.Usage, $"--subscription '{text}': no events contract '{eventsName}'; events contracts: " +
                string.Join(", ", contracts.Services.Where(s => s.IsEvents).Select(s => s.Name)) + ".");
        var subscription = new RpcSubscription { Queue = text[..equals] };
        if (colon >= 0)
        {
            foreach (var key in rest[(colon + 1)..].Split(',', StringSplitOptions.TrimEntries)) subscription.Bindings.Add(key);
        }

        return (events, subscription);
    }

    private static async Task OnChannelAsync(IConnection connection, CancellationToken cancellationToken, Func<IChannel, Task> declare)
    {
        // A refused declaration closes the channel it ran on: one short-lived channel each, as the runtime does.
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            await declare(channel);
            await channel.CloseAsync(cancellationToken);
        }
        finally
        {
            channel.Dispose();
        }
    }
}
