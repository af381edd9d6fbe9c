using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace RpcGen;

/// <summary>
/// The options a connection or a server runs with: copied from the user's <see cref="RpcConnectionOptions"/> (and a
/// server's own <see cref="RpcServerOptions"/>) when it starts, checked here and nowhere else, and never changed
/// after, so the user's objects can change without touching a connection already open.
/// </summary>
internal sealed record RpcSettings
{
    private const string ServerNamedQueuePrefix = "amq.gen-";

    public required Uri Uri { get; init; }
    public required bool HasUri { get; init; }
    public required IReadOnlyList<Uri> Uris { get; init; }
    public required TimeSpan Heartbeat { get; init; }
    public required string? ConnectionName { get; init; }
    public required Diagnostics.RpcLoggers Loggers { get; init; }
    public required RemoteCertificateValidationCallback? ServerCertificateValidation { get; init; }
    public required X509CertificateCollection? ClientCertificates { get; init; }
    public required JsonSerializerOptions JsonSerializerOptions { get; init; }
    public required string QueuePrefix { get; init; }
    public required int MaxMessageSize { get; init; }
    public required TimeProvider TimeProvider { get; init; }

    // RpcClientOptions
    public required TimeSpan DefaultTimeout { get; init; }
    public required TimeSpan ServerCheckDelay { get; init; }
    public required bool WaitForReady { get; init; }
    public required IReadOnlyList<IRpcClientInterceptor> ClientInterceptors { get; init; }
    public required bool BatchCalls { get; init; }
    public required int MaxBatchSize { get; init; }
    public required int MaxBatchedBodySize { get; init; }
    public required int StreamWindow { get; init; }
    public required bool FailUnroutableEvents { get; init; }
    public required RpcReplyQueue ReplyQueue { get; init; }

    /// <summary>The client's stream idle timeout on a connection's settings; the server's own on a server's (<see cref="ForServer"/>).</summary>
    public required TimeSpan StreamIdleTimeout { get; init; }

    // RpcServerOptions: set by WithServer, from the connection's defaults or a server's own.
    public ushort Prefetch { get; init; }
    public TimeSpan DrainTimeout { get; init; }
    public int RetryLimit { get; init; }
    public TimeSpan RetryBackoff { get; init; }
    public TimeSpan MaxRetryBackoff { get; init; }
    public int MaxRequestBodySize { get; init; }
    public bool IncludeExceptionDetails { get; init; }
    public TimeSpan ClockSkewTolerance { get; init; }
    public IReadOnlyList<IRpcServerInterceptor> ServerInterceptors { get; init; } = [];
    public IReadOnlyList<string> AllowedReplyQueuePrefixes { get; init; } = [];
    public int MaxStreamWindow { get; init; }
    public int StreamBatchSize { get; init; }
    public bool CoalesceAcks { get; init; }

    // RpcTopologyOptions
    public required RpcQueueType QueueType { get; init; }
    public required IReadOnlyDictionary<string, RpcQueueType> QueueTypes { get; init; }
    public required int QuorumDeliveryLimit { get; init; }
    public required IReadOnlyDictionary<string, RpcQueueTopology> Queues { get; init; }
    public required IReadOnlyDictionary<string, RpcExchangeTopology> Exchanges { get; init; }

    /// <summary>The server defaults the connection was opened with, from which each server's own options are copied.</summary>
    public required RpcServerOptions ServerDefaults { get; init; }

    /// <summary>The node URIs to connect to: <see cref="Uris"/> when given, else <see cref="Uri"/> alone.</summary>
    public IReadOnlyList<Uri> NodeUris => Uris.Count > 0 ? Uris : new[] { Uri };

