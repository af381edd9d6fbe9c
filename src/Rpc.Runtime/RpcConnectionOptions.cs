using System;
using System.Collections.Generic;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace RpcGen;

/// <summary>
/// Settings of an <see cref="RpcConnection"/>: where the broker is and how to reach it, plus the defaults of its
/// clients (<see cref="Client"/>), servers (<see cref="Server"/>) and the queues it declares (<see cref="Topology"/>).
/// Read once when the connection opens: changing them afterwards has no effect on that connection.
/// </summary>
public sealed class RpcConnectionOptions
{
    /// <summary>The default broker address when none is given.</summary>
    public static readonly Uri DefaultUri = new("amqp://guest:guest@localhost:5672/");

    private Uri _uri = DefaultUri;

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

    /// <summary>Whether <see cref="Uri"/> was set (in code or configuration) rather than left at its default.</summary>
    internal bool HasUri { get; private set; }

    /// <summary>
    /// The nodes of a RabbitMQ cluster, one URI each (configuration keys <c>RpcGen:Uris:0</c>, <c>RpcGen:Uris:1</c>, ...).
    /// When the list is not empty it is used instead of <see cref="Uri"/>: the connection opens to a reachable node,
    /// tried in random order, and after losing its node it recovers to another. All URIs must agree on scheme, user,
    /// password and virtual host; they differ only in host and port. Defaults to empty (use <see cref="Uri"/>).
    /// </summary>
    public IList<Uri> Uris { get; set; } = new List<Uri>();

    /// <summary>
    /// How often the client and the broker exchange heartbeats, so a connection whose network path died without
    /// closing it is noticed (after about two missed heartbeats) and recovered. At least 1 second. Defaults to 10 seconds.
    /// </summary>
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The connection name shown in the RabbitMQ management UI. Under <c>AddRpcGen</c> it defaults to the host's
    /// application name (<c>IHostEnvironment.ApplicationName</c>); without a host, to <c>RpcGen</c> and the process name.
    /// </summary>
    public string? ConnectionName { get; set; }

    /// <summary>
    /// The clock of every timeout, deadline, retry backoff, idle timeout and timer the connection, its clients and its
    /// servers keep (telemetry durations excepted). A test sets a fake one (e.g. <c>FakeTimeProvider</c>) to advance
    /// time instead of sleeping; the caller's and the server's clocks must then be the same. Defaults to <see cref="TimeProvider.System"/>.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Where the connection, its clients and its servers log (categories <c>RpcGen.Connection</c>, <c>RpcGen.Client</c>,
    /// <c>RpcGen.Server</c>; event ids in docs/observability.md). <c>AddRpcGen</c> sets it from the container.
    /// Defaults to <see langword="null"/>: no logging.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; set; }

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
    /// The serializer settings for arguments and results, of clients and servers alike. Set a
    /// <see cref="System.Text.Json.JsonSerializerOptions"/> whose <see cref="JsonSerializerOptions.TypeInfoResolver"/> is a
    /// source-generated <c>JsonSerializerContext</c> to run without reflection (trimmed or AOT). Made read-only when
    /// the connection opens. Defaults to new options with System.Text.Json's defaults, which resolve types by
    /// reflection where reflection is enabled.
    /// </summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new();

    /// <summary>
    /// Put before every service queue and events exchange name, by clients and servers alike (e.g. <c>staging.</c>),
    /// so several environments or test runs can share one broker. Defaults to empty.
    /// </summary>
    public string QueuePrefix { get; set; } = string.Empty;

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

    /// <summary>What this connection's clients do (timeouts, waiting for servers, batching, streams, interceptors).</summary>
    public RpcClientOptions Client { get; } = new();

    /// <summary>
    /// The defaults of the services and subscriptions this connection serves; each server starts from a copy of them
    /// that <c>ServeAsync(..., configure)</c>, <c>AddRpcServer(configure)</c> or the configuration section
    /// <c>RpcGen:Servers:{ServiceName}</c> may change for that service alone.
    /// </summary>
    public RpcServerOptions Server { get; } = new();

    /// <summary>How the queues this connection declares are made (queue types, delivery limits).</summary>
    public RpcTopologyOptions Topology { get; } = new();
}
