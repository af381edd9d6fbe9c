using RpcGen.IntegrationTests.Interop;
using RpcGen.Testing.Tests.Infrastructure;
using Xunit;

namespace RpcGen.Testing.Tests.Conformance;

/// <summary>Request/reply: results, faults, a missing or idle server, timeouts, deadlines and cancellation.</summary>
public abstract class CallConformance : ConformanceTest
{
    [Fact]
    public async Task A_call_returns_its_result_and_the_handler_sees_the_authenticated_caller()
    {
        Queue("conformance.calc");
        var connection = await Transport.ConnectAsync();
        await using var server = await connection.ServeAsync<ICalc>(new Calc());
        var calc = connection.CreateClient<ICalc>();

        Assert.Equal(5, await calc.AddAsync(2, 3));
        Assert.Equal("guest redelivered=False", await calc.WhoAmIAsync());
    }

    [Fact]
    public async Task A_declared_fault_arrives_as_itself_and_an_undeclared_one_as_RpcRemoteException()
    {
        Queue("conformance.calc");
        var connection = await Transport.ConnectAsync();
        await using var server = await connection.ServeAsync<ICalc>(new Calc());
        var calc = connection.CreateClient<ICalc>();

        var fault = await Assert.ThrowsAsync<InsufficientFundsException>(() => calc.WithdrawAsync(500));
        Assert.Equal(100, fault.Balance);
        Assert.Equal("500 is more than the balance", fault.Message);
        var remote = await Assert.ThrowsAsync<RpcRemoteException>(() => calc.BreakAsync());
        Assert.Contains("InvalidOperationException", remote.RemoteType, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_call_to_a_queue_that_does_not_exist_fails_at_once_as_unavailable()
    {
        var connection = await Transport.ConnectAsync();
        var calc = connection.CreateClient<ICalc>();

        // The mandatory publish comes back (basic.return): nobody can ever answer, and the request was not queued.
        await Assert.ThrowsAsync<RpcServiceUnavailableException>(() => calc.AddAsync(1, 1));
    }

    [Fact]
    public async Task A_call_to_a_queue_nobody_consumes_fails_as_queued_then_later_calls_fail_unsent()
    {
        Queue("conformance.calc");
        var connection = await Transport.ConnectAsync(o => o.Client.ServerCheckDelay = TimeSpan.FromMilliseconds(200));
        // The queue exists (a server declared it and stopped): requests wait there, nobody takes them.
        await (await connection.ServeAsync<ICalc>(new Calc())).DisposeAsync();
        var calc = connection.CreateClient<ICalc>();

        await Assert.ThrowsAsync<RpcRequestQueuedException>(() => calc.AddAsync(1, 1));
        await Assert.ThrowsAsync<RpcServiceUnavailableException>(() => calc.AddAsync(1, 1));
    }

    [Fact]
    public async Task A_server_whose_queue_is_deleted_hears_of_it_declares_the_queue_again_and_serves_on()
    {
        var queue = Queue("conformance.calc");
        var connection = await Transport.ConnectAsync();
        await using var server = await connection.ServeAsync<ICalc>(new Calc());
        var calc = connection.CreateClient<ICalc>();
        Assert.Equal(2, await calc.AddAsync(1, 1));

        var amqp = await Transport.OpenAmqpAsync();
        await using (var channel = await amqp.CreateChannelAsync()) await channel.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: false);

        // The broker cancels the consumer (consumer_cancel_notify); the server declares its queue again and consumes it.
        await Wait.UntilAsync(async () =>
        {
            await using var channel = await amqp.CreateChannelAsync();
            try
            {
                return (await channel.QueueDeclarePassiveAsync(queue)).ConsumerCount == 1;
            }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
            {
                return false;
            }
        }, "the queue is back with its consumer");
        Assert.Equal(4, await calc.AddAsync(2, 2));
    }

    [Fact]
    public async Task A_call_past_its_timeout_fails_and_the_handler_token_fires_with_the_callers_deadline_seen()
    {
        Queue("conformance.calc");
        var connection = await Transport.ConnectAsync();
        var calc = new Calc();
        await using var server = await connection.ServeAsync<ICalc>(calc);
        var client = connection.CreateClient<ICalc>();

        var before = DateTimeOffset.UtcNow;
        Task<int> call;
        using (RpcCallOptions.WithTimeout(TimeSpan.FromMilliseconds(800))) call = client.WaitAsync(CancellationToken.None);
        var deadline = await calc.WaitStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(deadline);
        Assert.InRange(deadline!.Value, before.AddMilliseconds(700), DateTimeOffset.UtcNow.AddMilliseconds(900));

        await Assert.ThrowsAsync<RpcTimeoutException>(() => call);
        await calc.TokenFired.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_call_the_caller_cancels_ends_as_cancelled_and_the_handler_token_fires()
    {
        Queue("conformance.calc");
        var connection = await Transport.ConnectAsync();
        var calc = new Calc();
        await using var server = await connection.ServeAsync<ICalc>(calc);
        var client = connection.CreateClient<ICalc>();

        using var cancel = new CancellationTokenSource();
        var call = client.WaitAsync(cancel.Token);
        await calc.WaitStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await calc.TokenFired.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }
}

public sealed class CallConformanceInMemory : CallConformance
{
    protected override TransportFixture CreateTransport() => new InMemoryTransport();
}

public sealed class CallConformanceOnBroker : CallConformance
{
    protected override TransportFixture CreateTransport() => new BrokerTransport();
}