    /// <summary>Checks and copies <paramref name="options"/> for a connection.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names its class and property.</exception>
    public static RpcSettings For(RpcConnectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var client = options.Client;
        var topology = options.Topology;
        if (options.Uri is null) throw new ArgumentException("RpcConnectionOptions.Uri must be set.");
        if (options.Uris is null) throw new ArgumentException("RpcConnectionOptions.Uris must not be null; leave it empty to use RpcConnectionOptions.Uri.");
        ValidateUris(options.Uris);
        if (options.Heartbeat < TimeSpan.FromSeconds(1)) throw new ArgumentException("RpcConnectionOptions.Heartbeat must be at least 1 second.");
        if (options.JsonSerializerOptions is null) throw new ArgumentException("RpcConnectionOptions.JsonSerializerOptions must be set.");
        if (options.QueuePrefix is null) throw new ArgumentException("RpcConnectionOptions.QueuePrefix must not be null.");
        if (options.MaxMessageSize <= 0) throw new ArgumentException("RpcConnectionOptions.MaxMessageSize must be positive.");
        if (client.DefaultTimeout <= TimeSpan.Zero) throw new ArgumentException("RpcClientOptions.DefaultTimeout must be positive.");
        if (client.ServerCheckDelay <= TimeSpan.Zero) throw new ArgumentException("RpcClientOptions.ServerCheckDelay must be positive.");
        if (client.MaxBatchSize is < 2 or > Wire.CallBatch.MaxItems)
        {
            throw new ArgumentException($"RpcClientOptions.MaxBatchSize must be from 2 to {Wire.CallBatch.MaxItems} calls; it is {client.MaxBatchSize}.");
        }

        if (client.MaxBatchedBodySize < 0) throw new ArgumentException("RpcClientOptions.MaxBatchedBodySize must not be negative.");
        if (client.StreamWindow is < 1 or > Wire.StreamContract.MaxWindow)
        {
            throw new ArgumentException($"RpcClientOptions.StreamWindow must be from 1 to {Wire.StreamContract.MaxWindow} items; it is {client.StreamWindow}.");
        }

        if (client.StreamIdleTimeout <= TimeSpan.Zero) throw new ArgumentException("RpcClientOptions.StreamIdleTimeout must be positive.");
        if (!Enum.IsDefined(client.ReplyQueue)) throw new ArgumentException($"RpcClientOptions.ReplyQueue is {(int)client.ReplyQueue}, not an RpcReplyQueue.");
        if (topology.QueueTypes is null) throw new ArgumentException("RpcTopologyOptions.QueueTypes must not be null.");
        if (topology.QuorumDeliveryLimit < 1) throw new ArgumentException("RpcTopologyOptions.QuorumDeliveryLimit must be at least 1.");
        if (topology.Queues is null) throw new ArgumentException("RpcTopologyOptions.Queues must not be null.");
        if (topology.Exchanges is null) throw new ArgumentException("RpcTopologyOptions.Exchanges must not be null.");
        var server = options.Server.Clone();
        ValidateServer(server, service: null);
        PrepareJson(options.JsonSerializerOptions);
        var connection = new RpcSettings
        {
            Uri = options.Uri,
            HasUri = options.HasUri,
            Uris = [.. options.Uris],
            Heartbeat = options.Heartbeat,
            ConnectionName = options.ConnectionName,
            Loggers = new Diagnostics.RpcLoggers(options.LoggerFactory),
            ServerCertificateValidation = options.ServerCertificateValidation,
            ClientCertificates = options.ClientCertificates,
            JsonSerializerOptions = options.JsonSerializerOptions,
            QueuePrefix = options.QueuePrefix,
            MaxMessageSize = options.MaxMessageSize,
            TimeProvider = options.TimeProvider ?? throw new ArgumentException("RpcConnectionOptions.TimeProvider must not be null."),
            DefaultTimeout = client.DefaultTimeout,
            ServerCheckDelay = client.ServerCheckDelay,
            WaitForReady = client.WaitForReady,
            ClientInterceptors = [.. client.Interceptors],
            BatchCalls = client.BatchCalls,
            MaxBatchSize = client.MaxBatchSize,
            MaxBatchedBodySize = client.MaxBatchedBodySize,
            StreamWindow = client.StreamWindow,
            FailUnroutableEvents = client.FailUnroutableEvents,
            ReplyQueue = client.ReplyQueue,
            StreamIdleTimeout = client.StreamIdleTimeout,
            QueueType = topology.QueueType,
            QueueTypes = new Dictionary<string, RpcQueueType>(topology.QueueTypes, StringComparer.Ordinal),
            QuorumDeliveryLimit = topology.QuorumDeliveryLimit,
            Queues = RpcQueueTopology.Frozen(topology.Queues),
            Exchanges = RpcExchangeTopology.Frozen(topology.Exchanges),
            ServerDefaults = server,
        };
        // The connection's own copy keeps the client's stream idle timeout: its servers get theirs from ForServer.
        return WithServer(connection, server) with { StreamIdleTimeout = client.StreamIdleTimeout };
    }

