using System;
using System.Collections.Generic;
using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace RpcGen.Hosting;

/// <summary>
/// Reads a queue's or exchange's topology from configuration (<c>RpcGen:Topology:Queues:NAME</c>,
/// <c>RpcGen:Topology:Exchanges:NAME</c>): a mode alone (<c>UseExisting</c>), or a section with <c>Mode</c>,
/// <c>Durable</c> and <c>Arguments:KEY</c>, whose values are read as whole numbers, <c>true</c>/<c>false</c> or text.
/// </summary>
internal static class TopologyConfiguration
{
    public static RpcQueueTopology ReadQueue(IConfigurationSection entry)
    {
        var (mode, durable, arguments) = Read(entry);
        if (mode != RpcTopologyMode.DeclareAsGiven) return mode == RpcTopologyMode.UseExisting ? RpcQueueTopology.UseExisting : RpcQueueTopology.Declare;
        var topology = new RpcQueueTopology { Mode = mode, Durable = durable };
        foreach (var (name, value) in arguments) topology.Arguments[name] = value;
        return topology;
    }

    public static RpcExchangeTopology ReadExchange(IConfigurationSection entry)
    {
        var (mode, durable, arguments) = Read(entry);
        if (mode != RpcTopologyMode.DeclareAsGiven) return mode == RpcTopologyMode.UseExisting ? RpcExchangeTopology.UseExisting : RpcExchangeTopology.Declare;
        var topology = new RpcExchangeTopology { Mode = mode, Durable = durable };
        foreach (var (name, value) in arguments) topology.Arguments[name] = value;
        return topology;
    }

    private static (RpcTopologyMode Mode, bool Durable, Dictionary<string, object?> Arguments) Read(IConfigurationSection entry)
    {
        var arguments = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (entry.Value is not null) return (ReadMode(entry), true, arguments);

        var mode = RpcTopologyMode.Declare;
        bool durable = true;
        foreach (var child in entry.GetChildren())
        {
            if (string.Equals(child.Key, nameof(RpcQueueTopology.Mode), StringComparison.OrdinalIgnoreCase) && child.Value is not null)
            {
                mode = ReadMode(child);
            }
            else if (string.Equals(child.Key, nameof(RpcQueueTopology.Durable), StringComparison.OrdinalIgnoreCase) && child.Value is not null)
            {
                durable = bool.TryParse(child.Value.Trim(), out var value)
                    ? value
                    : throw new InvalidOperationException($"Configuration key '{child.Path}' is '{child.Value}'; expected true or false.");
            }
            else if (string.Equals(child.Key, nameof(RpcQueueTopology.Arguments), StringComparison.OrdinalIgnoreCase) && child.Value is null)
            {
                foreach (var argument in child.GetChildren()) arguments[argument.Key] = ReadArgument(argument);
            }
            else
            {
                throw new InvalidOperationException(
                    $"Configuration key '{child.Path}' is not a topology setting; the section holds Mode, Durable and Arguments (a section: '{entry.Path}:Arguments:x-queue-type').");
            }
        }

        if (mode != RpcTopologyMode.DeclareAsGiven && (!durable || arguments.Count > 0))
        {
            throw new InvalidOperationException($"Configuration section '{entry.Path}' sets Durable or Arguments, which only Mode DeclareAsGiven uses; its Mode is {mode}.");
        }

        return (mode, durable, arguments);
    }

    private static RpcTopologyMode ReadMode(IConfigurationSection entry) =>
        Enum.TryParse<RpcTopologyMode>(entry.Value?.Trim(), ignoreCase: true, out var mode) && Enum.IsDefined(mode)
            ? mode
            : throw new InvalidOperationException($"Configuration key '{entry.Path}' is '{entry.Value}'; expected Declare, UseExisting or DeclareAsGiven.");

    /// <summary>An AMQP argument: RabbitMQ wants numbers as numbers (<c>x-max-length</c>) and flags as booleans.</summary>
    private static object? ReadArgument(IConfigurationSection argument)
    {
        if (argument.Value is null)
        {
            throw new InvalidOperationException($"Configuration key '{argument.Path}' must be a single value (a number, true/false or text), not a section.");
        }

        var text = argument.Value.Trim();
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)) return number;
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var large)) return large;
        if (bool.TryParse(text, out var flag)) return flag;
        return argument.Value;
    }
}
