using System;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace RpcGen.Hosting;

/// <summary>
/// One <c>AddRpcGen</c> connection of a container, the default one or a named one: where its options and broker
/// address come from, whether it runs on a connection the app owns, and its health check. Registered as a singleton
/// instance; its holder is a keyed singleton whose key is this object, so it never collides with the app's keys.
/// </summary>
internal sealed class RpcConnectionDefinition
{
    public const string ConnectionsSection = "Connections";

    public RpcConnectionDefinition(string? name)
    {
        Name = name;
    }

    /// <summary>Null for the default connection; else the name clients and servers are bound to (a DI service key).</summary>
    public string? Name { get; }

    /// <summary>The name of its <see cref="RpcConnectionOptions"/> in the options system.</summary>
    public string OptionsName => Name ?? Options.DefaultName;

    /// <summary>Its configuration section: <c>RpcGen</c>, or <c>RpcGen:Connections:{name}</c>.</summary>
    public string SectionPath => Name is null ? RpcOptionsBinder.SectionName : $"{RpcOptionsBinder.SectionName}:{ConnectionsSection}:{Name}";

    /// <summary>Set by <c>UseConnectionString</c>: the broker address is <c>ConnectionStrings:{this}</c>.</summary>
    public string? ConnectionStringName { get; set; }

    /// <summary>Set by <c>UseConnection</c>: RpcGen runs on this connection of the app's instead of opening one.</summary>
    public Func<IServiceProvider, IConnection>? ExternalConnection { get; set; }

    public RpcHealthCheckOptions HealthCheck { get; } = new();

    public string HealthCheckName => Name is null ? RpcHealthCheckOptions.DefaultName : RpcHealthCheckOptions.DefaultName + "-" + Name;

    /// <summary>How messages name it: "the RpcGen connection" or "the RpcGen connection 'billing'".</summary>
    public string Describe() => Name is null ? "the RpcGen connection" : $"the RpcGen connection '{Name}'";
}