    /// <summary>
    /// The settings of a server of <paramref name="service"/>: the connection's, with the server options a copy of
    /// <see cref="ServerDefaults"/> has after <paramref name="configure"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A server option is out of range; the message names the property and the service.</exception>
    public RpcSettings ForServer(string service, Action<RpcServerOptions>? configure)
    {
        var server = ServerDefaults.Clone();
        if (configure is not null)
        {
            configure(server);
            ValidateServer(server, service);
        }

        return WithServer(this, server);
    }

    private static RpcSettings WithServer(RpcSettings settings, RpcServerOptions server) => settings with
    {
        Prefetch = server.Prefetch,
        DrainTimeout = server.DrainTimeout,
        RetryLimit = server.RetryLimit,
        RetryBackoff = server.RetryBackoff,
        MaxRetryBackoff = server.MaxRetryBackoff,
        MaxRequestBodySize = server.MaxRequestBodySize,
        IncludeExceptionDetails = server.IncludeExceptionDetails,
        ClockSkewTolerance = server.ClockSkewTolerance,
        ServerInterceptors = [.. server.Interceptors],
        AllowedReplyQueuePrefixes = [.. server.AllowedReplyQueuePrefixes],
        MaxStreamWindow = server.MaxStreamWindow,
        StreamBatchSize = server.StreamBatchSize,
        CoalesceAcks = server.CoalesceAcks,
        // A server's settings are read by its server alone, which waits for its caller's credit this long.
        StreamIdleTimeout = server.StreamIdleTimeout,
    };

    private static void ValidateServer(RpcServerOptions server, string? service)
    {
        var of = service is null ? " (RpcConnectionOptions.Server)" : $" (service {service})";
        if (server.Prefetch == 0) throw new ArgumentException($"RpcServerOptions.Prefetch must be at least 1{of}.");
        if (server.DrainTimeout < TimeSpan.Zero) throw new ArgumentException($"RpcServerOptions.DrainTimeout must not be negative{of}.");
        if (server.RetryLimit < 0) throw new ArgumentException($"RpcServerOptions.RetryLimit must not be negative{of}.");
        if (server.RetryBackoff < TimeSpan.Zero) throw new ArgumentException($"RpcServerOptions.RetryBackoff must not be negative{of}.");
        if (server.MaxRetryBackoff < TimeSpan.Zero) throw new ArgumentException($"RpcServerOptions.MaxRetryBackoff must not be negative{of}.");
        if (server.MaxRequestBodySize <= 0) throw new ArgumentException($"RpcServerOptions.MaxRequestBodySize must be positive{of}.");
        if (server.AllowedReplyQueuePrefixes is null)
        {
            throw new ArgumentException($"RpcServerOptions.AllowedReplyQueuePrefixes must not be null{of}; leave it empty to answer only direct reply-to and server-named queues.");
        }

        if (server.MaxStreamWindow < 1) throw new ArgumentException($"RpcServerOptions.MaxStreamWindow must be at least 1 item{of}.");
        if (server.StreamBatchSize < 1) throw new ArgumentException($"RpcServerOptions.StreamBatchSize must be at least 1 item{of}.");
        if (server.StreamIdleTimeout <= TimeSpan.Zero) throw new ArgumentException($"RpcServerOptions.StreamIdleTimeout must be positive{of}.");
    }

