using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace RpcGen.Transport;

/// <summary>Opens the AMQP connection: the only place that builds a <see cref="ConnectionFactory"/>.</summary>
internal static class AmqpConnector
{
    public static async Task<IConnection> ConnectAsync(RpcSettings options, CancellationToken cancellationToken, TopologyRecoveryFilter? recoveryFilter = null)
    {
        var nodes = options.NodeUris;
        var factory = new ConnectionFactory
        {
            // User, password and virtual host come from the first node's URI; Validate made sure the others agree.
            Uri = nodes[0],
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
            NetworkRecoveryInterval = TimeSpan.FromSeconds(1),
            RequestedHeartbeat = options.Heartbeat,
            ClientProvidedName = options.ConnectionName ?? "RpcGen " + Process.GetCurrentProcess().ProcessName,
        };
        if (recoveryFilter is not null) factory.TopologyRecoveryFilter = recoveryFilter;

        // An amqps:// URI already turns TLS on with the URI's host as the expected server name.
        if (factory.Ssl.Enabled)
        {
            if (options.ServerCertificateValidation is not null) factory.Ssl.CertificateValidationCallback = options.ServerCertificateValidation;
            if (options.ClientCertificates is not null) factory.Ssl.Certs = options.ClientCertificates;
        }

        try
        {
            if (nodes.Count == 1) return await factory.CreateConnectionAsync(cancellationToken).ConfigureAwait(false);
            // RabbitMQ.Client tries the endpoints in random order, at first and again at every recovery, so clients
            // spread over the nodes and a lost node is left for the next one that answers.
            var endpoints = new List<AmqpTcpEndpoint>(nodes.Count);
            foreach (var node in nodes) endpoints.Add(EndpointFor(node, factory.Ssl));
            return await factory.CreateConnectionAsync(endpoints, factory.ClientProvidedName, cancellationToken).ConfigureAwait(false);
        }
        catch (BrokerUnreachableException e)
        {
            throw new RpcConnectionException($"Cannot reach RabbitMQ at {Describe(nodes)}: {Describe(e)}", innerException: e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new RpcConnectionException($"Cannot connect to RabbitMQ at {Describe(nodes)}: {Describe(e)}", innerException: e);
        }
    }

    /// <summary>
    /// The node a connection is on, as the URI of <see cref="RpcSettings.NodeUris"/> that matches its endpoint (password
    /// masked), for the log; host:port when none matches.
    /// </summary>
    public static string NodeOf(IConnection connection, RpcSettings options)
    {
        var endpoint = connection.Endpoint;
        foreach (var node in options.NodeUris)
        {
            if (string.Equals(node.Host, endpoint.HostName, StringComparison.OrdinalIgnoreCase) && PortOf(node) == endpoint.Port) return MaskPassword(node);
        }

        return endpoint.HostName + ":" + endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>An endpoint per node; TLS settings are the factory's (made from the first URI) with each node's own host name to verify.</summary>
    private static AmqpTcpEndpoint EndpointFor(Uri node, SslOption template)
    {
        var ssl = new SslOption(node.Host, enabled: node.Scheme == "amqps")
        {
            Version = template.Version,
            CertificateValidationCallback = template.CertificateValidationCallback,
            CertificateSelectionCallback = template.CertificateSelectionCallback,
            Certs = template.Certs,
            AcceptablePolicyErrors = template.AcceptablePolicyErrors,
            CheckCertificateRevocation = template.CheckCertificateRevocation,
        };
        return new AmqpTcpEndpoint(node.Host, PortOf(node), ssl);
    }

    /// <summary>The URI's port, or AMQP's registered one (5672, 5671 with TLS): System.Uri knows no default for amqp.</summary>
    private static int PortOf(Uri node) => node.Port > 0 ? node.Port : node.Scheme == "amqps" ? AmqpTcpEndpoint.DefaultAmqpSslPort : 5672;

    private static string Describe(IReadOnlyList<Uri> nodes)
    {
        if (nodes.Count == 1) return MaskPassword(nodes[0]);
        var masked = new string[nodes.Count];
        for (var i = 0; i < nodes.Count; i++) masked[i] = MaskPassword(nodes[i]);
        return "any of " + string.Join(", ", masked);
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
