using Microsoft.EntityFrameworkCore;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using RpcGen.PostgreSql.EntityFrameworkCore;
using RpcGen.PostgreSql.TestApp;
using RpcGen.PostgreSql.Tests.Infrastructure;
using Xunit;

namespace RpcGen.PostgreSql.Tests;

/// <summary>The outbox in an EF Core DbContext's transaction: the entity and its event commit together, or neither does.</summary>
public sealed class EntityFrameworkCoreTests
{
    [Fact]
    public async Task An_event_written_in_a_DbContext_transaction_is_published_after_its_commit_and_never_after_a_rollback()
    {
        await using var broker = new TestBroker();
        await using var database = await TestDatabase.CreateAsync();
        var connection = await broker.ConnectAsync();
        var log = await OrderLog.SubscribeAsync(connection, broker);
        var outbox = new PostgresOutbox(connection, database.Tables.Options());
        await using var relay = new PostgresOutboxRelay(database.DataSource, connection, database.Tables.Options());
        await relay.StartAsync(CancellationToken.None);

        foreach (var (id, commit) in new[] { (1L, false), (2L, true) })
        {
            await using var shop = new ShopContext(database.Tables.Orders);
            await using var transaction = await shop.Database.BeginTransactionAsync();
            shop.Orders.Add(new Order { Id = id, Tag = commit ? "committed" : "rolled back" });
            await shop.SaveChangesAsync();
            await outbox.CreatePublisher<IOrderEvents>(shop).OrderPlacedAsync(new OrderPlaced(id, "ef"));
            if (commit) await transaction.CommitAsync();
            else await transaction.RollbackAsync();
        }

        await Wait.UntilAsync(() => log.Count >= 1, "the committed order's event arrives");
        await Task.Delay(300);
        Assert.Equal([2L], log.Received.Select(r => r.OrderId));
        Assert.Equal([2L], await database.IdsAsync($"SELECT id FROM {database.Tables.Orders}"));

        await using var withoutTransaction = new ShopContext(database.Tables.Orders);
        var failure = Assert.Throws<InvalidOperationException>(() => outbox.CreatePublisher<IOrderEvents>(withoutTransaction));
        Assert.Contains("BeginTransactionAsync", failure.Message);
    }

    private sealed class Order
    {
        public long Id { get; set; }

        public string Tag { get; set; } = "";
    }

    private sealed class ShopContext(string table) : DbContext
    {
        public DbSet<Order> Orders => Set<Order>();

        protected override void OnConfiguring(DbContextOptionsBuilder options) => options.UseNpgsql(TestDatabase.ConnectionString);

        protected override void OnModelCreating(ModelBuilder model)
        {
            var order = model.Entity<Order>().ToTable(table);
            order.Property(o => o.Id).HasColumnName("id").ValueGeneratedNever();
            order.Property(o => o.Tag).HasColumnName("tag");
        }
    }
}
