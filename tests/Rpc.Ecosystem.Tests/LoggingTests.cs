using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RpcGen.Diagnostics;
using RpcGen.Ecosystem.Tests.Infrastructure;
using TcpProxy = RpcGen.IntegrationTests.Infrastructure.TcpProxy;

namespace RpcGen.Ecosystem.Tests;

/// <summary>ILogger output: stable event ids for what an operator must see, and silence for calls that succeed.</summary>
public sealed class LoggingTests : IAsyncLifetime
{
    private readonly TestBroker _broker = new();
    private readonly CapturedLogs _logs = new();
    private ILoggerFactory _loggerFactory = null!;

    public Task InitializeAsync()
    {
        _loggerFactory = _logs.CreateFactory();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        _loggerFactory.Dispose();
    }

    [Fact]
    public async Task Connected_call_failed_handler_failed_poison_rejected_and_request_expired_have_their_event_ids()
    {
        await using var connection = await RpcConnection.ConnectAsync(_broker.Options(o => o.LoggerFactory = _loggerFactory));
        var queue = _broker.Queue("calc");
        await using var server = await connection.ServeAsync<IEcoCalculator>(new EcoCalculator());
        var client = connection.CreateClient<IEcoCalculator>();

        var connected = Assert.Single(_logs.WithEventId(RpcLogEvents.Connected));
        Assert.Equal(LogLevel.Information, connected.Level);
        Assert.Equal(RpcDiagnostics.ConnectionLogCategory, connected.Category);
        Assert.Contains("RpcGen ecosystem tests", connected.Message);
        Assert.DoesNotContain(":guest@", connected.Message); // the password is masked

        await Assert.ThrowsAsync<RpcRemoteException>(() => client.FailAsync("out of stock"));
        var handlerFailed = await _logs.WaitForAsync(RpcLogEvents.HandlerFailed, TimeSpan.FromSeconds(10));
        Assert.Equal(LogLevel.Error, handlerFailed.Level);
        Assert.Equal(RpcDiagnostics.ServerLogCategory, handlerFailed.Category);
        Assert.IsType<InvalidOperationException>(handlerFailed.Exception);
        Assert.Contains("EcoCalculator.Fail", handlerFailed.Message);
        var callFailed = await _logs.WaitForAsync(RpcLogEvents.CallFailed, TimeSpan.FromSeconds(10));
        Assert.Equal(LogLevel.Warning, callFailed.Level);
        Assert.Equal(RpcDiagnostics.ClientLogCategory, callFailed.Category);
        Assert.Contains("System.InvalidOperationException: out of stock", callFailed.Message);

        // A plain AMQP client sends a body that can never be read as Add's arguments.
        // And one whose caller gave up a minute ago.
        await using (var amqp = await new ConnectionFactory { Uri = TestBroker.Uri }.CreateConnectionAsync())
        await using (var channel = await amqp.CreateChannelAsync())
        {
            await channel.BasicPublishAsync("", queue, mandatory: false, new BasicProperties { Type = "Add", CorrelationId = "poison-1" },
                Encoding.UTF8.GetBytes("this is not json"));
            var late = new BasicProperties
            {
                Type = "Add",
                CorrelationId = "late-1",
                Headers = new Dictionary<string, object?> { ["rpc-deadline"] = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds() },
            };
            await channel.BasicPublishAsync("", queue, mandatory: false, late, Encoding.UTF8.GetBytes("""{"a": 1, "b": 2}"""));
        }

        var poison = await _logs.WaitForAsync(RpcLogEvents.PoisonMessageRejected, TimeSpan.FromSeconds(10));
        Assert.Equal(LogLevel.Warning, poison.Level);
        Assert.Contains("poison-1", poison.Message);
        Assert.Contains("rpc:bad-request", poison.Message);
        Assert.Contains("not redelivered", poison.Message);
        var expired = await _logs.WaitForAsync(RpcLogEvents.RequestExpired, TimeSpan.FromSeconds(10));
        Assert.Equal(LogLevel.Warning, expired.Level);
        Assert.Contains("late-1", expired.Message);
        Assert.DoesNotContain(_logs.WithEventId(RpcLogEvents.PoisonMessageRejected), e => e.Message.Contains("late-1"));
    }

    [Fact]
    public async Task Successful_calls_log_nothing_above_debug()
    {
        await using var connection = await RpcConnection.ConnectAsync(_broker.Options(o => o.LoggerFactory = _loggerFactory));
        _broker.Queue("calc");
        await using var server = await connection.ServeAsync<IEcoCalculator>(new EcoCalculator());
        var client = connection.CreateClient<IEcoCalculator>();

        for (int i = 0; i < 50; i++) Assert.Equal(i + 1, await client.AddAsync(i, 1));
        await client.NotifyAsync("done");

        var aboveDebug = _logs.Entries.Where(e => e.Level > LogLevel.Debug && e.EventId.Id != RpcLogEvents.Connected).ToList();
        Assert.Empty(aboveDebug);
    }

