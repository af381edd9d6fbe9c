using System;
using System.IO;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RpcGen;
using Samples.Hosting;

// Usage: Samples.Hosting [demo | serve | call A B | asyncapi [FILE]]
//   demo      serve ICalculator and call it from a worker in the same host, print the answers, stop (the default)
//   serve     serve ICalculator until Ctrl+C
//   call      call a server elsewhere and print A + B
//   asyncapi  write ICalculator's AsyncAPI 3.0 document (docs/wire-format.md) to FILE, or print it
// The broker and other options come from configuration: appsettings.json, environment (RpcGen__Uri=amqp://...),
// or the command line (--RpcGen:Uri=amqp://...).
var mode = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "demo";
var json = new JsonSerializerOptions { TypeInfoResolver = SampleJsonContext.Default };
if (mode == "asyncapi")
{
    // The same serializer settings as the service runs with, so the schemas describe the JSON on the wire.
    var document = RpcAsyncApi.CreateDocument<ICalculator>(new RpcAsyncApiOptions { JsonSerializerOptions = json });
    var text = document.ToJsonString(new JsonSerializerOptions
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = SampleJsonContext.Default,
    });
    if (args.Length > 1) File.WriteAllText(args[1], text + Environment.NewLine);
    else Console.WriteLine(text);
    return 0;
}

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);

var rpc = builder.Services.AddRpcGen(options => options.JsonSerializerOptions = json);
builder.Services.AddScoped<RequestScope>();
if (mode is "demo" or "serve") rpc.AddRpcServer<ICalculator, Calculator>();
if (mode is "demo" or "call")
{
    rpc.AddRpcClient<ICalculator>();
    builder.Services.AddSingleton(new CallerArguments(mode, args));
    builder.Services.AddHostedService<Caller>();
}

using var host = builder.Build();
await host.RunAsync();
return Environment.ExitCode;

/// <summary>What the caller was asked to do.</summary>
internal sealed record CallerArguments(string Mode, string[] Args);

/// <summary>A worker that calls the service through the injected client, then stops the host.</summary>
internal sealed class Caller : BackgroundService
{
    private readonly ICalculator _calculator;
    private readonly CallerArguments _arguments;
    private readonly IHostApplicationLifetime _lifetime;

    public Caller(ICalculator calculator, CallerArguments arguments, IHostApplicationLifetime lifetime)
    {
        _calculator = calculator;
        _arguments = arguments;
        _lifetime = lifetime;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (_arguments.Mode == "call")
            {
                if (_arguments.Args.Length < 3 || !int.TryParse(_arguments.Args[1], out var a) || !int.TryParse(_arguments.Args[2], out var b))
                {
                    throw new ArgumentException("usage: Samples.Hosting call A B   (two integers)");
                }

                Console.WriteLine(await _calculator.AddAsync(a, b, stoppingToken));
                return;
            }

            Console.WriteLine($"2 + 3 = {await _calculator.AddAsync(2, 3, stoppingToken)}");
            var summary = await _calculator.SummarizeAsync(new[] { 1.5, 2.5, 9.0 }, stoppingToken);
            Console.WriteLine($"summary of [1.5, 2.5, 9] = count {summary.Count}, mean {summary.Mean}, min {summary.Min}, max {summary.Max} ({summary.ServedBy})");
            try
            {
                await _calculator.SummarizeAsync(Array.Empty<double>(), stoppingToken);
            }
            catch (RpcGen.RpcRemoteException e)
            {
                Console.WriteLine($"summary of [] fails on the server, as it should: {e.RemoteType}");
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Console.Error.WriteLine("error: " + e.Message);
            Environment.ExitCode = 1;
        }
        finally
        {
            _lifetime.StopApplication();
        }
    }
}
