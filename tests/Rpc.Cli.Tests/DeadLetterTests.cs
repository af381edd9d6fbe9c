using System.Text;
using RabbitMQ.Client;
using RpcGen.Cli.Tests.Infrastructure;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using Samples.Shop;

namespace RpcGen.Cli.Tests;

/// <summary>rpcgen send, then dead-letters list, show, replay and purge, on the shop's stock queue.</summary>
public sealed class DeadLetterTests : IAsyncLifetime
{
    private readonly TestBroker _broker = new();
    private readonly BreakableStock _stock = new();
    private RpcServer _server = null!;

    private string Queue => _broker.QueueName("shop.stock");

    public async Task InitializeAsync()
    {
        var connection = await _broker.ConnectAsync();
        _server = await _broker.ServeAsync<IStock>(connection, _stock, o =>
        {
            o.RetryLimit = 1;
            o.RetryBackoff = TimeSpan.FromMilliseconds(50);
        });
    }

    public Task DisposeAsync() => _broker.DisposeAsync().AsTask();

    private Task<CliResult> Rpcgen(params string[] args) => CliProcess.RunAsync(_broker.Prefix, args);

    private async Task<uint> DepthAsync(string queue)
    {
        await using var amqp = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
        await using var channel = await amqp.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            // The server declares its dead-letter queue at the first dead letter.
            return 0;
        }
    }

    private async Task<List<string>> DeadLetteredIdsAsync(int count)
    {
        for (int i = 0; i < count; i++)
        {
            var sent = await Rpcgen("send", "Stock.Release", $"{{\"sku\":\"lamp-{i}\",\"quantity\":{i + 1}}}");
            Assert.True(sent.ExitCode == 0, sent.ToString());
            Assert.Contains($"sent Stock.Release to queue '{Queue}' (persistent, confirmed by the broker).", sent.Stdout);
        }

        await Wait.UntilAsync(async () => await DepthAsync(Queue + ".dead-letter") == count, $"{count} dead letters in {Queue}.dead-letter");
        var listed = await Rpcgen("dead-letters", "list", "Stock", "--json");
        Assert.True(listed.ExitCode == 0, listed.ToString());
        var lines = listed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(count, lines.Length);
        return lines.Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()!).ToList();
    }

    [Fact]
    public async Task List_and_show_leave_the_queue_as_it_was()
    {
        var ids = await DeadLetteredIdsAsync(2);
        var table = await Rpcgen("dead-letters", "list", "Stock");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains($"{Queue}.dead-letter: 2 messages", table.Stdout);
        Assert.Contains("System.InvalidOperationException: no reservation of lamp-0 to release", table.Stdout);
        Assert.Contains(ids[1], table.Stdout);

        var shown = await Rpcgen("dead-letters", "show", "Stock", "--id", ids[1]);
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Contains("\"rpc-retries\": \"1\"", shown.Stdout);
        Assert.Contains("\"sku\": \"lamp-1\"", shown.Stdout);
        Assert.DoesNotContain("lamp-0", shown.Stdout);
        Assert.Equal(2u, await DepthAsync(Queue + ".dead-letter"));
    }

    [Fact]
    public async Task Replay_resets_the_retries_records_itself_and_runs_the_work_again()
    {
        var ids = await DeadLetteredIdsAsync(2);
        // The server is stopped, so the copy can be read as it sits in the queue.
        await _server.DisposeAsync();
        var replayed = await Rpcgen("dead-letters", "replay", Queue, "--id", ids[0]);
        Assert.True(replayed.ExitCode == 0, replayed.ToString());
        Assert.Contains($"replayed {ids[0]} (Release) to '{Queue}'", replayed.Stdout);
        Assert.Contains($"1 of 2 messages replayed; 1 left in {Queue}.dead-letter.", replayed.Stdout);

        await using (var amqp = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync())
        await using (var channel = await amqp.CreateChannelAsync())
        {
            var copy = await channel.BasicGetAsync(Queue, autoAck: false);
            Assert.NotNull(copy);
            var headers = copy.BasicProperties.Headers!;
            Assert.Equal(ids[0], copy.BasicProperties.MessageId);
            Assert.False(headers.ContainsKey("rpc-retries"));
            Assert.True(headers.ContainsKey("rpc-replayed-at"));
            Assert.Equal("guest", Encoding.UTF8.GetString((byte[])headers["rpc-replayed-by"]!));
            Assert.Contains("lamp-0", Encoding.UTF8.GetString(copy.Body.Span));
            await channel.BasicNackAsync(copy.DeliveryTag, multiple: false, requeue: true);
        }

        // Served again, mended: the replayed work runs once, and stays done.
        _stock.Broken = false;
        var connection = await _broker.ConnectAsync();
        await _broker.ServeAsync<IStock>(connection, _stock);
        await Wait.UntilAsync(() => _stock.Released.Count == 1, "the replayed release to run");
        Assert.Equal(("lamp-0", 1), Assert.Single(_stock.Released));
        Assert.Equal(1u, await DepthAsync(Queue + ".dead-letter"));
    }

    [Fact]
    public async Task Replay_keeps_a_message_whose_copy_the_broker_did_not_take()
    {
        var ids = await DeadLetteredIdsAsync(1);
        await _server.DisposeAsync();
        await using (var amqp = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync())
        await using (var channel = await amqp.CreateChannelAsync())
        {
            await channel.QueueDeleteAsync(Queue);
        }

        var replayed = await Rpcgen("dead-letters", "replay", "Stock", "--all");
        Assert.True(replayed.ExitCode == 1, replayed.ToString());
        Assert.Contains($"queue '{Queue}' does not exist: {ids[0]} stays in {Queue}.dead-letter.", replayed.Stderr);
        Assert.Equal(1u, await DepthAsync(Queue + ".dead-letter"));
    }

    [Fact]
    public async Task Purge_deletes_only_what_it_is_told_to()
    {
        var ids = await DeadLetteredIdsAsync(3);
        var unsaid = await Rpcgen("dead-letters", "purge", "Stock");
        Assert.True(unsaid.ExitCode == 2, unsaid.ToString());
        Assert.Equal(3u, await DepthAsync(Queue + ".dead-letter"));

        var one = await Rpcgen("dead-letters", "purge", "Stock", "--id", ids[2]);
        Assert.True(one.ExitCode == 0, one.ToString());
        Assert.Contains($"purged {ids[2]} (Release)", one.Stdout);
        Assert.Equal(2u, await DepthAsync(Queue + ".dead-letter"));

        var all = await Rpcgen("dead-letters", "purge", "Stock", "--error", "no reservation");
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Equal(0u, await DepthAsync(Queue + ".dead-letter"));
    }
}
