using RpcGen.IntegrationTests.Infrastructure;
using Xunit;

namespace RpcGen.IntegrationTests.Security;

/// <summary>
/// A server the client calls must not be able to answer the client's calls to other services (review finding 8).
/// The attack of issue 22: a pika server of service A sees one correlation id and forges replies for the ids it
/// predicts come next, while the client's calls to service B (served honestly by RpcGen) are in flight.
/// </summary>
public sealed class ForgedReplyTests
{
    [Fact]
    public async Task A_server_of_one_service_cannot_answer_calls_to_another_by_predicting_their_correlation_ids()
    {
        await using var broker = new TestBroker();
        await using var hostile = await HostileScript.StartAsync(broker, broker.QueueName("trust-a"), "--mode", "forge", "--ahead", "64", "--seconds", "30");
        // B takes half a second, as a real service may: the forger has all that time to get its replies in first.
        await broker.ServeAsync<ITrustB>(await broker.ConnectAsync(), new HonestB(delayMs: 500));
        var rpc = await broker.ConnectAsync();

        Assert.Equal("A:0", await rpc.CreateClient<ITrustA>().WhoAsync(0));
        await hostile.WaitForLineAsync("saw ", TimeSpan.FromSeconds(10));

        var b = rpc.CreateClient<ITrustB>();
        var results = await Task.WhenAll(Enumerable.Range(1, 16).Select(n => b.WhoAsync(n))).WaitAsync(TimeSpan.FromSeconds(20));

        int forged = results.Count(r => r == "forged by A");
        Assert.True(forged == 0, $"{forged} of 16 calls to B returned A's forged reply: {string.Join(", ", results)}");
        Assert.Equal(Enumerable.Range(1, 16).Select(n => "B:" + n), results);
        // The forger's replies reached the client and were dropped as replies nobody waits for.
        Assert.True(rpc.Invoker.PendingCalls.DroppedReplies > 0, "no forged reply reached the client: the test proves nothing");
    }
}
