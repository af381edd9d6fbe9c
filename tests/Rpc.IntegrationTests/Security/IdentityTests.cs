using System.Text;
using RabbitMQ.Client;
using RpcGen.IntegrationTests.Infrastructure;
using Xunit;

namespace RpcGen.IntegrationTests.Security;

[RpcService(Queue = "whoami")]
public interface IWhoAmI
{
    Task<string?> WhoAmIAsync();
}

public sealed class WhoAmI : IWhoAmI
{
    private int _calls;
    public int Calls => Volatile.Read(ref _calls);

    public Task<string?> WhoAmIAsync()
    {
        Interlocked.Increment(ref _calls);
        return Task.FromResult(RpcContext.Current?.UserId);
    }
}

/// <summary>The caller's identity comes from the broker's authentication, and cannot be forged.</summary>
[Collection(FaultBrokerCollection.Name)]
public sealed class IdentityTests
{
    private const string Alice = "rpcgen-alice";
    private const string AlicePassword = "alice-pw-7f3";
    private readonly FaultBroker _broker;

    public IdentityTests(FaultBroker broker) => _broker = broker;

    [Fact]
    public async Task Handlers_see_the_authenticated_user_and_a_forged_user_id_never_reaches_them()
    {
        await EnsureUserAsync(Alice, AlicePassword);
        var prefix = "identity-" + Guid.NewGuid().ToString("N")[..8] + ".";
        var guestUri = _broker.Uri;
        var aliceUri = new Uri($"amqp://{Alice}:{AlicePassword}@localhost:{FaultBroker.Port}/");

        await using var serverConnection = await RpcConnection.ConnectAsync(new RpcConnectionOptions { Uri = guestUri, QueuePrefix = prefix });
        var service = new WhoAmI();
        await using var server = await serverConnection.ServeAsync<IWhoAmI>(service);
        await using var asAlice = await RpcConnection.ConnectAsync(new RpcConnectionOptions { Uri = aliceUri, QueuePrefix = prefix });
        await using var asGuest = await RpcConnection.ConnectAsync(new RpcConnectionOptions { Uri = guestUri, QueuePrefix = prefix });

        Assert.Equal(Alice, await asAlice.CreateClient<IWhoAmI>().WhoAmIAsync());
        Assert.Equal("guest", await asGuest.CreateClient<IWhoAmI>().WhoAmIAsync());
        Assert.Equal(2, service.Calls);

        // A plain client authenticated as guest claims to be alice: the broker closes its channel, the handler never runs.
        var factory = new ConnectionFactory { Uri = guestUri };
        await using var raw = await factory.CreateConnectionAsync();
        await using var channel = await raw.CreateChannelAsync();
        // No reply_to: with direct reply-to and no consumer the broker would close the channel for that reason instead
        // ("fast reply consumer does not exist"), whatever user_id said.
        var forged = new BasicProperties { UserId = Alice, CorrelationId = "forged", Type = "WhoAmI" };
        try
        {
            await channel.BasicPublishAsync("", server.Queue, mandatory: false, forged, Encoding.UTF8.GetBytes(""));
        }
        catch (RabbitMQ.Client.Exceptions.AlreadyClosedException)
        {
            // The close may already have arrived: the outcome is the same.
        }

        for (int i = 0; i < 100 && channel.IsOpen; i++) await Task.Delay(20);
        Assert.False(channel.IsOpen);
        Assert.Equal((ushort)406, channel.CloseReason?.ReplyCode);
        // RabbitMQ: "PRECONDITION_FAILED - user_id property set to 'rpcgen-alice' but authenticated user was 'guest'"
        Assert.Contains("user_id property set to 'rpcgen-alice'", channel.CloseReason?.ReplyText);
        await Task.Delay(200);
        Assert.Equal(2, service.Calls);
        Assert.Equal(Alice, await asAlice.CreateClient<IWhoAmI>().WhoAmIAsync()); // the server is unaffected
    }

    private async Task EnsureUserAsync(string user, string password)
    {
        await _broker.StartAsync(); // a no-op when it runs: an earlier fault test may have left it stopped
        try
        {
            await _broker.CtlAsync("add_user", user, password);
        }
        catch (InvalidOperationException e) when (e.Message.Contains("already exists"))
        {
            await _broker.CtlAsync("change_password", user, password);
        }

        await _broker.CtlAsync("set_permissions", "-p", "/", user, ".*", ".*", ".*");
    }
}
