using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using RpcGen.Outbox.Benchmarks.WolverineMessages;
using Wolverine;
using Wolverine.Postgresql;
using Wolverine.RabbitMQ;
using Wolverine.Runtime;
using Wolverine.RDBMS;

namespace RpcGen.Outbox.Benchmarks.WolverineMessages
{
    // Wolverine names messages by type: its own namespace keeps them apart from RpcGen's.
    public sealed record WolverineOrderPlaced(long OrderId, string Customer, decimal Total);
}

namespace RpcGen.Outbox.Benchmarks
{
    /// <summary>
    /// Wolverine's PostgreSQL outbox (WolverineFx.Postgresql) as its documentation shows it for a plain Npgsql
    /// transaction: a message context enlisted in the transaction, the message published, the transaction committed,
    /// the outgoing messages flushed; a durable outbox on the Rabbit queue, Solo durability mode (one node).
    /// </summary>
    internal sealed class WolverineOutbox : IOutboxContender
    {
        private readonly NpgsqlDataSource _dataSource;
        private readonly string _table;
        private readonly IHost _host;

        private WolverineOutbox(NpgsqlDataSource dataSource, string table, IHost host, string queue)
        {
            _dataSource = dataSource;
            _table = table;
            _host = host;
            Queue = queue;
        }

        public string Name => "Wolverine PostgreSQL outbox";

        public string? Queue { get; }

        public static async Task<WolverineOutbox> StartAsync(NpgsqlDataSource dataSource, string table, Uri amqp, string queue, string schema)
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
            builder.UseWolverine(opts =>
            {
                opts.ServiceName = "RpcGenOutboxBench";
                opts.ApplicationAssembly = typeof(WolverineOutbox).Assembly;
                opts.Discovery.DisableConventionalDiscovery();
                opts.Durability.Mode = DurabilityMode.Solo;
                opts.PersistMessagesWithPostgresql(dataSource, schema);
                opts.UseRabbitMq(amqp).AutoProvision();
                opts.PublishMessage<WolverineOrderPlaced>().ToRabbitQueue(queue).UseDurableOutbox();
            });
            var host = builder.Build();
            await host.StartAsync();
            return new WolverineOutbox(dataSource, table, host, queue);
        }

        public async Task PlaceAsync(long id)
        {
            var context = new MessageContext(_host.Services.GetRequiredService<IWolverineRuntime>());
            await using var connection = await _dataSource.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            if (!context.TryFindMessageDatabase(out var database)) throw new InvalidOperationException("Wolverine has no message database");
            await context.EnlistInOutboxAsync(new DatabaseEnvelopeTransaction(database!, transaction));
            await Database.InsertAsync(connection, transaction, _table, id);
            await context.PublishAsync(new WolverineOrderPlaced(id, "customer-42", 99.50m));
            await transaction.CommitAsync();
            await context.FlushOutgoingMessagesAsync();
        }

        public async ValueTask DisposeAsync()
        {
            await _host.StopAsync();
            _host.Dispose();
        }
    }
}
