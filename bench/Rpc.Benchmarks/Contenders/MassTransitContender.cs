using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using RpcGen.Benchmarks.Contracts;
using RpcGen.Benchmarks.MassTransitContracts;

namespace RpcGen.Benchmarks.MassTransitContracts
{
    // MassTransit names exchanges after message types, so its messages live in a namespace of their own.
    public sealed record IncrementRequest(int Value);

    public sealed record IncrementResponse(int Value);

    public sealed record EchoRequest(Payload Payload);

    public sealed record EchoResponse(Payload Payload);
}

namespace RpcGen.Benchmarks.Contenders
{
    /// <summary>
    /// Contender 4: MassTransit's request client (<see cref="IRequestClient{TRequest}"/>) and consumers, configured with
    /// its defaults (<c>ConfigureEndpoints</c>, default prefetch and concurrency, default serializer, requests published).
    /// </summary>
    public sealed class MassTransitContender : IContender
    {
        public string Name => "MassTransit";

        private static ServiceProvider CreateBus(BenchEnvironment environment, bool withConsumers)
        {
            var services = new ServiceCollection();
            services.AddMassTransit(x =>
            {
                if (withConsumers)
                {
                    x.AddConsumer<RpcGenBenchIncrementConsumer>();
                    x.AddConsumer<RpcGenBenchEchoConsumer>();
                }

                x.AddRequestClient<IncrementRequest>();
                x.AddRequestClient<EchoRequest>();
                x.UsingRabbitMq((context, cfg) =>
                {
                    var uri = environment.Amqp;
                    var user = Uri.UnescapeDataString(uri.UserInfo.Split(':')[0]);
                    var password = uri.UserInfo.Contains(':') ? Uri.UnescapeDataString(uri.UserInfo[(uri.UserInfo.IndexOf(':') + 1)..]) : string.Empty;
                    var virtualHost = uri.AbsolutePath is "" or "/" ? "/" : Uri.UnescapeDataString(uri.AbsolutePath[1..]);
                    cfg.Host(uri.Host, (ushort)(uri.IsDefaultPort ? 5672 : uri.Port), virtualHost, h =>
                    {
                        h.Username(user);
                        h.Password(password);
                    });
                    cfg.ConfigureEndpoints(context);
                });
            });
            return services.BuildServiceProvider();
        }

        /// <summary>The queues <c>ConfigureEndpoints</c> declares for the consumers (named after them by the default formatter).</summary>
        private static readonly string[] ConsumerQueues = { "RpcGenBenchIncrement", "RpcGenBenchEcho" };

        public async Task<IAsyncDisposable> ServeAsync(BenchEnvironment environment, CancellationToken cancellationToken)
        {
            var provider = CreateBus(environment, withConsumers: true);
            var bus = provider.GetRequiredService<IBusControl>();
            await bus.StartAsync(cancellationToken);
            return new Bus(environment, provider, bus, ConsumerQueues);
        }

        public async Task<IContenderClient> ConnectAsync(BenchEnvironment environment, int maxInFlight, CancellationToken cancellationToken)
        {
            var provider = CreateBus(environment, withConsumers: false);
            var bus = provider.GetRequiredService<IBusControl>();
            await bus.StartAsync(cancellationToken);
            var scope = provider.CreateScope();
            return new Client(new Bus(environment, provider, bus, Array.Empty<string>()), scope,
                scope.ServiceProvider.GetRequiredService<IRequestClient<IncrementRequest>>(),
                scope.ServiceProvider.GetRequiredService<IRequestClient<EchoRequest>>());
        }

        private sealed class Bus(BenchEnvironment environment, ServiceProvider provider, IBusControl bus, string[] queues) : IAsyncDisposable
        {
            public async ValueTask DisposeAsync()
            {
                await bus.StopAsync();
                await provider.DisposeAsync();
                if (queues.Length > 0) await AmqpCleanup.DeleteQueuesAsync(environment, queues);
            }
        }

        private sealed class Client(Bus bus, IServiceScope scope, IRequestClient<IncrementRequest> increment, IRequestClient<EchoRequest> echo)
            : IContenderClient, IBenchClient
        {
            public IBenchClient ForWorker(int worker) => this;

            public async Task<int> IncrementAsync(int value) => (await increment.GetResponse<IncrementResponse>(new IncrementRequest(value))).Message.Value;

            public async Task<Payload> EchoAsync(Payload payload) => (await echo.GetResponse<EchoResponse>(new EchoRequest(payload))).Message.Payload;

            public async ValueTask DisposeAsync()
            {
                scope.Dispose();
                await bus.DisposeAsync();
            }
        }
    }

    public sealed class RpcGenBenchIncrementConsumer : IConsumer<IncrementRequest>
    {
        public Task Consume(ConsumeContext<IncrementRequest> context) =>
            context.RespondAsync(new IncrementResponse(BenchService.Increment(context.Message.Value)));
    }

    public sealed class RpcGenBenchEchoConsumer : IConsumer<EchoRequest>
    {
        public Task Consume(ConsumeContext<EchoRequest> context) =>
            context.RespondAsync(new EchoResponse(BenchService.Echo(context.Message.Payload)));
    }
}