    /// <summary>
    /// One connection authenticates once, against whichever node it reaches, so the node URIs may differ in host and
    /// port only: anything else would make the connection's behaviour depend on which node it happened to pick.
    /// </summary>
    private static void ValidateUris(IEnumerable<Uri> uris)
    {
        Uri? first = null;
        foreach (var uri in uris)
        {
            if (uri is null || !uri.IsAbsoluteUri || (uri.Scheme != "amqp" && uri.Scheme != "amqps"))
            {
                throw new ArgumentException("RpcConnectionOptions.Uris must hold absolute amqp:// or amqps:// URIs, one per cluster node.");
            }

            first ??= uri;
            if (uri.Scheme != first.Scheme || uri.UserInfo != first.UserInfo || uri.AbsolutePath != first.AbsolutePath)
            {
                throw new ArgumentException(
                    $"RpcConnectionOptions.Uris must differ in host and port only; {Transport.AmqpConnector.MaskPassword(uri)} has another scheme, user, " +
                    $"password or virtual host than {Transport.AmqpConnector.MaskPassword(first)}.");
            }
        }
    }

    /// <summary>On a connection the app opened and RpcGen was given no Uri: the connection's address, without a user, for logs and traces.</summary>
    public RpcSettings WithEndpoint(RabbitMQ.Client.AmqpTcpEndpoint endpoint) =>
        this with { Uri = new UriBuilder(endpoint.Ssl.Enabled ? "amqps" : "amqp", endpoint.HostName, endpoint.Port, "/").Uri };

    public string ExchangeFor(RpcEventsDescriptor events) => QueuePrefix + events.Exchange;

    public string QueueFor(RpcServiceDescriptor service) => QueuePrefix.Length == 0 ? service.Queue : QueuePrefix + service.Queue;

    /// <summary>The wait before retry <paramref name="retry"/> (1 for the first) of failed work.</summary>
    public TimeSpan RetryBackoffFor(int retry)
    {
        if (RetryBackoff <= TimeSpan.Zero || retry < 1) return TimeSpan.Zero;
        double factor = Math.Pow(2, Math.Min(retry - 1, 30));
        return TimeSpan.FromTicks((long)Math.Min(RetryBackoff.Ticks * factor, MaxRetryBackoff.Ticks));
    }

    /// <summary>Whether a server answers a request whose reply_to is <paramref name="replyTo"/>.</summary>
    public bool IsAllowedReplyQueue(string replyTo)
    {
        if (replyTo.StartsWith(Wire.WireContract.DirectReplyTo, StringComparison.Ordinal)
            || replyTo.StartsWith(ServerNamedQueuePrefix, StringComparison.Ordinal))
        {
            return true;
        }

        foreach (var prefix in AllowedReplyQueuePrefixes)
        {
            if (!string.IsNullOrEmpty(prefix) && replyTo.StartsWith(prefix, StringComparison.Ordinal)) return true;
        }

        return false;
    }

    /// <summary>
    /// Options without a resolver get System.Text.Json's default one now, once. Where reflection is disabled
    /// (trimmed or AOT apps) this throws, telling the user to supply a JsonSerializerContext; with a resolver set,
    /// no reflection path is taken at all.
    /// </summary>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Runs only when no TypeInfoResolver is set; trimmed apps disable reflection and get a clear error instead.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Runs only when no TypeInfoResolver is set; AOT apps disable reflection and get a clear error instead.")]
    public static void PrepareJson(JsonSerializerOptions options)
    {
        if (options.IsReadOnly) return;
        try
        {
            options.MakeReadOnly(populateMissingResolver: true);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException(
                "RpcConnectionOptions.JsonSerializerOptions has no TypeInfoResolver and reflection-based serialisation is disabled in this app " +
                "(trimmed or AOT). Set JsonSerializerOptions.TypeInfoResolver to your JsonSerializerContext.", e);
        }
    }
}
