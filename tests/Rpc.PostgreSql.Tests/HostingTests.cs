using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.PostgreSql.TestApp;
using RpcGen.PostgreSql.Tests.Infrastructure;
using Xunit;

namespace RpcGen.PostgreSql.Tests;

/// <summary>AddRpcGenPostgreSql in a host: the outbox and inbox from the container, the relay started after RpcGen's connection.</summary>
public sealed class HostingTests
{
    [Fact]
    public async Task The_relay_runs_as_a_hosted_service_on_the_containers_connection_and_data_source()
    {
        await using var broker = new TestBroker();
        await using var database = await TestDatabase.CreateAsync();
        var subscriber = await broker.ConnectAsync();
        var log = await OrderLog.SubscribeAsync(subscriber, broker);

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddRpcGen(o =>
        {
            o.Uri = TestBroker.Uri;
            o.QueuePrefix = broker.Prefix;
        });
        builder.Services.AddSingleton(database.DataSource);
        builder.Services.AddRpcGenPostgreSql(o =>
        {
            o.OutboxTable = database.Tables.Options().OutboxTable;
            o.InboxTable = database.Tables.Options().InboxTable;
        });
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var outbox = host.Services.GetRequiredService<PostgresOutbox>();
            await using (var db = await host.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync())
            await using (var transaction = await db.BeginTransactionAsync())
            {
                await outbox.CreatePublisher<IOrderEvents>(transaction).OrderPlacedAsync(new OrderPlaced(5, "hosted"));
                await transaction.CommitAsync();
            }

            await Wait.UntilAsync(() => log.Count >= 1, "the hosted relay publishes the event");
            Assert.Equal(5, log.Received[0].OrderId);
            Assert.NotNull(host.Services.GetRequiredService<PostgresInbox>());
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
