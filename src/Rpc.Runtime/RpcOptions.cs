using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace RpcGen;

/// <summary>Settings of an <see cref="RpcConnection"/>, for its clients and its servers.</summary>
public sealed partial class RpcOptions
{
    /// <summary>The default broker address when none is given.</summary>
    public static readonly Uri DefaultUri = new("amqp://guest:guest@localhost:5672/");

    /// <summary>The broker URI (<c>amqp://</c> or <c>amqps://</c>). Defaults to <see cref="DefaultUri"/>.</summary>
    public Uri Uri
    {
        get => _uri;
        set
        {
            _uri = value;
            HasUri = true;
        }
    }

    private Uri _uri = DefaultUri;

    /// <summary>Whether <see cref="Uri"/> was set (in code or configuration) rather than left at its default.</summary>
    internal bool HasUri { get; private set; }

    /// <summary>On a connection the app opened and RpcGen was given no Uri: the connection's address, without a user, for logs and traces.</summary>
    internal void AdoptEndpoint(RabbitMQ.Client.AmqpTcpEndpoint endpoint) =>
        _uri = new UriBuilder(endpoint.Ssl.Enabled ? "amqps" : "amqp", endpoint.HostName, endpoint.Port, "/").Uri;

    /// <summary>
    /// The nodes of a RabbitMQ cluster, one URI each (configuration keys <c>RpcGen:Uris:0</c>, <c>RpcGen:Uris:1</c>, ...).
    /// When the list is not empty it is used instead of <see cref="Uri"/>: the connection opens to a reachable node,
    /// tried in random order, and after losing its node it recovers to another. All URIs must agree on scheme, user,
    /// password and virtual host; they differ only in host and port. Defaults to empty (use <see cref="Uri"/>).
    /// </summary>
    public IList<Uri> Uris { get; set; } = new List<Uri>();

    /// <summary>
    /// The queue type of the service request queues a server declares (and of durable one-way work and named event
    /// subscription queues). <see cref="RpcQueueType.Quorum"/> survives the loss of a cluster node; see docs/cluster.md
    /// for when it is worth its cost. Defaults to <see cref="RpcQueueType.Classic"/>.
    /// </summary>
    public RpcQueueType QueueType { get; set; } = RpcQueueType.Classic;

    /// <summary>
    /// Queue types for single queues, keyed by the queue name without <see cref="QueuePrefix"/> (a service's queue is its
    /// name unless <c>[RpcService(Queue = ...)]</c> says otherwise), over <see cref="QueueType"/>; configuration keys
    /// <c>RpcGen:QueueTypes:Orders</c> = <c>Quorum</c>. Defaults to empty.
    /// </summary>
    public IDictionary<string, RpcQueueType> QueueTypes { get; set; } = new Dictionary<string, RpcQueueType>(StringComparer.Ordinal);

    /// <summary>
    /// For quorum queues: how many times the broker delivers one message before it dead-letters it to
    /// <c>{queue}.dead-letter</c> (a delivery ends without an ack when a server dies or loses its channel mid-call).
    /// It stops a request that crashes every server it reaches from looping through them. Defaults to 5. Changing it
    /// for an existing queue is a mismatch the broker refuses: delete the queue or keep the old value.
    /// </summary>
    public int QuorumDeliveryLimit { get; set; } = 5;

    /// <summary>The node URIs to connect to: <see cref="Uris"/> when given, else <see cref="Uri"/> alone.</summary>
    internal IReadOnlyList<Uri> NodeUris => Uris is { Count: > 0 } uris ? new List<Uri>(uris) : new[] { Uri };

