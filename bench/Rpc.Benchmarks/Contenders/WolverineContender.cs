using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RpcGen.Benchmarks.Contracts;
using RpcGen.Benchmarks.WolverineContracts;
using Wolverine;
using Wolverine.RabbitMQ;
using Wolverine.Runtime;

namespace RpcGen.Benchmarks.WolverineContracts
{
    // Wolverine identifies messages by type name, so its messages live in a namespace of their own.
    public sealed record WolverineIncrement(int Value);

    public sealed record WolverineIncremented(int Value);

    public sealed record WolverineEcho(Payload Payload);

    public sealed record WolverineEchoed(Payload Payload);

    /// <summary>The Wolverine handlers: a handler's return value is the reply to <c>InvokeAsync&lt;T&gt;</c>.</summary>
    public static class WolverineBenchHandler
    {
        public static WolverineIncremented Handle(WolverineIncrement request) => new(BenchService.Increment(request.Value));

        public static WolverineEchoed Handle(WolverineEcho request) => new(BenchService.Echo(request.Payload));
    }
}

namespace RpcGen.Benchmarks.Contenders
{
    /// <summary>
    /// Wolverine's request/reply over RabbitMQ with its defaults: <see cref="ICommandBus.InvokeAsync{T}(object, CancellationToken, TimeSpan?)"/>
    /// on a message routed to a Rabbit queue, the handler's return value sent back to the caller's per-node reply queue,
    /// Wolverine's default serializer (System.Text.Json) and listener settings. Only two things are set beyond the
    /// defaults for the benchmark's layout: the queues are per run (so runs never share them), and handlers are
    /// registered explicitly, because the client and server are the same assembly and a client that discovered the
    /// handler would run it in-process instead of over the broker; and the reply timeout (see <see cref="CallTimeout"/>).
    /// </summary>
    public sealed class WolverineContender : IContender
    {
        public string Name => "Wolverine";

        private static string QueueName(BenchEnvironment environment) => environment.Prefix + "wolverine";

        private static async Task<IHost> StartHostAsync(BenchEnvironment environment, bool server, CancellationToken cancellationToken)
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
            var queue = QueueName(environment);
            builder.UseWolverine(opts =>
            {
                opts.ServiceName = "RpcGenBench" + (server ? "Server" : "Client");
                opts.ApplicationAssembly = typeof(WolverineContender).Assembly;
                opts.Discovery.DisableConventionalDiscovery();
                opts.UseRabbitMq(environment.Amqp).AutoProvision();
                if (server)
                {
                    opts.Discovery.IncludeType(typeof(WolverineBenchHandler));
                    opts.ListenToRabbitQueue(queue);
                }
                else
                {
                    opts.PublishMessage<WolverineIncrement>().ToRabbitQueue(queue);
                    opts.PublishMessage<WolverineEcho>().ToRabbitQueue(queue);
                }
            });
            var host = builder.Build();
            await host.StartAsync(cancellationToken);
            return host;
        }

        /// <summary>
        /// Wolverine's default (<c>TypeLoadMode.Dynamic</c>) compiles a handler with Roslyn when its first message
        /// arrives, which on this loaded host takes longer than the 5 s a call waits by default. So the client's first
        /// call of each kind, made while connecting, may wait a minute: that is start-up, not a call's cost.
        /// </summary>
        private static readonly TimeSpan FirstCallTimeout = TimeSpan.FromSeconds(60);

        /// <summary>
        /// The one default changed: Wolverine gives up on a reply after 5 s, and with 256 calls of 256 KB in flight on
        /// this host a call waits longer than that in the queue. 30 s is what RpcGen and MassTransit wait by default.
        /// It changes what happens to a slow call, not what a call costs.
        /// </summary>
        private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

        public async Task<IAsyncDisposable> ServeAsync(BenchEnvironment environment, CancellationToken cancellationToken)
        {
            var host = await StartHostAsync(environment, server: true, cancellationToken);
            return new Running(environment, host, QueueName(environment));
        }

        public async Task<IContenderClient> ConnectAsync(BenchEnvironment environment, int maxInFlight, CancellationToken cancellationToken)
        {
            var host = await StartHostAsync(environment, server: false, cancellationToken);
            var runtime = host.Services.GetRequiredService<IWolverineRuntime>();
            var client = new Client(new Running(environment, host, null), runtime);
            await new MessageBus(runtime).InvokeAsync<WolverineIncremented>(new WolverineIncrement(0), cancellationToken, FirstCallTimeout);
            await new MessageBus(runtime).InvokeAsync<WolverineEchoed>(new WolverineEcho(new Payload()), cancellationToken, FirstCallTimeout);
            return client;
        }

        private sealed class Running(BenchEnvironment environment, IHost host, string? queue) : IAsyncDisposable
        {
            public async ValueTask DisposeAsync()
            {
                await host.StopAsync();
                host.Dispose();
                if (queue is not null) await AmqpCleanup.DeleteQueuesAsync(environment, queue);
            }
        }

        /// <summary>
        /// A <see cref="MessageBus"/> per call, as an application gets one per request or scope (<see cref="IMessageBus"/>
        /// is scoped); it is a small object over the shared runtime.
        /// </summary>
        private sealed class Client(Running running, IWolverineRuntime runtime) : IContenderClient, IBenchClient
        {
            public IBenchClient ForWorker(int worker) => this;

            public async Task<int> IncrementAsync(int value) => (await new MessageBus(runtime).InvokeAsync<WolverineIncremented>(new WolverineIncrement(value), CancellationToken.None, CallTimeout)).Value;

            public async Task<Payload> EchoAsync(Payload payload) => (await new MessageBus(runtime).InvokeAsync<WolverineEchoed>(new WolverineEcho(payload), CancellationToken.None, CallTimeout)).Payload;

            public ValueTask DisposeAsync() => running.DisposeAsync();
        }
    }
}
