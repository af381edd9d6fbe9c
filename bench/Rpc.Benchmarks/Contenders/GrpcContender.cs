using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Contenders;

/// <summary>
/// gRPC unary calls over HTTP/2 on loopback, the broker-less reference: a Grpc.AspNetCore service on Kestrel (in the
/// benchmark's server process) and a Grpc.Net.Client channel, both with their defaults. The service is described by
/// hand (what protoc would generate from a .proto: a service name, two unary <see cref="Method{TRequest, TResponse}"/>s
/// and a binder), with marshallers over the same System.Text.Json source-generated metadata the other contenders
/// use, so the payloads on the wire are the same JSON and what differs is the transport.
/// </summary>
public sealed class GrpcContender : IContender
{
    public string Name => "gRPC (HTTP/2, no broker)";

    public async Task<IAsyncDisposable> ServeAsync(BenchEnvironment environment, CancellationToken cancellationToken)
    {
        int port = environment.GrpcPort != 0 ? environment.GrpcPort : throw new InvalidOperationException("The gRPC contender needs BenchEnvironment.GrpcPort.");
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "RpcGen bench gRPC server" });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // Plain-text HTTP/2 (prior knowledge) on loopback: no TLS on either side, as on a private network.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        var app = builder.Build();
        app.MapGrpcService<GrpcBenchService>();
        await app.StartAsync(cancellationToken);
        return new Serving(app);
    }

    private sealed class Serving(WebApplication app) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public Task<IContenderClient> ConnectAsync(BenchEnvironment environment, int maxInFlight, CancellationToken cancellationToken)
    {
        if (environment.GrpcPort == 0) throw new InvalidOperationException("The gRPC contender needs BenchEnvironment.GrpcPort.");
        var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{environment.GrpcPort}");
        return Task.FromResult<IContenderClient>(new Client(channel));
    }

    /// <summary>A TCP port nothing listens on now, for the gRPC server of one run.</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class Client(GrpcChannel channel) : IContenderClient, IBenchClient
    {
        private readonly CallInvoker _invoker = channel.CreateCallInvoker();

        public IBenchClient ForWorker(int worker) => this;

        public async Task<int> IncrementAsync(int value) => (await _invoker.AsyncUnaryCall(GrpcBench.Increment, null, default, new GrpcInt(value)).ResponseAsync).Value;

        public Task<Payload> EchoAsync(Payload payload) => _invoker.AsyncUnaryCall(GrpcBench.Echo, null, default, payload).ResponseAsync;

        public ValueTask DisposeAsync()
        {
            channel.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>The benchmark service as gRPC sees it: what protoc would generate, written out for JSON messages.</summary>
public static class GrpcBench
{
    public const string ServiceName = "rpcgen.bench.BenchService";

    private static readonly Marshaller<GrpcInt> IntMarshaller = Json(BenchJson.Default.Int32, box => box.Value, value => new GrpcInt(value));

    private static readonly Marshaller<Payload> PayloadMarshaller = Json(BenchJson.Default.Payload, payload => payload, payload => payload);

    public static readonly Method<GrpcInt, GrpcInt> Increment = new(MethodType.Unary, ServiceName, "Increment", IntMarshaller, IntMarshaller);

    public static readonly Method<Payload, Payload> Echo = new(MethodType.Unary, ServiceName, "Echo", PayloadMarshaller, PayloadMarshaller);

    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    /// <summary>Writes straight into gRPC's buffer and reads from its sequence: no copy of the body on either side.</summary>
    private static Marshaller<TMessage> Json<TMessage, T>(JsonTypeInfo<T> typeInfo, Func<TMessage, T> unwrap, Func<T, TMessage> wrap) => new(
        (message, context) =>
        {
            var buffer = context.GetBufferWriter();
            var writer = t_writer ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
            writer.Reset(buffer);
            JsonSerializer.Serialize(writer, unwrap(message), typeInfo);
            writer.Flush();
            writer.Reset(Stream.Null);
            context.Complete();
        },
        context =>
        {
            var reader = new Utf8JsonReader(context.PayloadAsReadOnlySequence());
            return wrap(JsonSerializer.Deserialize(ref reader, typeInfo)!);
        });
}

/// <summary>
/// The service's base class, as protoc generates it: virtual methods, and the binder Grpc.AspNetCore finds through
/// <see cref="BindServiceMethodAttribute"/> (it maps only methods that override this class's).
/// </summary>
[BindServiceMethod(typeof(GrpcBenchServiceBase), nameof(BindService))]
public abstract class GrpcBenchServiceBase
{
    public virtual Task<GrpcInt> Increment(GrpcInt request, ServerCallContext context) => throw new Grpc.Core.RpcException(new Status(StatusCode.Unimplemented, "Increment"));

    public virtual Task<Payload> Echo(Payload request, ServerCallContext context) => throw new Grpc.Core.RpcException(new Status(StatusCode.Unimplemented, "Echo"));

    public static void BindService(ServiceBinderBase binder, GrpcBenchServiceBase? service)
    {
        binder.AddMethod(GrpcBench.Increment, service is null ? null : new UnaryServerMethod<GrpcInt, GrpcInt>(service.Increment));
        binder.AddMethod(GrpcBench.Echo, service is null ? null : new UnaryServerMethod<Payload, Payload>(service.Echo));
    }
}

/// <summary>The gRPC service: the same answers as every other contender's server.</summary>
public sealed class GrpcBenchService : GrpcBenchServiceBase
{
    public override Task<GrpcInt> Increment(GrpcInt request, ServerCallContext context) => Task.FromResult(new GrpcInt(BenchService.Increment(request.Value)));

    public override Task<Payload> Echo(Payload request, ServerCallContext context) => Task.FromResult(BenchService.Echo(request));
}

/// <summary>
/// The int of the Increment call: gRPC's messages are reference types, so the int travels in a box, and its marshaller
/// writes the bare int (<c>41</c>), the same JSON as every other contender's.
/// </summary>
public sealed record GrpcInt(int Value);