    /// <summary>
    /// How long a client waits for a reply before throwing <see cref="RpcTimeoutException"/>. It is also sent as the
    /// request's <c>expiration</c>, so a request nobody waits for any more dies in the queue. The timeout fires up to a
    /// tenth of it late (at most 100 ms): one sweep per connection checks the calls' due times. Defaults to 30 seconds.
    /// </summary>
    public TimeSpan DefaultTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a call waits without a reply before the client asks the broker whether anyone consumes its queue (a
    /// passive declare, shared by the calls to that queue and cached briefly). A queue with no consumer fails the call
    /// with <see cref="RpcServiceUnavailableException"/> instead of letting it wait for its timeout, once a second check
    /// a second later agrees (so a quorum queue's failover, which shows no consumer for a moment, is not mistaken for a
    /// service nobody runs); the check repeats every such period while the call waits. Calls answered sooner never
    /// cost a check. Defaults to 1 second, so a call nobody serves fails after about 2 s (the sweep runs at most 100 ms late).
    /// </summary>
    public TimeSpan ServerCheckDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// When <see langword="true"/>, calls wait for a server up to their timeout when their queue has no consumer
    /// (gRPC's wait-for-ready) instead of failing fast; <see cref="RpcCallOptions.WaitForReady"/> sets it per call.
    /// Defaults to <see langword="false"/>.
    /// </summary>
    public bool WaitForReady { get; set; }

    /// <summary>Run around every call this connection's clients make, first outermost (<see cref="IRpcClientInterceptor"/>).</summary>
    public System.Collections.Generic.IList<IRpcClientInterceptor> ClientInterceptors { get; } = new System.Collections.Generic.List<IRpcClientInterceptor>();

    /// <summary>Run around every request this connection's servers handle, first outermost (<see cref="IRpcServerInterceptor"/>).</summary>
    public System.Collections.Generic.IList<IRpcServerInterceptor> ServerInterceptors { get; } = new System.Collections.Generic.List<IRpcServerInterceptor>();

    /// <summary>
    /// How many requests one server takes from its queue before acknowledging any (AMQP prefetch), which is also
    /// how many it runs at once. Several servers on one queue share the work in proportion. Defaults to 64 (why: docs/performance.md).
    /// </summary>
    public ushort Prefetch { get; set; } = 64;

    /// <summary>
    /// Whether a server acks requests that finish close together with one multiple ack (the default). False acks each
    /// request on its own, right after its reply; the benchmark sets it to compare the two.
    /// </summary>
    internal bool CoalesceAcks { get; set; } = true;

    /// <summary>
    /// The serializer settings for arguments and results. Set a <see cref="JsonSerializerOptions"/> whose
    /// <see cref="JsonSerializerOptions.TypeInfoResolver"/> is a source-generated <c>JsonSerializerContext</c> to run
    /// without reflection (trimmed or AOT). Defaults to new options with System.Text.Json's defaults, which resolve
    /// types by reflection where reflection is enabled.
    /// </summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new();

    /// <summary>
    /// The largest request body a server accepts, checked before anything is deserialised. Larger requests get an
    /// <c>rpc:too-large</c> error reply. Defaults to 4 MiB.
    /// </summary>
    public int MaxRequestBodySize { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// The largest request or reply body this connection publishes. A larger request fails at once with
    /// <see cref="RpcMessageTooLargeException"/>; a larger reply is replaced by an <c>rpc:too-large</c> error reply.
    /// Keep it at or below the broker's <c>max_message_size</c> (RabbitMQ 4.x: 16 MiB by default; 3.x: 128 MiB),
    /// which closes the channel of a publisher that exceeds it: AMQP does not tell clients that limit. A server learns
    /// it from the broker's first refusal of a reply over 1 MiB (published on a confirmed channel of its own, so the
    /// request is answered <c>rpc:too-large</c> and runs once); a reply under 1 MiB over a lower broker limit costs one
    /// redelivery (the request runs twice) before it is learnt. Defaults to 16 MiB.
    /// </summary>
    public int MaxMessageSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// How often the client and the broker exchange heartbeats, so a connection whose network path died without
    /// closing it is noticed (after about two missed heartbeats) and recovered. Defaults to 10 seconds.
    /// </summary>
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// When <see langword="true"/>, error replies carry the exception's full text (stack trace and inner exceptions) in
    /// a <c>detail</c> field. Off by default so server internals stay on the server.
    /// </summary>
    public bool IncludeExceptionDetails { get; set; }

    /// <summary>
    /// How far the server's clock may run ahead of a caller's before a request that arrives after its caller's
    /// deadline is refused unrun (<c>rpc:deadline-exceeded</c>). Requests within the tolerance run; a caller that has
    /// given up then drops the reply. Defaults to 1 second; set it to zero when clients and servers share a clock.
    /// </summary>
    public TimeSpan ClockSkewTolerance { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How many times a one-way request or an event whose handler throws is tried again before it is dead-lettered to
    /// <c>{queue}.dead-letter</c> (with the error in its headers). Each retry goes back to the queue with an
    /// <c>rpc-retries</c> header counting them, so the limit holds across server restarts and on classic queues,
    /// which do not count redeliveries. Zero dead-letters at the first failure. Defaults to 3.
    /// </summary>
    public int RetryLimit { get; set; } = 3;

    /// <summary>How long disposing a server waits for calls in flight to finish. Defaults to 30 seconds.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Put before every service queue name, by clients and servers alike (e.g. <c>staging.</c>), so several
    /// environments or test runs can share one broker. Defaults to empty.
    /// </summary>
    public string QueuePrefix { get; set; } = string.Empty;

    internal string ExchangeFor(RpcEventsDescriptor events) => QueuePrefix + events.Exchange;

    /// <summary>
    /// When <see langword="true"/>, publishing an event that no queue is bound for (nobody subscribed) throws
    /// <see cref="RpcUnroutableEventException"/>. By AMQP's rules that is not an error, and by default it is not one
    /// here either: the event is dropped by the broker, logged (event 2003) and counted (<c>rpcgen.events.unroutable</c>).
    /// </summary>
    public bool FailUnroutableEvents { get; set; }

    internal string QueueFor(RpcServiceDescriptor service) => QueuePrefix.Length == 0 ? service.Queue : QueuePrefix + service.Queue;

    /// <summary>
    /// For <c>amqps://</c> URIs: decides whether the broker's certificate is trusted. When <see langword="null"/>
    /// (the default) the platform validates it: the certificate must chain to a trusted root and match the URI's host.
    /// Set it to trust a private CA (check the chain against it); never return <see langword="true"/> unconditionally
    /// outside tests.
    /// </summary>
    public RemoteCertificateValidationCallback? ServerCertificateValidation { get; set; }

    /// <summary>For <c>amqps://</c> URIs: client certificates to present, when the broker asks for one (mutual TLS).</summary>
    public X509CertificateCollection? ClientCertificates { get; set; }

    /// <summary>
    /// The connection name shown in the RabbitMQ management UI. Under <c>AddRpcGen</c> it defaults to the host's
    /// application name (<c>IHostEnvironment.ApplicationName</c>); without a host, to <c>RpcGen</c> and the process name.
    /// </summary>
    public string? ConnectionName { get; set; }

    /// <summary>
    /// Where the connection, its clients and its servers log (categories <c>RpcGen.Connection</c>, <c>RpcGen.Client</c>,
    /// <c>RpcGen.Server</c>; event ids in docs/observability.md). <c>AddRpcGen</c> sets it from the container.
    /// Defaults to <see langword="null"/>: no logging.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    internal Diagnostics.RpcLoggers Loggers =>
        _loggers is { } loggers && loggers.Factory == LoggerFactory ? loggers : _loggers = new Diagnostics.RpcLoggers(LoggerFactory);

    private Diagnostics.RpcLoggers? _loggers;

    internal RpcOptions Validate()
    {
        if (Uri is null) throw new ArgumentException("RpcOptions.Uri must be set.");
        if (Uris is null) throw new ArgumentException("RpcOptions.Uris must not be null; leave it empty to use RpcOptions.Uri.");
        ValidateUris();
        if (QueueTypes is null) throw new ArgumentException("RpcOptions.QueueTypes must not be null.");
        if (AllowedReplyQueuePrefixes is null) throw new ArgumentException("RpcOptions.AllowedReplyQueuePrefixes must not be null; leave it empty to answer only direct reply-to and server-named queues.");
        if (QuorumDeliveryLimit < 1) throw new ArgumentException("RpcOptions.QuorumDeliveryLimit must be at least 1.");
        if (DefaultTimeout <= TimeSpan.Zero) throw new ArgumentException("RpcOptions.DefaultTimeout must be positive.");
        if (ServerCheckDelay <= TimeSpan.Zero) throw new ArgumentException("RpcOptions.ServerCheckDelay must be positive.");
        if (Prefetch == 0) throw new ArgumentException("RpcOptions.Prefetch must be at least 1.");
        if (JsonSerializerOptions is null) throw new ArgumentException("RpcOptions.JsonSerializerOptions must be set.");
        if (QueuePrefix is null) throw new ArgumentException("RpcOptions.QueuePrefix must not be null.");
        if (RetryLimit < 0) throw new ArgumentException("RpcOptions.RetryLimit must not be negative.");
        ValidateRetries();
        if (MaxRequestBodySize <= 0) throw new ArgumentException("RpcOptions.MaxRequestBodySize must be positive.");
        if (MaxMessageSize <= 0) throw new ArgumentException("RpcOptions.MaxMessageSize must be positive.");
        if (Heartbeat < TimeSpan.FromSeconds(1)) throw new ArgumentException("RpcOptions.Heartbeat must be at least 1 second.");
        PrepareJson(JsonSerializerOptions);
        return this;
    }

    /// <summary>
    /// One connection authenticates once, against whichever node it reaches, so the node URIs may differ in host and
    /// port only: anything else would make the connection's behaviour depend on which node it happened to pick.
    /// </summary>
    private void ValidateUris()
    {
        Uri? first = null;
        foreach (var uri in Uris)
        {
            if (uri is null || !uri.IsAbsoluteUri || (uri.Scheme != "amqp" && uri.Scheme != "amqps"))
            {
                throw new ArgumentException("RpcOptions.Uris must hold absolute amqp:// or amqps:// URIs, one per cluster node.");
            }

            first ??= uri;
            if (uri.Scheme != first.Scheme || uri.UserInfo != first.UserInfo || uri.AbsolutePath != first.AbsolutePath)
            {
                throw new ArgumentException(
                    $"RpcOptions.Uris must differ in host and port only; {Transport.AmqpConnector.MaskPassword(uri)} has another scheme, user, " +
                    $"password or virtual host than {Transport.AmqpConnector.MaskPassword(first)}.");
            }
        }
    }

    /// <summary>
    /// Options without a resolver get System.Text.Json's default one now, once. Where reflection is disabled
    /// (trimmed or AOT apps) this throws, telling the user to supply a JsonSerializerContext; with a resolver set,
    /// no reflection path is taken at all.
    /// </summary>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Runs only when no TypeInfoResolver is set; trimmed apps disable reflection and get a clear error instead.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Runs only when no TypeInfoResolver is set; AOT apps disable reflection and get a clear error instead.")]
    internal static void PrepareJson(JsonSerializerOptions options)
    {
        if (options.IsReadOnly) return;
        try
        {
            options.MakeReadOnly(populateMissingResolver: true);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException(
                "RpcOptions.JsonSerializerOptions has no TypeInfoResolver and reflection-based serialisation is disabled in this app " +
                "(trimmed or AOT). Set JsonSerializerOptions.TypeInfoResolver to your JsonSerializerContext.", e);
        }
    }
}