    [Fact]
    public async Task At_Debug_each_successful_call_is_logged_by_client_and_server_with_service_method_correlation_id_and_elapsed()
    {
        await using var connection = await RpcConnection.ConnectAsync(_broker.Options(o => o.LoggerFactory = _loggerFactory));
        var queue = _broker.Queue("calc");
        await using var server = await connection.ServeAsync<IEcoCalculator>(new EcoCalculator());
        var client = connection.CreateClient<IEcoCalculator>();

        Assert.Equal(5, await client.AddAsync(2, 3));
        await client.NotifyAsync("sent");
        await _logs.WaitForAsync(RpcLogEvents.RequestHandled, TimeSpan.FromSeconds(10));

        var called = Assert.Single(_logs.WithEventId(RpcLogEvents.CallSucceeded), e => e.Message.Contains("EcoCalculator.Add"));
        Assert.Equal(LogLevel.Debug, called.Level);
        Assert.Equal(RpcDiagnostics.ClientLogCategory, called.Category);
        Assert.Matches($@"^RPC EcoCalculator\.Add \(queue '{Regex.Escape(queue)}', correlation id \S+\) succeeded in [0-9.]+ ms$", called.Message);
        // The one-way send has no correlation id; it is logged once the broker confirmed it.
        Assert.Single(_logs.WithEventId(RpcLogEvents.CallSucceeded), e => e.Message.Contains("EcoCalculator.Notify"));

        var answered = await WaitForAsync(() => _logs.WithEventId(RpcLogEvents.RequestHandled).FirstOrDefault(e => e.Message.Contains("EcoCalculator.Add")));
        Assert.Equal(LogLevel.Debug, answered.Level);
        Assert.Equal(RpcDiagnostics.ServerLogCategory, answered.Category);
        Assert.Matches($@"^Answered EcoCalculator\.Add on queue '{Regex.Escape(queue)}' \(correlation id \S+\) in [0-9.]+ ms$", answered.Message);
        // Client and server lines of one call share its correlation id, so a log store can join them.
        Assert.Equal(CorrelationIdOf(called.Message), CorrelationIdOf(answered.Message));
    }

    [Fact]
    public async Task Under_an_Information_minimum_successful_calls_log_nothing()
    {
        using var informationOnly = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Information).AddProvider(_logs));
        await using var connection = await RpcConnection.ConnectAsync(_broker.Options(o => o.LoggerFactory = informationOnly));
        _broker.Queue("calc");
        await using var server = await connection.ServeAsync<IEcoCalculator>(new EcoCalculator());
        var client = connection.CreateClient<IEcoCalculator>();

        for (int i = 0; i < 20; i++) Assert.Equal(i + 1, await client.AddAsync(i, 1));
        await client.NotifyAsync("done");
        await Assert.ThrowsAsync<RpcRemoteException>(() => client.FailAsync("still logged"));
        await _logs.WaitForAsync(RpcLogEvents.HandlerFailed, TimeSpan.FromSeconds(10));

        Assert.DoesNotContain(_logs.Entries, e => e.Level < LogLevel.Information);
    }

    private static string CorrelationIdOf(string message) => Regex.Match(message, @"correlation id (\S+)\)").Groups[1].Value;

    private static async Task<LogEntry> WaitForAsync(Func<LogEntry?> find)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            if (find() is { } entry) return entry;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The log entry did not come within 10 s.");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_dropped_connection_logs_reconnecting_then_recovered()
    {
        await using var proxy = new TcpProxy(TestBroker.Uri);
        await using var connection = await RpcConnection.ConnectAsync(_broker.Options(o =>
        {
            o.Uri = proxy.Through(TestBroker.Uri);
            o.LoggerFactory = _loggerFactory;
        }));
        await _logs.WaitForAsync(RpcLogEvents.Connected, TimeSpan.FromSeconds(10));

        proxy.DropConnections();

        var reconnecting = await _logs.WaitForAsync(RpcLogEvents.Reconnecting, TimeSpan.FromSeconds(30));
        Assert.Equal(LogLevel.Warning, reconnecting.Level);
        Assert.Contains("127.0.0.1", reconnecting.Message);
        var recovered = await _logs.WaitForAsync(RpcLogEvents.Recovered, TimeSpan.FromSeconds(30));
        Assert.Equal(LogLevel.Information, recovered.Level);
        Assert.True(_logs.Entries.ToList().IndexOf(reconnecting) < _logs.Entries.ToList().IndexOf(recovered));
    }
}
