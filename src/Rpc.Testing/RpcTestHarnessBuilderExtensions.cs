using System;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RpcGen.Hosting;

namespace RpcGen.Testing;

/// <summary>Runs an app's <c>AddRpcGen</c> registrations on a harness's in-memory broker.</summary>
public static class RpcTestHarnessBuilderExtensions
{
    /// <summary>
    /// The connection <paramref name="builder"/> registers opens on <paramref name="harness"/>'s in-memory broker
    /// instead of RabbitMQ: the app's servers, subscribers, clients and publishers from the container run there, on
    /// the harness's clock, and the harness records them. The app's other options (timeouts, retries, topology) stay its own.
    /// </summary>
    /// <example><code>
    /// services.AddRpcGen().UseRpcTestHarness(harness).AddRpcServer&lt;IStock, Stock&gt;();
    /// </code></example>
    public static RpcGenBuilder UseRpcTestHarness(this RpcGenBuilder builder, RpcTestHarness harness)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(harness);
        builder.UseConnection(_ => harness.CreateAmqpConnection());
        builder.Services.PostConfigure<RpcConnectionOptions>(builder.Name ?? Options.DefaultName, harness.ApplyTo);
        return builder;
    }
}
