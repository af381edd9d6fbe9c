using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace RpcGen.Transport;

/// <summary>Opens the AMQP connection: the only place that builds a <see cref="ConnectionFactory"/>.</summary>
internal static class AmqpConnector
{
    public static async Task<IConnection> ConnectAsync(RpcOptions options, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory
        {
            Uri = options.Uri,
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
            NetworkRecoveryInterval = TimeSpan.FromSeconds(1),
            RequestedHeartbeat = options.Heartbeat,
            ClientProvidedName = options.ConnectionName ?? "RpcGen " + Process.GetCurrentProcess().ProcessName,
        };

        // An amqps:// URI already turns TLS on with the URI's host as the expected server name.
        if (factory.Ssl.Enabled)
        {
            if (options.ServerCertificateValidation is not null) factory.Ssl.CertificateValidationCallback = options.ServerCertificateValidation;
            if (options.ClientCertificates is not null) factory.Ssl.Certs = options.ClientCertificates;
        }

        try
        {
            return await factory.CreateConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (BrokerUnreachableException e)
        {
            throw new RpcConnectionException($"Cannot reach RabbitMQ at {MaskPassword(options.Uri)}: {Describe(e)}", innerException: e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new RpcConnectionException($"Cannot connect to RabbitMQ at {MaskPassword(options.Uri)}: {Describe(e)}", innerException: e);
        }
    }

    /// <summary>The user the connection authenticates as, exactly as RabbitMQ.Client reads it from the URI (guest when none).</summary>
    public static string UserNameOf(Uri uri) => new ConnectionFactory { Uri = uri }.UserName;

    /// <summary>Prints a broker URI with its password replaced by <c>***</c>, for messages and logs.</summary>
    public static string MaskPassword(Uri uri)
    {
        var userInfo = uri.UserInfo;
        if (string.IsNullOrEmpty(userInfo)) return uri.ToString();
        var colon = userInfo.IndexOf(':');
        var masked = colon < 0 ? userInfo : userInfo.Substring(0, colon) + ":***";
        return new UriBuilder(uri) { UserName = null, Password = null }.Uri.ToString().Replace("://", "://" + masked + "@", StringComparison.Ordinal);
    }

    /// <summary>The innermost message, which is the one that says what went wrong (refused, auth, DNS).</summary>
    private static string Describe(Exception e)
    {
        var inner = e;
        while (inner.InnerException is not null) inner = inner.InnerException;
        return inner is AuthenticationFailureException or PossibleAuthenticationFailureException
            ? "authentication failed (check user name and password)"
            : inner.Message;
    }
}
