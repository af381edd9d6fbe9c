using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.PostgreSql.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.PostgreSql.Tests;

/// <summary>
/// The app process SIGKILLed while it saves orders and its relay publishes them: every committed order is announced
/// after a relay takes over (0 lost), and nothing that was not committed is (0 phantom). Duplicates are allowed
/// (at-least-once, same message id) and counted.
/// </summary>
[Collection(CrashCollection.Name)]
public sealed class AppCrashTests(ITestOutputHelper output)
{
    [Fact]
    public Task An_app_killed_between_commit_and_publish_loses_nothing_and_announces_nothing_uncommitted() => RunAsync(runs: 3);

    [Fact]
    [Trait("Category", "Heavy")]
    public Task Many_kills_lose_nothing_and_announce_nothing_uncommitted() => RunAsync(runs: 40);

    private async Task RunAsync(int runs)
    {
        int lost = 0, phantom = 0, duplicates = 0, leftAtKill = 0;
        for (int run = 1; run <= runs; run++)
        {
            await using var broker = new TestBroker();
            await using var database = await TestDatabase.CreateAsync();
            var connection = await broker.ConnectAsync();
            var log = await OrderLog.SubscribeAsync(connection, broker);

            await using (var app = await AppProcess.StartAsync("place", TestBroker.Uri.ToString(), TestDatabase.ConnectionString, broker.Prefix, database.Tables.Name))
            {
                // Killed right after a commit it printed: its relay has likely not published the last orders yet.
                int killAfter = Random.Shared.Next(5, 150);
                await Wait.UntilAsync(() => app.CountLines("committed ") >= killAfter, $"the app commits {killAfter} orders", seconds: 60);
                app.Kill();
                await app.WaitForExitAsync();
            }

            var left = await database.CountAsync(database.Tables.Options().OutboxTable);
            HashSet<long> committed;
            await using (var relay = new PostgresOutboxRelay(database.DataSource, connection, database.Tables.Options()))
            {
                await relay.StartAsync(CancellationToken.None);
                await Wait.UntilAsync(async () => await database.CountAsync(database.Tables.Options().OutboxTable) == 0, "the new relay publishes what was left", seconds: 30);
                // Read now, not at the kill: a COMMIT the app sent just before it died may be carried out after it died.
                committed = (await database.IdsAsync($"SELECT id FROM {database.Tables.Orders}")).ToHashSet();
                try
                {
                    await Wait.UntilAsync(() => committed.IsSubsetOf(log.Received.Select(r => r.OrderId)), "every committed order's event arrives", seconds: 30);
                }
                catch (TimeoutException)
                {
                    // Counted as lost below, with the run's figures.
                }
            }

            var received = log.Received;
            var runLost = committed.Except(received.Select(r => r.OrderId)).Count();
            var runPhantom = received.Select(r => r.OrderId).Distinct().Count(id => !committed.Contains(id));
            var runDuplicates = received.Count - received.Select(r => r.OrderId).Distinct().Count();
            output.WriteLine($"run {run}: {committed.Count} committed, {left} rows left at the kill, {received.Count} events, " +
                $"{runLost} lost, {runPhantom} phantom, {runDuplicates} duplicates");
            lost += runLost;
            phantom += runPhantom;
            duplicates += runDuplicates;
            leftAtKill += (int)left;
            // A duplicate is the same message published again: it carries the id it was stored with.
            foreach (var group in received.GroupBy(r => r.OrderId).Where(g => g.Count() > 1))
            {
                Assert.Single(group.Select(r => r.MessageId).Distinct());
            }
        }

        output.WriteLine($"{runs} runs: {lost} lost, {phantom} phantom, {duplicates} duplicates, {leftAtKill} rows left unpublished at the kills");
        Assert.Equal(0, lost);
        Assert.Equal(0, phantom);
    }
}

/// <summary>Process kills and broker restarts run one at a time, apart from each other.</summary>
[CollectionDefinition(Name)]
public sealed class CrashCollection
{
    public const string Name = "outbox crashes";
}
