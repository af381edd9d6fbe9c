using RpcGen.Cli.Tests.Infrastructure;
using Samples.Fibonacci;

namespace RpcGen.Cli.Tests;

/// <summary>
/// rpcgen top and stream as a person sees them: in a real terminal (tmux), on a private node with the management API.
/// </summary>
[Collection(TerminalCollection.Name)]
public sealed class TerminalTests(ManagementNode node) : IAsyncLifetime
{
    private readonly string _prefix = "cli-" + Guid.NewGuid().ToString("N")[..8] + ".";
    private readonly RecordingFibonacci _fibonacci = new();
    private RpcConnection _connection = null!;

    public async Task InitializeAsync()
    {
        _connection = await RpcConnection.ConnectAsync(new RpcConnectionOptions { Uri = node.Uri, QueuePrefix = _prefix });
        await _connection.ServeAsync<IFibonacci>(_fibonacci);
        await _connection.ServeAsync<IFibonacciSequence>(_fibonacci);
    }

    public async Task DisposeAsync() => await _connection.DisposeAsync();

    [Fact]
    public async Task Top_shows_each_service_live_and_redraws_every_second()
    {
        using var terminal = Tmux.Start(_prefix, node.Uri, "top");
        var first = await terminal.WaitForAsync(s => s.Contains("Fibonacci") && s.Contains("rpcgen top"), "the table");
        Assert.Contains($"{_prefix}Fibonacci", first);
        Assert.Contains($"{_prefix}shop.stock", first);
        Assert.Contains("no queue", first); // nobody serves the shop here

        // Calls in a loop: the rates come up within a few refreshes.
        var client = _connection.CreateClient<IFibonacci>();
        using var stop = new CancellationTokenSource();
        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await client.FibAsync(20);
                await Task.Delay(5);
            }
        });
        var busy = await terminal.WaitForAsync(s => Row(s, "Fibonacci") is { } row && Rate(row, 0) > 0 && Rate(row, 1) > 0, "a rate above 0 for Fibonacci", 30);
        var consumers = Row(busy, "Fibonacci")!.Split('│', StringSplitOptions.TrimEntries)[7];
        Assert.Equal("1", consumers);
        stop.Cancel();
        await load;

        var title = busy.Split('\n').First(line => line.Contains("rpcgen top:"));
        var clock = title[(title.LastIndexOf(", ", StringComparison.Ordinal) + 2)..].Trim();
        Assert.Matches(@"^\d\d:\d\d:\d\d$", clock);
        await terminal.WaitForAsync(s => !s.Contains(clock), "the clock to move on: the table redrawn", 10);
        terminal.SendKeys("C-c");
        await terminal.WaitForAsync(s => s.Contains("[exit 0]"), "top to exit on Ctrl-C", 15);
    }

    [Fact]
    public async Task Ctrl_C_on_a_stream_cancels_the_servers_work()
    {
        using var terminal = Tmux.Start(_prefix, node.Uri, "stream", "FibonacciSequence.Sequence", "{\"count\":93,\"delayMs\":100}", "--window", "2");
        await terminal.WaitForAsync(s => s.Contains("\n13\n"), "the first items");
        terminal.SendKeys("C-c");
        var screen = await terminal.WaitForAsync(s => s.Contains("[exit 130]"), "rpcgen to exit 130");
        Assert.Contains("interrupted after", screen);
        Assert.Contains("the stream was cancelled, at the server too", screen);
        await _fibonacci.StreamCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        int sent = _fibonacci.StreamItemsSent;
        await Task.Delay(500);
        Assert.Equal(sent, _fibonacci.StreamItemsSent);
        Assert.True(sent < 93, $"the server sent {sent} items");
    }

    /// <summary>The table row of <paramref name="service"/>: service │ queue │ in/s │ out/s │ depth │ unacked │ consumers │ dead.</summary>
    private static string? Row(string screen, string service) =>
        screen.Split('\n').FirstOrDefault(line => line.Split('│', StringSplitOptions.TrimEntries) is [_, var name, ..] && name == service);

    private static double Rate(string row, int index) =>
        double.TryParse(row.Split('│', StringSplitOptions.TrimEntries)[3 + index], System.Globalization.CultureInfo.InvariantCulture, out var rate) ? rate : 0;
}
