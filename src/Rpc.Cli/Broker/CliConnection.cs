using System;
using System.Threading;
using System.Threading.Tasks;

namespace RpcGen.Cli.Broker;

/// <summary>Opens the RpcConnection a verb works on, and says plainly when the broker cannot be reached.</summary>
internal static class CliConnection
{
    public static async Task<RpcConnection> ConnectAsync(BrokerAddress address, string verb, CancellationToken cancellationToken,
        Action<RpcConnectionOptions>? configure = null)
    {
        var options = new RpcConnectionOptions
        {
            Uri = address.Uri,
            ConnectionName = "rpcgen " + verb,
            QueuePrefix = address.Prefix,
            JsonSerializerOptions = CliJson.Options,
        };
        configure?.Invoke(options);
        try
        {
            return await RpcConnection.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcConnectionException e)
        {
            throw new CliException(ExitCodes.Unavailable, $"cannot reach the broker at {address.Display}: {address.Scrub(e.Message)}");
        }
    }
}
