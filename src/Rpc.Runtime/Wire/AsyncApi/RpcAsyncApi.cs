#if NET9_0_OR_GREATER
using System;
using System.Text.Json.Nodes;
using RpcGen.Wire.AsyncApi;

namespace RpcGen;

/// <summary>
/// Describes an <see cref="RpcServiceAttribute"/> service as an <see href="https://www.asyncapi.com/docs/reference/specification/v3.0.0">AsyncAPI 3.0</see>
/// document: its queue, one operation per method with its reply, and JSON Schemas of every request body, reply body
/// and error reply, so that teams in other languages get the contract without reading C#. The document follows
/// docs/wire-format.md; the schemas come from System.Text.Json's <c>JsonSchemaExporter</c> with the serializer
/// settings the service runs with. Available on .NET 9 and later (the exporter's first release).
/// </summary>
public static class RpcAsyncApi
{
    /// <summary>The AsyncAPI version of the documents this class writes.</summary>
    public const string SpecificationVersion = "3.0.0";

    /// <summary>The AsyncAPI document of <typeparamref name="TService"/>, found through its generated descriptor.</summary>
    /// <typeparam name="TService">An interface marked <see cref="RpcServiceAttribute"/>.</typeparam>
    /// <param name="options">Serializer settings, queue prefix, perspective and titles; the defaults when null.</param>
    /// <exception cref="InvalidOperationException"><typeparamref name="TService"/> has no generated RpcGen code, or a contract type cannot be described with the serializer settings.</exception>
    /// <exception cref="ArgumentException"><typeparamref name="TService"/> is an <see cref="RpcEventsAttribute"/> interface, not a service.</exception>
    public static JsonObject CreateDocument<TService>(RpcAsyncApiOptions? options = null)
        where TService : class =>
        CreateDocument(RpcServiceRegistry.Get<TService>().Descriptor, options);

    /// <summary>The AsyncAPI document of the service <paramref name="service"/> describes.</summary>
    /// <param name="service">A generated service descriptor.</param>
    /// <param name="options">Serializer settings, queue prefix, perspective and titles; the defaults when null.</param>
    /// <exception cref="ArgumentException"><paramref name="service"/> describes events, or its methods were generated without their types (an older RpcGen).</exception>
    /// <exception cref="InvalidOperationException">A contract type cannot be described with the serializer settings.</exception>
    public static JsonObject CreateDocument(RpcServiceDescriptor service, RpcAsyncApiOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        return new AsyncApiDocumentBuilder(service, options ?? new RpcAsyncApiOptions()).Build();
    }

    /// <summary>The AsyncAPI document of the <see cref="RpcEventsAttribute"/> interface <typeparamref name="TEvents"/>: its exchange and events.</summary>
    /// <typeparam name="TEvents">An interface marked <see cref="RpcEventsAttribute"/>.</typeparam>
    /// <param name="options">Serializer settings, prefix, perspective (server: a subscriber's) and titles; the defaults when null.</param>
    /// <exception cref="InvalidOperationException"><typeparamref name="TEvents"/> has no generated RpcGen code, or a contract type cannot be described with the serializer settings.</exception>
    /// <exception cref="ArgumentException"><typeparamref name="TEvents"/> is an <see cref="RpcServiceAttribute"/> service, not events.</exception>
    public static JsonObject CreateEventsDocument<TEvents>(RpcAsyncApiOptions? options = null)
        where TEvents : class =>
        RpcServiceRegistry.Get<TEvents>().Descriptor is RpcEventsDescriptor events
            ? CreateEventsDocument(events, options)
            : throw new ArgumentException($"{typeof(TEvents).FullName} is an [RpcService] interface; RpcAsyncApi.CreateDocument describes it.", nameof(TEvents));

    /// <summary>The AsyncAPI document of the events <paramref name="events"/> describes: its exchange and events.</summary>
    /// <param name="events">A generated events descriptor.</param>
    /// <param name="options">Serializer settings, prefix, perspective (server: a subscriber's) and titles; the defaults when null.</param>
    /// <exception cref="InvalidOperationException">A contract type cannot be described with the serializer settings.</exception>
    public static JsonObject CreateEventsDocument(RpcEventsDescriptor events, RpcAsyncApiOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(events);
        return new EventsDocumentBuilder(events, options ?? new RpcAsyncApiOptions()).Build();
    }
}
#endif
