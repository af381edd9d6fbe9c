using System.Diagnostics;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.PostgreSql.Tests.Infrastructure;
using Xunit;

namespace RpcGen.PostgreSql.Tests;

/// <summary>What ./build.sh demo shows: the shop's orders saved in PostgreSQL and announced through the outbox, logistics down and then back.</summary>
public sealed class ShopSampleTests
{
    [Fact]
    public async Task The_shop_saves_its_orders_and_announces_them_through_the_outbox_while_logistics_is_down()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Samples.Shop.dll"), "--amqp", TestBroker.Uri.ToString(), "--postgres", TestDatabase.ConnectionString })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        var output = await stdout;

        Assert.True(process.ExitCode == 0, await stderr + output);
        Assert.Matches(@"orders +saved \w+-1 for 65\.00 \(eu\) with its OrderPlaced in one transaction", output);
        Assert.Matches(@"orders +refused \w+-4: payments said card declined", output);
        Assert.Matches(@"PostgreSQL holds 3 orders of this run; the relay published [3-9]\d* OrderPlaced events", output);
        Assert.Matches(@"logistics is still down: [1-9]\d* OrderPlaced events are waiting in its durable queue 'shop.logistics'", output);
        Assert.True(output.IndexOf("logistics     ships", StringComparison.Ordinal) > output.IndexOf("is still down", StringComparison.Ordinal));
        Assert.Contains("Done: 3 orders saved and announced through the outbox, 2 refused; notifications handled 3 of 3, logistics 2 of 2 after it was back.", output);
    }
}
