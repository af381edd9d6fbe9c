using System.Globalization;
using System.Text.RegularExpressions;
using System.Threading;

namespace RpcGen.Transport;

/// <summary>
/// What a server knows of the broker's <c>max_message_size</c>, which AMQP 0-9-1 does not announce. A message over it
/// makes RabbitMQ close the publishing channel with 406 "message size N is larger than configured max size M"
/// (<c>rabbit_channel:check_msg_size</c>, 3.8 to 4.x; "larger than max size M" at the 512 MiB hard limit): the limit is
/// read from that text. Until then every size the broker delivered to this server, and 1 MiB, are taken as accepted.
/// </summary>
internal sealed partial class BrokerMessageLimit
{
    /// <summary>A size every broker is taken to accept before one says otherwise: no one runs RabbitMQ with a lower limit.</summary>
    public const int AssumedAccepted = 1024 * 1024;

    private long _accepted = AssumedAccepted;
    private long _limit = -1;

    /// <summary>The broker's limit, once a refusal named it.</summary>
    public long? Known => Volatile.Read(ref _limit) is >= 0 and var limit ? limit : null;

    /// <summary>The broker delivered a message body of <paramref name="size"/> bytes, so it takes that much.</summary>
    public void Delivered(int size)
    {
        // Larger than the limit it named: an operator raised it since.
        if (size > Volatile.Read(ref _limit) && Volatile.Read(ref _limit) >= 0) Volatile.Write(ref _limit, -1);
        long accepted;
        while (size > (accepted = Volatile.Read(ref _accepted)))
        {
            if (Interlocked.CompareExchange(ref _accepted, size, accepted) == accepted) return;
        }
    }

    /// <summary>Whether the broker may refuse a body of <paramref name="size"/> bytes: larger than any it is known to take.</summary>
    public bool MayRefuse(int size) => size > Volatile.Read(ref _accepted);

    /// <summary>Reads the limit from a channel's close text; false when the close was about something else.</summary>
    public bool TryLearn(string? closeText)
    {
        if (closeText is null || LimitPattern().Match(closeText) is not { Success: true } match
            || !long.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var limit))
        {
            return false;
        }

        Volatile.Write(ref _limit, limit);
        Volatile.Write(ref _accepted, limit);
        return true;
    }

    [GeneratedRegex(@"larger than (?:configured )?max size (\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex LimitPattern();
}
