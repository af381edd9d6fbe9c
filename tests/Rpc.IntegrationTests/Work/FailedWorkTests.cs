using System.Text;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;
using Xunit;
using Xunit.Abstractions;

namespace RpcGen.IntegrationTests.Reliability;

/// <summary>
/// Failed one-way work on the shared node: nothing dead-lettered is lost, a dead letter can be replayed, retries keep
/// the message id and the caller's identity, a hand-off the broker keeps refusing is settled, and one poison message
/// logs one error.
/// </summary>
public sealed class FailedWorkTests
{
    private readonly ITestOutputHelper _output;

    public FailedWorkTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task A_dead_lettered_copy_of_work_with_a_time_to_live_carries_no_expiration_and_stays()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync(o => o.Server.RetryLimit = 0);
        var work = new FailingWork();
        var server = await broker.ServeAsync<IFailingWork>(rpc, work);

        await rpc.CreateClient<IFailingWork>().ExpiringAsync(1);
        await Wait.UntilAsync(() => server.DeadLettered == 1, "the failing work was dead-lettered");
        // Longer than the method's 4 s time-to-live, which the copy used to keep.
        await Task.Delay(TimeSpan.FromSeconds(6));

        Assert.Equal(1u, await RawAmqp.ReadyMessagesAsync(server.DeadLetterQueue));
        await using var raw = await RawAmqp.ConnectAsync();
        var dead = await raw.Channel.BasicGetAsync(server.DeadLetterQueue, autoAck: true);
        Assert.NotNull(dead);
        Assert.Null(dead.BasicProperties.Expiration);
        Assert.Equal("Expiring", dead.BasicProperties.Type);
    }

    [Fact]
    public async Task Expired_calls_to_a_quorum_queue_never_land_among_its_failed_work()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync(o =>
        {
            o.Topology.QueueType = RpcQueueType.Quorum;
            o.Server.RetryLimit = 0;
            o.Client.DefaultTimeout = TimeSpan.FromSeconds(1);
        });
        var work = new FailingWork();
        var deadLetters = broker.QueueName("failing-work") + ".dead-letter";
        await (await broker.ServeAsync<IFailingWork>(rpc, work)).DisposeAsync();

        // Nobody serves: the calls fail and their requests expire in the queue after the 1 s timeout.
        var client = rpc.CreateClient<IFailingWork>();
        var calls = Enumerable.Range(0, 5).Select(async i =>
        {
            try
            {
                await client.EchoAsync(i);
            }
            catch (RpcException)
            {
            }
            catch (TimeoutException)
            {
            }
        });
        await Task.WhenAll(calls);
        await Task.Delay(TimeSpan.FromSeconds(2));

        // A server consumes again: the expired calls are dropped at the head of the queue; failed work still arrives.
        var server = await broker.ServeAsync<IFailingWork>(rpc, work);
        await client.FailAsync(1);
        await Wait.UntilAsync(() => server.DeadLettered == 1, "the failing work was dead-lettered");
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Empty(work.RunsOf("Echo"));
        Assert.Equal(1u, await RawAmqp.ReadyMessagesAsync(deadLetters));
        await using var raw = await RawAmqp.ConnectAsync();
        var dead = await raw.Channel.BasicGetAsync(deadLetters, autoAck: true);
        Assert.Equal("Fail", dead!.BasicProperties.Type);
    }

    [Fact]
    public async Task The_dead_letter_queue_of_a_quorum_queue_has_no_length_limit_that_could_drop_failed_work()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync(o => o.Topology.QueueType = RpcQueueType.Quorum);
        var server = await broker.ServeAsync<IFailingWork>(rpc, new FailingWork());

        // The broker refuses a declaration whose arguments differ from the queue's: a quorum queue with no x-max-length
        // (and so no drop-head overflow) is what it must hold.
        await using var amqp = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
        await using var channel = await amqp.CreateChannelAsync();
        string? refused = null;
        try
        {
            await channel.QueueDeclareAsync(server.DeadLetterQueue, durable: true, exclusive: false, autoDelete: false,
                new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
        }
        catch (OperationInterruptedException e)
        {
            refused = e.ShutdownReason?.ReplyText;
        }

        Assert.Null(refused);
    }

    [Fact]
    public async Task One_way_work_carries_a_message_id_unique_per_send_and_kept_on_retries_and_dead_letters()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync(o => o.Server.RetryLimit = 1);
        var client = rpc.CreateClient<IFailingWork>();
        await client.FailAsync(1);
        await client.FailAsync(2);

        var work = new FailingWork();
        var server = await broker.ServeAsync<IFailingWork>(rpc, work);
        await Wait.UntilAsync(() => server.DeadLettered == 2, "both were dead-lettered", seconds: 20);

        await using var raw = await RawAmqp.ConnectAsync();
        var ids = new List<string?>();
        for (int i = 0; i < 2; i++) ids.Add((await raw.Channel.BasicGetAsync(server.DeadLetterQueue, autoAck: true))!.BasicProperties.MessageId);
        Assert.All(ids, id => Assert.False(string.IsNullOrEmpty(id)));
        Assert.NotEqual(ids[0], ids[1]);
        // The handler saw the same id on the first run and on the retry.
        foreach (var id in new[] { 1, 2 })
        {
            var seen = work.RunsOf("Fail").Where(r => r.Id == id).Select(r => r.Context.MessageId).ToList();
            Assert.Equal(2, seen.Count);
            Assert.Single(seen.Distinct());
            Assert.Contains(seen[0], ids);
        }
    }

    [Fact]
    public async Task One_poison_message_logs_one_error_when_it_is_dead_lettered_and_a_warning_per_retry()
    {
        await using var broker = new TestBroker();
        var logs = new LogCapture();
        var rpc = await broker.ConnectAsync(o =>
        {
            o.Server.RetryLimit = 2;
            o.LoggerFactory = logs;
        });
        var server = await broker.ServeAsync<IFailingWork>(rpc, new FailingWork());

        await rpc.CreateClient<IFailingWork>().FailAsync(1);
        await Wait.UntilAsync(() => server.DeadLettered == 1, "the poison message was dead-lettered", seconds: 20);
        await Task.Delay(300);

        var errors = logs.Entries.Where(e => e.Level >= LogLevel.Error).ToList();
        foreach (var entry in logs.Entries.Where(e => e.Level >= LogLevel.Warning)) _output.WriteLine($"{entry.Level} {entry.EventId}: {entry.Message}");
        Assert.Equal(new[] { Diagnostics.RpcLogEvents.WorkDeadLettered }, errors.Select(e => e.EventId));
        Assert.Equal(2, logs.Entries.Count(e => e.EventId == Diagnostics.RpcLogEvents.WorkRetried && e.Level == LogLevel.Warning));
    }

    [Fact]
    public async Task A_dead_letter_moved_back_as_is_is_a_replay_whose_retries_start_again()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync(o => o.Server.RetryLimit = 1);
        var work = new FailingWork();
        var server = await broker.ServeAsync<IFailingWork>(rpc, work);

        await rpc.CreateClient<IFailingWork>().FailAsync(5);
        await Wait.UntilAsync(() => server.DeadLettered == 1, "dead-lettered", seconds: 20);
        Assert.Equal(2, work.RunsOf("Fail").Count());

        // An operator moves it back exactly as it is, dead-letter headers and all.
        await using var raw = await RawAmqp.ConnectAsync();
        var dead = (await raw.Channel.BasicGetAsync(server.DeadLetterQueue, autoAck: true))!;
        await raw.Channel.BasicPublishAsync("", server.Queue, mandatory: true, new BasicProperties(dead.BasicProperties), dead.Body);

        await Wait.UntilAsync(() => server.DeadLettered == 2, "dead-lettered again", seconds: 20);
        await Task.Delay(300);
        // Tried again as a new piece of work: a run and a retry, not one run straight back.
        Assert.Equal(4, work.RunsOf("Fail").Count());
        var again = (await raw.Channel.BasicGetAsync(server.DeadLetterQueue, autoAck: true))!;
        var headers = again.BasicProperties.Headers!;
        Assert.Equal(1, Convert.ToInt32(headers["rpc-retries"]));
        Assert.Equal(1, Convert.ToInt32(headers["rpc-replays"]));
        Assert.Equal(dead.BasicProperties.MessageId, again.BasicProperties.MessageId);
    }

    [Fact]
    public async Task A_retried_delivery_keeps_its_callers_identity_and_a_caller_cannot_forge_it()
    {
        var user = "rpcgen-caller-" + Guid.NewGuid().ToString("N")[..8];
        const string password = "caller-pw-91c";
        await SharedNode.CtlAsync("add_user", user, password);
        try
        {
            await SharedNode.CtlAsync("set_permissions", "-p", "/", user, ".*", ".*", ".*");
            await using var broker = new TestBroker();
            var serving = await broker.ConnectAsync();
            var work = new FailingWork();
            var server = await broker.ServeAsync<IFailingWork>(serving, work);
            var callerUri = new UriBuilder(TestBroker.Uri) { UserName = user, Password = password }.Uri;
            var calling = await broker.ConnectAsync(o => o.Uri = callerUri);

            await calling.CreateClient<IFailingWork>().FlakyAsync(1, 1);
            await Wait.UntilAsync(() => work.RunsOf("Flaky").Count() == 2, "the flaky work ran twice", seconds: 20);
            Assert.Equal(new[] { user, user }, work.RunsOf("Flaky").Select(r => r.Context.UserId));
            Assert.Equal(new[] { false, true }, work.RunsOf("Flaky").Select(r => r.Context.Redelivered));

            // The caller's own client claims a retry on behalf of an administrator: the handler still sees the caller.
            await using var amqp = await new ConnectionFactory { Uri = callerUri }.CreateConnectionAsync();
            await using var channel = await amqp.CreateChannelAsync();
            var forged = new BasicProperties
            {
                Type = "Flaky",
                UserId = user,
                Headers = new Dictionary<string, object?> { ["rpc-original-user"] = "admin", ["rpc-retries"] = 1 },
            };
            await channel.BasicPublishAsync("", server.Queue, mandatory: true, forged, Encoding.UTF8.GetBytes("{\"id\":2,\"failures\":0}"));
            await Wait.UntilAsync(() => work.RunsOf("Flaky").Count() == 3, "the forged retry ran", seconds: 20);
            Assert.Equal(user, work.RunsOf("Flaky").Last().Context.UserId);
        }
        finally
        {
            await SharedNode.CtlAsync("delete_user", user);
        }
    }

    [Fact]
    public async Task Work_an_interceptor_refuses_is_dead_lettered_at_once_not_retried()
    {
        await using var broker = new TestBroker();
        var rpc = await broker.ConnectAsync(o =>
        {
            o.Server.RetryLimit = 3;
            o.Server.Interceptors.Add(new RefuseFlaky());
        });
        var work = new FailingWork();
        var server = await broker.ServeAsync<IFailingWork>(rpc, work);

        await rpc.CreateClient<IFailingWork>().FlakyAsync(1, 0);
        await Wait.UntilAsync(() => server.DeadLettered == 1, "the refused work was dead-lettered", seconds: 20);

        // The same caller would be refused again: retrying it only delays the dead letter.
        Assert.Equal(0, server.Retried);
        Assert.Empty(work.RunsOf("Flaky"));
        await using var raw = await RawAmqp.ConnectAsync();
        var dead = (await raw.Channel.BasicGetAsync(server.DeadLetterQueue, autoAck: true))!;
        Assert.Equal("System.UnauthorizedAccessException", Encoding.UTF8.GetString((byte[])dead.BasicProperties.Headers!["rpc-error-type"]!));
        Assert.Equal(0, Convert.ToInt32(dead.BasicProperties.Headers!["rpc-retries"]));
    }

    /// <summary>An authorising interceptor: refuses every Flaky request without running it.</summary>
    private sealed class RefuseFlaky : IRpcServerInterceptor
    {
        public ValueTask InterceptAsync(RpcServerCallContext call, Func<RpcServerCallContext, ValueTask> next) =>
            call.Method.WireName == "Flaky" ? throw new UnauthorizedAccessException($"{call.Context.UserId} may not run Flaky") : next(call);
    }

    [Fact]
    public async Task A_server_whose_connection_is_not_the_user_its_Uri_names_still_retries_without_user_id()
    {
        await using var broker = new TestBroker();
        // The app opened the connection (as guest); the options name another user, as a Uri without the real
        // credentials would (a client certificate's user, say). RabbitMQ refuses copies with that user_id.
        await using var amqp = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync();
        var options = broker.Options(o =>
        {
            o.Server.RetryLimit = 1;
            o.Server.RetryBackoff = TimeSpan.Zero;
            o.Uri = new UriBuilder(TestBroker.Uri) { UserName = "rpcgen-not-this-user" }.Uri;
        });
        await using var serving = await RpcConnection.CreateAsync(amqp, options);
        var work = new FailingWork();
        var server = await broker.ServeAsync<IFailingWork>(serving, work);
        var calling = await broker.ConnectAsync();

        await calling.CreateClient<IFailingWork>().FlakyAsync(1, 1);
        await Wait.UntilAsync(() => work.RunsOf("Flaky").Count() == 2, "the retry ran", seconds: 20);
        // Counted once the copy's confirm is back, which can be after the copy already ran.
        await Wait.UntilAsync(() => server.Retried == 1, $"the retry was counted (retried: {server.Retried})");
        Assert.Equal(0, server.DeadLettered);
    }

    [Fact]
    public async Task A_hand_off_the_broker_keeps_refusing_is_settled_after_a_few_tries_and_logged_as_an_error()
    {
        await using var broker = new TestBroker();
        var logs = new LogCapture();
        var rpc = await broker.ConnectAsync(o =>
        {
            o.Server.RetryLimit = 0;
            o.LoggerFactory = logs;
        });
        // A full dead-letter queue that refuses what is published to it.
        var deadLetters = broker.QueueName("failing-work") + ".dead-letter";
        await using (var amqp = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync())
        await using (var channel = await amqp.CreateChannelAsync())
        {
            await channel.QueueDeclareAsync(deadLetters, durable: true, exclusive: false, autoDelete: false,
                new Dictionary<string, object?> { ["x-max-length"] = 0, ["x-overflow"] = "reject-publish" });
        }

        var work = new FailingWork();
        var server = await broker.ServeAsync<IFailingWork>(rpc, work);
        await rpc.CreateClient<IFailingWork>().FailAsync(1);

        await Wait.UntilAsync(() => work.RunsOf("Fail").Any(), "the work ran");
        await Task.Delay(TimeSpan.FromSeconds(8));
        foreach (var entry in logs.Entries.Where(e => e.Level >= LogLevel.Warning)) _output.WriteLine($"{entry.Level} {entry.EventId}: {entry.Message}");
        Assert.Single(work.RunsOf("Fail"));
        Assert.Equal(0, server.InFlight);
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains(deadLetters));
        await server.DisposeAsync();
        Assert.Equal(0u, await RawAmqp.ReadyMessagesAsync(server.Queue));
    }
}

/// <summary>rabbitmqctl against the shared node (users only: never its settings).</summary>
internal static class SharedNode
{
    public static Task<string> CtlAsync(params string[] args) => Build.RunAsync(new Dictionary<string, string?>(), ["broker", "ctl", .. args]);
}
