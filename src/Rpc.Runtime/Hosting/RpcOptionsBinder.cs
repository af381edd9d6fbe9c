using System;
using System.Collections.Generic;
using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace RpcGen.Hosting;

/// <summary>
/// Binds the <c>RpcGen</c> configuration section onto <see cref="RpcConnectionOptions"/> and its role options without
/// reflection, so it works trimmed and AOT: <c>RpcGen:Uri</c>, <c>RpcGen:Client:DefaultTimeout</c>,
/// <c>RpcGen:Server:Prefetch</c>, <c>RpcGen:Topology:QueueType</c>, and per service <c>RpcGen:Servers:{Name}:Prefetch</c>.
/// An unknown key or an unreadable value is an error naming the key: a typo never goes unnoticed.
/// </summary>
internal static class RpcOptionsBinder
{
    public const string SectionName = "RpcGen";

    /// <summary>The section of per-service server options, <c>Servers:{ServiceName}</c>, read when each server starts.</summary>
    public const string ServersSection = "Servers";

    public static readonly OptionKeys<RpcClientOptions> Client = new("RpcClientOptions", new()
    {
        [nameof(RpcClientOptions.DefaultTimeout)] = (options, value) => options.DefaultTimeout = ReadTimeSpan(value, "00:00:30"),
        [nameof(RpcClientOptions.ServerCheckDelay)] = (options, value) => options.ServerCheckDelay = ReadTimeSpan(value, "00:00:01"),
        [nameof(RpcClientOptions.WaitForReady)] = (options, value) => options.WaitForReady = ReadBool(value),
        [nameof(RpcClientOptions.BatchCalls)] = (options, value) => options.BatchCalls = ReadBool(value),
        [nameof(RpcClientOptions.MaxBatchSize)] = (options, value) => options.MaxBatchSize = Read<int>(value, "a whole number of calls from 2 to 1024", int.TryParse),
        [nameof(RpcClientOptions.MaxBatchedBodySize)] = (options, value) => options.MaxBatchedBodySize = Read<int>(value, "a number of bytes", int.TryParse),
        [nameof(RpcClientOptions.StreamWindow)] = (options, value) => options.StreamWindow = Read<int>(value, "a whole number of items, from 1 to 65536", int.TryParse),
        [nameof(RpcClientOptions.StreamIdleTimeout)] = (options, value) => options.StreamIdleTimeout = ReadTimeSpan(value, "00:00:30"),
        [nameof(RpcClientOptions.FailUnroutableEvents)] = (options, value) => options.FailUnroutableEvents = ReadBool(value),
        [nameof(RpcClientOptions.ReplyQueue)] = (options, value) => options.ReplyQueue = ReadReplyQueue(value),
    }, new());

    public static readonly OptionKeys<RpcServerOptions> Server = new("RpcServerOptions", new()
    {
        [nameof(RpcServerOptions.Prefetch)] = (options, value) => options.Prefetch = Read<ushort>(value, "a whole number from 1 to 65535", ushort.TryParse),
        [nameof(RpcServerOptions.DrainTimeout)] = (options, value) => options.DrainTimeout = ReadTimeSpan(value, "00:00:30"),
        [nameof(RpcServerOptions.RetryLimit)] = (options, value) => options.RetryLimit = Read<int>(value, "a whole number of retries, 0 or more", int.TryParse),
        [nameof(RpcServerOptions.RetryBackoff)] = (options, value) => options.RetryBackoff = ReadTimeSpan(value, "00:00:01"),
        [nameof(RpcServerOptions.MaxRetryBackoff)] = (options, value) => options.MaxRetryBackoff = ReadTimeSpan(value, "00:00:30"),
        [nameof(RpcServerOptions.MaxRequestBodySize)] = (options, value) => options.MaxRequestBodySize = Read<int>(value, "a number of bytes", int.TryParse),
        [nameof(RpcServerOptions.IncludeExceptionDetails)] = (options, value) => options.IncludeExceptionDetails = ReadBool(value),
        [nameof(RpcServerOptions.ClockSkewTolerance)] = (options, value) => options.ClockSkewTolerance = ReadTimeSpan(value, "00:00:01"),
        [nameof(RpcServerOptions.MaxStreamWindow)] = (options, value) => options.MaxStreamWindow = Read<int>(value, "a whole number of items, at least 1", int.TryParse),
        [nameof(RpcServerOptions.StreamBatchSize)] = (options, value) => options.StreamBatchSize = Read<int>(value, "a whole number of items, at least 1", int.TryParse),
        [nameof(RpcServerOptions.StreamIdleTimeout)] = (options, value) => options.StreamIdleTimeout = ReadTimeSpan(value, "00:00:30"),
    }, new()
    {
        [nameof(RpcServerOptions.AllowedReplyQueuePrefixes)] = (options, section) =>
        {
            var prefixes = new List<string>();
            foreach (var entry in section.GetChildren())
            {
                if (!string.IsNullOrEmpty(entry.Value)) prefixes.Add(entry.Value);
            }

            options.AllowedReplyQueuePrefixes = prefixes;
        },
    });

