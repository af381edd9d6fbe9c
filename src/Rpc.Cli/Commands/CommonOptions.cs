using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using RpcGen.Cli.Broker;
using RpcGen.Cli.Contracts;

namespace RpcGen.Cli.Commands;

/// <summary>The options every verb takes (--amqp, --user, --contract), and the parsing they share.</summary>
internal sealed class CommonOptions
{
    public Option<string?> Amqp { get; } = new("--amqp")
    {
        Description = $"Broker URI, e.g. amqp://guest:guest@localhost:5672/ (default: ${BrokerAddress.EnvironmentVariable}, else that URI). Never printed with its password.",
        Recursive = true,
    };

    public Option<string?> User { get; } = new("--user")
    {
        Description = "Connect as USER[:PASSWORD] instead of the URI's user; calls carry it as user_id, which servers see as RpcContext.UserId.",
        Recursive = true,
    };

    public Option<string[]> Contracts { get; } = new("--contract", "-c")
    {
        Description = $"AsyncAPI document RpcGen wrote, or a directory of them; repeatable (default: ${ContractSet.EnvironmentVariable}, else ./asyncapi or ./*.asyncapi.json).",
        Recursive = true,
    };

    public Option<string?> Prefix { get; } = new("--prefix")
    {
        Description = "The RpcConnectionOptions.QueuePrefix the services run with: put in front of every queue and exchange name (default: $RPCGEN_QUEUE_PREFIX, else none).",
        Recursive = true,
    };

    public void AddTo(RootCommand root)
    {
        root.Add(Amqp);
        root.Add(Prefix);
        root.Add(User);
        root.Add(Contracts);
    }

    public BrokerAddress Address(ParseResult result) =>
        BrokerAddress.Resolve(result.GetValue(Amqp), result.GetValue(User), result.GetValue(Prefix) ?? Environment.GetEnvironmentVariable("RPCGEN_QUEUE_PREFIX") ?? string.Empty);

    public ContractSet LoadContracts(ParseResult result, IReadOnlyList<string>? more = null)
    {
        var paths = new List<string>(result.GetValue(Contracts) ?? Array.Empty<string>());
        if (more is not null) paths.AddRange(more);
        return ContractSet.Load(paths);
    }

    /// <summary>"250ms", "5s", "2m", "1h", a number of seconds, or hh:mm:ss.</summary>
    public static TimeSpan? Duration(string? text, string option)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        text = text.Trim();
        TimeSpan value;
        if (text.EndsWith("ms", StringComparison.Ordinal) && double.TryParse(text[..^2], NumberStyles.Float, CultureInfo.InvariantCulture, out var ms)) value = TimeSpan.FromMilliseconds(ms);
        else if (text.EndsWith('s') && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var s)) value = TimeSpan.FromSeconds(s);
        else if (text.EndsWith('m') && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var m)) value = TimeSpan.FromMinutes(m);
        else if (text.EndsWith('h') && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var h)) value = TimeSpan.FromHours(h);
        else if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)) value = TimeSpan.FromSeconds(seconds);
        else if (!TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value))
        {
            throw new CliException(ExitCodes.Usage, $"{option} '{text}' is not a duration: use e.g. 250ms, 5s, 2m.");
        }

        if (value <= TimeSpan.Zero) throw new CliException(ExitCodes.Usage, $"{option} must be positive.");
        return value;
    }

    /// <summary>--deadline: an ISO 8601 time (2026-12-07T09:00:00Z), or a duration from now.</summary>
    public static DateTimeOffset? Deadline(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)) return at;
        return DateTimeOffset.UtcNow + Duration(text, "--deadline")!.Value;
    }

    /// <summary>--header k=v, repeatable.</summary>
    public static Dictionary<string, string>? Headers(string[]? pairs)
    {
        if (pairs is null || pairs.Length == 0) return null;
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            int equals = pair.IndexOf('=');
            if (equals <= 0) throw new CliException(ExitCodes.Usage, $"--header '{pair}' is not NAME=VALUE.");
            var name = pair[..equals];
            if (name.StartsWith("rpc-", StringComparison.Ordinal) || name is "traceparent" or "tracestate")
            {
                throw new CliException(ExitCodes.Usage, $"--header '{name}' is reserved by RpcGen (rpc-*, traceparent, tracestate); choose another name.");
            }

            headers[name] = pair[(equals + 1)..];
        }

        return headers;
    }
}
