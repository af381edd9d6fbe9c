using System;
using System.Collections.Generic;
using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace RpcGen.Hosting;

/// <summary>
/// Binds the <c>RpcGen</c> configuration section onto <see cref="RpcOptions"/> without reflection, so it works trimmed
/// and AOT. An unknown key or an unreadable value is an error naming the key: a typo never goes unnoticed.
/// </summary>
internal static class RpcOptionsBinder
{
    public const string SectionName = "RpcGen";

    private static readonly Dictionary<string, Action<RpcOptions, IConfigurationSection>> s_setters = new(StringComparer.OrdinalIgnoreCase)
    {
        [nameof(RpcOptions.Uri)] = (options, value) => options.Uri = ReadUri(value),
        [nameof(RpcOptions.DefaultTimeout)] = (options, value) => options.DefaultTimeout = Read<TimeSpan>(value, "a time span such as 00:00:30", TimeSpan.TryParse),
        [nameof(RpcOptions.Prefetch)] = (options, value) => options.Prefetch = Read<ushort>(value, "a whole number from 1 to 65535", ushort.TryParse),
        [nameof(RpcOptions.MaxRequestBodySize)] = (options, value) => options.MaxRequestBodySize = Read<int>(value, "a number of bytes", int.TryParse),
        [nameof(RpcOptions.MaxMessageSize)] = (options, value) => options.MaxMessageSize = Read<int>(value, "a number of bytes", int.TryParse),
        [nameof(RpcOptions.Heartbeat)] = (options, value) => options.Heartbeat = Read<TimeSpan>(value, "a time span such as 00:00:10", TimeSpan.TryParse),
        [nameof(RpcOptions.IncludeExceptionDetails)] = (options, value) => options.IncludeExceptionDetails = ReadBool(value),
        [nameof(RpcOptions.ClockSkewTolerance)] = (options, value) => options.ClockSkewTolerance = Read<TimeSpan>(value, "a time span such as 00:00:01", TimeSpan.TryParse),
        [nameof(RpcOptions.DrainTimeout)] = (options, value) => options.DrainTimeout = Read<TimeSpan>(value, "a time span such as 00:00:30", TimeSpan.TryParse),
        [nameof(RpcOptions.ServerCheckDelay)] = (options, value) => options.ServerCheckDelay = Read<TimeSpan>(value, "a time span such as 00:00:01", TimeSpan.TryParse),
        [nameof(RpcOptions.WaitForReady)] = (options, value) => options.WaitForReady = ReadBool(value),
        [nameof(RpcOptions.FailUnroutableEvents)] = (options, value) => options.FailUnroutableEvents = ReadBool(value),
        [nameof(RpcOptions.RetryLimit)] = (options, value) => options.RetryLimit = Read<int>(value, "a whole number of retries, 0 or more", int.TryParse),
        [nameof(RpcOptions.RetryBackoff)] = (options, value) => options.RetryBackoff = Read<TimeSpan>(value, "a time span such as 00:00:01", TimeSpan.TryParse),
        [nameof(RpcOptions.MaxRetryBackoff)] = (options, value) => options.MaxRetryBackoff = Read<TimeSpan>(value, "a time span such as 00:00:30", TimeSpan.TryParse),
        [nameof(RpcOptions.QueuePrefix)] = (options, value) => options.QueuePrefix = value.Value ?? string.Empty,
        [nameof(RpcOptions.ConnectionName)] = (options, value) => options.ConnectionName = value.Value,
        [nameof(RpcOptions.QueueType)] = (options, value) => options.QueueType = ReadQueueType(value),
        [nameof(RpcOptions.StreamWindow)] = (options, value) => options.StreamWindow = Read<int>(value, "a whole number of items, from 1 to 65536", int.TryParse),
        [nameof(RpcOptions.StreamBatchSize)] = (options, value) => options.StreamBatchSize = Read<int>(value, "a whole number of items, at least 1", int.TryParse),
        [nameof(RpcOptions.StreamIdleTimeout)] = (options, value) => options.StreamIdleTimeout = Read<TimeSpan>(value, "a time span such as 00:00:30", TimeSpan.TryParse),
        [nameof(RpcOptions.BatchCalls)] = (options, value) => options.BatchCalls = ReadBool(value),
        [nameof(RpcOptions.MaxBatchSize)] = (options, value) => options.MaxBatchSize = Read<int>(value, "a whole number of calls from 2 to 1024", int.TryParse),
        [nameof(RpcOptions.MaxBatchedBodySize)] = (options, value) => options.MaxBatchedBodySize = Read<int>(value, "a number of bytes", int.TryParse),
        [nameof(RpcOptions.QuorumDeliveryLimit)] = (options, value) => options.QuorumDeliveryLimit = Read<int>(value, "a whole number of deliveries, at least 1", int.TryParse),
        [nameof(RpcOptions.MaxStreamWindow)] = (options, value) => options.MaxStreamWindow = Read<int>(value, "a whole number of items, at least 1", int.TryParse),
    };

