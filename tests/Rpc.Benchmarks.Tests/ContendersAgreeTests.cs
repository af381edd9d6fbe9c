using RpcGen.Benchmarks.Contenders;
using RpcGen.Benchmarks.Contracts;
using Xunit;

namespace RpcGen.Benchmarks.Tests;

/// <summary>
/// The benchmark compares like with like only if every contender computes the same answers: each one's server and
/// client are run here against the real broker (RPCGEN_AMQP) and their answers compared with the service's own.
/// </summary>
public sealed class ContendersAgreeTests
{
    private static readonly Uri Broker = new(Environment.GetEnvironmentVariable("RPCGEN_AMQP") is { Length: > 0 } uri ? uri : "amqp://guest:guest@localhost:5672/");

    public static TheoryData<string> Contenders() => new(ContenderCatalog.All.Append(ContenderCatalog.TutorialDirectReplyTo).Append(ContenderCatalog.RpcGenDirectReplyTo).ToArray());

    [Theory]
    [MemberData(nameof(Contenders))]
    public async Task Every_contender_returns_the_services_answers_for_every_payload_also_with_calls_in_flight(string key)
    {
        var contender = ContenderCatalog.Create(key);
        var environment = new BenchEnvironment(Broker, BenchEnvironment.NewPrefix()) { GrpcPort = GrpcContender.FreeLoopbackPort() };
        await using var server = await contender.ServeAsync(environment, CancellationToken.None);
        await using var client = await contender.ConnectAsync(environment, maxInFlight: 16, CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var small = Payloads.Create(Payloads.TargetBytes(PayloadKind.Object4K), id: 4);
        var large = Payloads.Create(Payloads.TargetBytes(PayloadKind.Object256K), id: 256);
        Assert.Equal(BenchService.Increment(41), await client.ForWorker(0).IncrementAsync(41).WaitAsync(timeout.Token));
        Assert.Equal(BenchService.Increment(-1), await client.ForWorker(0).IncrementAsync(-1).WaitAsync(timeout.Token));
        Assert.True(BenchService.Echo(small).SameAs(await client.ForWorker(0).EchoAsync(small).WaitAsync(timeout.Token)), "4 KB echo differs");
        Assert.True(BenchService.Echo(large).SameAs(await client.ForWorker(0).EchoAsync(large).WaitAsync(timeout.Token)), "256 KB echo differs");

        // 16 calls at once, as the throughput scenarios make them: each must get its own answer back.
        var calls = Enumerable.Range(0, 16).Select(i => client.ForWorker(i).IncrementAsync(i * 1000)).ToArray();
        var answers = await Task.WhenAll(calls).WaitAsync(timeout.Token);
        Assert.Equal(Enumerable.Range(0, 16).Select(i => BenchService.Increment(i * 1000)), answers);
    }

    [Theory]
    [InlineData(ContenderCatalog.RpcGen)]
    [InlineData(ContenderCatalog.Tutorial)]
    public async Task Over_several_client_connections_every_worker_gets_its_own_answers(string key)
    {
        var contender = ContenderCatalog.Create(key);
        var environment = new BenchEnvironment(Broker, BenchEnvironment.NewPrefix());
        await using var server = await contender.ServeAsync(environment, CancellationToken.None);
        await using var client = await MultiConnectionClient.ConnectAsync(contender, environment, connections: 3, maxInFlight: 16, CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var calls = Enumerable.Range(0, 16).Select(i => client.ForWorker(i).IncrementAsync(i * 7)).ToArray();
        var answers = await Task.WhenAll(calls).WaitAsync(timeout.Token);
        Assert.Equal(Enumerable.Range(0, 16).Select(i => BenchService.Increment(i * 7)), answers);
    }

    [Fact]
    public void The_object_payloads_have_the_sizes_the_tables_name()
    {
        foreach (var kind in new[] { PayloadKind.Object1K, PayloadKind.Object4K, PayloadKind.Object64K, PayloadKind.Object256K, PayloadKind.Object1M })
        {
            int target = Payloads.TargetBytes(kind);
            int size = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(Payloads.Create(target), BenchJson.Default.Payload).Length;
            Assert.InRange(size, target, target + 100);
        }
    }
}