    public static readonly OptionKeys<RpcTopologyOptions> Topology = new("RpcTopologyOptions", new()
    {
        [nameof(RpcTopologyOptions.QueueType)] = (options, value) => options.QueueType = ReadQueueType(value),
        [nameof(RpcTopologyOptions.QuorumDeliveryLimit)] = (options, value) => options.QuorumDeliveryLimit = Read<int>(value, "a whole number of deliveries, at least 1", int.TryParse),
    }, new()
    {
        [nameof(RpcTopologyOptions.QueueTypes)] = (options, section) =>
        {
            foreach (var entry in section.GetChildren()) options.QueueTypes[entry.Key] = ReadQueueType(entry);
        },
        [nameof(RpcTopologyOptions.Queues)] = (options, section) =>
        {
            foreach (var entry in section.GetChildren()) options.Queues[entry.Key] = TopologyConfiguration.ReadQueue(entry);
        },
        [nameof(RpcTopologyOptions.Exchanges)] = (options, section) =>
        {
            foreach (var entry in section.GetChildren()) options.Exchanges[entry.Key] = TopologyConfiguration.ReadExchange(entry);
        },
    });

    public static readonly OptionKeys<RpcConnectionOptions> Connection = new("RpcConnectionOptions", new()
    {
        [nameof(RpcConnectionOptions.Uri)] = (options, value) => options.Uri = ReadUri(value),
        [nameof(RpcConnectionOptions.Heartbeat)] = (options, value) => options.Heartbeat = ReadTimeSpan(value, "00:00:10"),
        [nameof(RpcConnectionOptions.ConnectionName)] = (options, value) => options.ConnectionName = value.Value,
        [nameof(RpcConnectionOptions.QueuePrefix)] = (options, value) => options.QueuePrefix = value.Value ?? string.Empty,
        [nameof(RpcConnectionOptions.MaxMessageSize)] = (options, value) => options.MaxMessageSize = Read<int>(value, "a number of bytes", int.TryParse),
    }, new()
    {
        [nameof(RpcConnectionOptions.Uris)] = (options, section) =>
        {
            // RpcGen:Uris:0, RpcGen:Uris:1, ...: configuration sorts the indexes numerically.
            var uris = new List<Uri>();
            foreach (var entry in section.GetChildren()) uris.Add(ReadUri(entry));
            options.Uris = uris;
        },
        [nameof(RpcConnectionOptions.Client)] = (options, section) => Client.Bind(section, options.Client),
        [nameof(RpcConnectionOptions.Server)] = (options, section) => Server.Bind(section, options.Server),
        [nameof(RpcConnectionOptions.Topology)] = (options, section) => Topology.Bind(section, options.Topology),
    });

    /// <param name="section">The connection's section.</param>
    /// <param name="options">The options to set.</param>
    /// <param name="isDefaultSection">The <c>RpcGen</c> section itself, whose <c>Connections</c> child holds the named connections' sections.</param>
    public static void Bind(IConfiguration section, RpcConnectionOptions options, bool isDefaultSection = true) =>
        Connection.Bind(section, options, key =>
            (isDefaultSection && string.Equals(key, RpcConnectionDefinition.ConnectionsSection, StringComparison.OrdinalIgnoreCase))
            || string.Equals(key, ServersSection, StringComparison.OrdinalIgnoreCase));

    /// <summary>Binds <c>{connection section}:Servers:{service}</c>, if present, onto one server's options.</summary>
    public static void BindServer(IConfiguration connectionSection, string service, RpcServerOptions options)
    {
        var servers = connectionSection.GetSection(ServersSection);
        foreach (var entry in servers.GetChildren())
        {
            if (entry.Value is not null)
            {
                throw new InvalidOperationException($"Configuration key '{entry.Path}' must be a section of server options ('{entry.Path}:Prefetch', ...), not a single value.");
            }
        }

        Server.Bind(servers.GetSection(service), options);
    }