    /// <summary>The keys that hold a section (a list or a map) rather than one value.</summary>
    private static readonly Dictionary<string, Action<RpcOptions, IConfigurationSection>> s_sections = new(StringComparer.OrdinalIgnoreCase)
    {
        [nameof(RpcOptions.Uris)] = (options, section) =>
        {
            // RpcGen:Uris:0, RpcGen:Uris:1, ...: configuration sorts the indexes numerically.
            var uris = new List<Uri>();
            foreach (var entry in section.GetChildren()) uris.Add(ReadUri(entry));
            options.Uris = uris;
        },
        [nameof(RpcOptions.AllowedReplyQueuePrefixes)] = (options, section) =>
        {
            var prefixes = new List<string>();
            foreach (var entry in section.GetChildren())
            {
                if (!string.IsNullOrEmpty(entry.Value)) prefixes.Add(entry.Value);
            }

            options.AllowedReplyQueuePrefixes = prefixes;
        },
        [nameof(RpcOptions.QueueTypes)] = (options, section) =>
        {
            foreach (var entry in section.GetChildren()) options.QueueTypes[entry.Key] = ReadQueueType(entry);
        },
        [nameof(RpcOptions.RetryBackoffs)] = (options, section) =>
        {
            foreach (var entry in section.GetChildren())
            {
                options.RetryBackoffs[entry.Key] = Read<TimeSpan>(entry, "a time span such as 00:00:01", TimeSpan.TryParse);
            }
        },
    };

    /// <summary>The keys of single values the section may hold (besides the sections Uris and QueueTypes).</summary>
    public static IReadOnlyCollection<string> Keys => s_setters.Keys;

    /// <param name="section">The connection's section.</param>
    /// <param name="options">The options to set.</param>
    /// <param name="isDefaultSection">The <c>RpcGen</c> section itself, whose <c>Connections</c> child holds the named connections' sections.</param>
    public static void Bind(IConfiguration section, RpcOptions options, bool isDefaultSection = true)
    {
        foreach (var child in section.GetChildren())
        {
            if (isDefaultSection && string.Equals(child.Key, RpcConnectionDefinition.ConnectionsSection, StringComparison.OrdinalIgnoreCase)) continue;
            if (s_sections.TryGetValue(child.Key, out var bindSection))
            {
                if (child.Value is not null)
                {
                    throw new InvalidOperationException(
                        $"Configuration key '{child.Path}' must be a section ('{child.Path}:0', '{child.Path}:1', ... or '{child.Path}:NAME'), not a single value.");
                }

                bindSection(options, child);
                continue;
            }

            if (!s_setters.TryGetValue(child.Key, out var set))
            {
                throw new InvalidOperationException(
                    $"Configuration key '{child.Path}' is not an RpcGen option. The '{SectionName}' section may hold: {string.Join(", ", [.. s_setters.Keys, .. s_sections.Keys])}.");
            }

            if (child.Value is null)
            {
                throw new InvalidOperationException($"Configuration key '{child.Path}' must be a single value, not a section.");
            }

            set(options, child);
        }
    }

    private delegate bool Parser<T>(string text, IFormatProvider provider, out T value);

    private static T Read<T>(IConfigurationSection entry, string expected, Parser<T> parse) =>
        parse(entry.Value!.Trim(), CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidOperationException($"Configuration key '{entry.Path}' is '{entry.Value}'; expected {expected}.");

    private static bool ReadBool(IConfigurationSection entry) =>
        bool.TryParse(entry.Value!.Trim(), out var value)
            ? value
            : throw new InvalidOperationException($"Configuration key '{entry.Path}' is '{entry.Value}'; expected true or false.");

    private static RpcQueueType ReadQueueType(IConfigurationSection entry) =>
        Enum.TryParse<RpcQueueType>(entry.Value?.Trim(), ignoreCase: true, out var type) && Enum.IsDefined(type)
            ? type
            : throw new InvalidOperationException($"Configuration key '{entry.Path}' is '{entry.Value}'; expected Classic or Quorum.");

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
