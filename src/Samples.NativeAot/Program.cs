using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RpcGen;
using Samples.NativeAot;

// Usage: Samples.NativeAot
// Serves IInventory and calls every method of it from a hosted worker through the injected client, prints each answer
// and how long after process start the first call was answered, then stops. Exit code 0 when every answer is right.
// The broker comes from configuration: RpcGen__Uri=amqp://... in the environment, or --RpcGen:Uri=amqp://...
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton<Inventory>();
builder.Services.AddRpcGen(options =>
        options.JsonSerializerOptions = new JsonSerializerOptions { TypeInfoResolver = InventoryJsonContext.Default })
    .AddRpcServer<IInventory, Inventory>()
    .AddRpcClient<IInventory>();
builder.Services.AddHostedService<Caller>();

using var host = builder.Build();
await host.RunAsync();
return Environment.ExitCode;

/// <summary>Calls each method once, checks the answer, then stops the host.</summary>
internal sealed class Caller : BackgroundService
{
    private readonly IInventory _inventory;
    private readonly IHostApplicationLifetime _lifetime;

    public Caller(IInventory inventory, IHostApplicationLifetime lifetime)
    {
        _inventory = inventory;
        _lifetime = lifetime;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var stored = await _inventory.StoreAsync("apple", 3, stoppingToken);
            // From the moment the OS started the process: runtime start-up, host, connection, server and the call.
            var sinceStart = DateTime.Now - Process.GetCurrentProcess().StartTime;
            Console.WriteLine("first call answered " + sinceStart.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture) +
                " ms after process start");
            Console.WriteLine($"store apple 3 = {stored.Product} {stored.Quantity} at {stored.Price.ToString(CultureInfo.InvariantCulture)}");
            Check(stored == new StockLine("apple", 3, 0.35m), "StoreAsync");

            stored = await _inventory.StoreAsync("apple", 4, stoppingToken);
            var count = await _inventory.CountAsync("apple", stoppingToken);
            Console.WriteLine($"count apple = {count}");
            Check(stored.Quantity == 7 && count == 7, "CountAsync");

            var prices = await _inventory.PricesAsync(stoppingToken);
            Console.WriteLine("prices = " + string.Join(", ", prices.OrderBy(p => p.Key, StringComparer.Ordinal)
                .Select(p => p.Key + " " + p.Value.ToString(CultureInfo.InvariantCulture))));
            Check(prices.Count == 2 && prices["pear"] == 0.42m, "PricesAsync");

            try
            {
                await _inventory.CountAsync("plum", stoppingToken);
                Check(false, "CountAsync of an unknown product");
            }
            catch (RpcRemoteException e)
            {
                Console.WriteLine($"count plum fails on the server: {e.RemoteType}: {e.Message}");
                Check(e.RemoteType == typeof(KeyNotFoundException).FullName, "the error reply's type");
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Console.Error.WriteLine("error: " + e);
            Environment.ExitCode = 1;
        }
        finally
        {
            _lifetime.StopApplication();
        }
    }

    private static void Check(bool condition, string what)
    {
        if (condition) return;
        Console.Error.WriteLine("wrong answer from " + what);
        Environment.ExitCode = 1;
    }
}