    /// <summary>The configuration keys of one options class: single values, and sections (lists, maps or nested options).</summary>
    internal sealed class OptionKeys<T>(string typeName, Dictionary<string, Action<T, IConfigurationSection>> values,
        Dictionary<string, Action<T, IConfigurationSection>> sections)
    {
        private readonly Dictionary<string, Action<T, IConfigurationSection>> _values = new(values, StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, Action<T, IConfigurationSection>> _sections = new(sections, StringComparer.OrdinalIgnoreCase);

        /// <summary>The keys of single values the section may hold.</summary>
        public IReadOnlyCollection<string> ValueKeys => _values.Keys;

        /// <summary>The keys of sections the section may hold.</summary>
        public IReadOnlyCollection<string> SectionKeys => _sections.Keys;

        public void Bind(IConfiguration section, T options, Func<string, bool>? skip = null)
        {
            foreach (var child in section.GetChildren())
            {
                if (skip is not null && skip(child.Key)) continue;
                if (_sections.TryGetValue(child.Key, out var bindSection))
                {
                    if (child.Value is not null)
                    {
                        throw new InvalidOperationException(
                            $"Configuration key '{child.Path}' must be a section ('{child.Path}:0', '{child.Path}:1', ... or '{child.Path}:NAME'), not a single value.");
                    }

                    bindSection(options, child);
                    continue;
                }

                if (!_values.TryGetValue(child.Key, out var set))
                {
                    throw new InvalidOperationException(
                        $"Configuration key '{child.Path}' is not an RpcGen option.{MovedTo(child)} The section holds {typeName}: {string.Join(", ", [.. _values.Keys, .. _sections.Keys])}.");
                }

                if (child.Value is null)
                {
                    throw new InvalidOperationException($"Configuration key '{child.Path}' must be a single value, not a section.");
                }

                set(options, child);
            }
        }
    }

    /// <summary>For a key in the wrong role's section, or a 0.x key that moved into one (<c>RpcGen:Prefetch</c>): where it is now.</summary>
    private static string MovedTo(IConfigurationSection child)
    {
        var segments = child.Path.Split(ConfigurationPath.KeyDelimiter);
        // The connection's section: the key's parent, less a role section (Client, Server, Topology) or Servers:{name}.
        var parent = segments.Length - 1;
        if (parent >= 2 && string.Equals(segments[parent - 2], ServersSection, StringComparison.OrdinalIgnoreCase)) parent -= 2;
        else if (parent >= 1 && IsRole(segments[parent - 1])) parent -= 1;
        var connection = string.Join(ConfigurationPath.KeyDelimiter, segments, 0, parent);
        foreach (var (role, keys) in new (string, IReadOnlyCollection<string>)[]
                 {
                     (nameof(RpcConnectionOptions.Client), [.. Client.ValueKeys, .. Client.SectionKeys]),
                     (nameof(RpcConnectionOptions.Server), [.. Server.ValueKeys, .. Server.SectionKeys]),
                     (nameof(RpcConnectionOptions.Topology), [.. Topology.ValueKeys, .. Topology.SectionKeys]),
                 })
        {
            foreach (var key in keys)
            {
                if (string.Equals(key, child.Key, StringComparison.OrdinalIgnoreCase))
                {
                    return $" It is now '{connection}{ConfigurationPath.KeyDelimiter}{role}{ConfigurationPath.KeyDelimiter}{key}'.";
                }
            }
        }

        return string.Empty;
    }

    private static bool IsRole(string key) =>
        string.Equals(key, nameof(RpcConnectionOptions.Client), StringComparison.OrdinalIgnoreCase)
        || string.Equals(key, nameof(RpcConnectionOptions.Server), StringComparison.OrdinalIgnoreCase)
        || string.Equals(key, nameof(RpcConnectionOptions.Topology), StringComparison.OrdinalIgnoreCase);

    private delegate bool Parser<T>(string text, IFormatProvider provider, out T value);

    private static T Read<T>(IConfigurationSection entry, string expected, Parser<T> parse) =>
        parse(entry.Value!.Trim(), CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidOperationException($"Configuration key '{entry.Path}' is '{entry.Value}'; expected {expected}.");

    private static TimeSpan ReadTimeSpan(IConfigurationSection entry, string example) =>
        Read<TimeSpan>(entry, "a time span such as " + example, TimeSpan.TryParse);

    private static bool ReadBool(IConfigurationSection entry) =>
        bool.TryParse(entry.Value!.Trim(), out var value)
            ? value
            : throw new InvalidOperationException($"Configuration key '{entry.Path}' is '{entry.Value}'; expected true or false.");

    private static RpcQueueType ReadQueueType(IConfigurationSection entry) =>
        Enum.TryParse<RpcQueueType>(entry.Value?.Trim(), ignoreCase: true, out var type) && Enum.IsDefined(type)
            ? type
            : throw new InvalidOperationException($"Configuration key '{entry.Path}' is '{entry.Value}'; expected Classic or Quorum.");

    private static RpcReplyQueue ReadReplyQueue(IConfigurationSection entry) =>
        Enum.TryParse<RpcReplyQueue>(entry.Value?.Trim(), ignoreCase: true, out var choice) && Enum.IsDefined(choice)
            ? choice
            : throw new InvalidOperationException($"Configuration key '{entry.Path}' is '{entry.Value}'; expected Automatic, DirectReplyTo or ServerNamedQueue.");

    private static Uri ReadUri(IConfigurationSection entry) => ReadUri(entry.Path, entry.Value!);

    /// <summary>Reads a broker URI from configuration key <paramref name="path"/> (a section key or a connection string).</summary>
    public static Uri ReadUri(string path, string value)
    {
        if (Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == "amqp" || uri.Scheme == "amqps")) return uri;
        // The value may hold a password: name the key, never echo the value.
        throw new InvalidOperationException(
            $"Configuration key '{path}' is not an absolute amqp:// or amqps:// URI (e.g. amqp://user:password@host:5672/vhost).");
    }
}
