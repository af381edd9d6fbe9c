using System;
using System.Diagnostics;
using System.Threading.Tasks;
using RpcGen;
using Samples.Fibonacci;

// Usage: Samples.Fibonacci [serve | call N | asyncapi DIR] [--amqp URI]
// Broker URI: --amqp, else RPCGEN_AMQP, else amqp://guest:guest@localhost:5672/.
var arguments = new System.Collections.Generic.List<string>(args);
Uri uri = RpcConnectionOptions.DefaultUri;
int amqpAt = arguments.IndexOf("--amqp");
if (amqpAt >= 0)
{
    if (amqpAt + 1 >= arguments.Count) return Fail("--amqp needs a URI, e.g. --amqp amqp://guest:guest@localhost:5672/");
    uri = new Uri(arguments[amqpAt + 1]);
    arguments.RemoveRange(amqpAt, 2);
}
else if (Environment.GetEnvironmentVariable("RPCGEN_AMQP") is { Length: > 0 } fromEnvironment)
{
    uri = new Uri(fromEnvironment);
}

// The contract as the AsyncAPI document rpcgen reads (docs/cli.md); needs no broker.
if (arguments is ["asyncapi", var directory])
{
    System.IO.Directory.CreateDirectory(directory);
    WriteDocument(directory, "Fibonacci", RpcAsyncApi.CreateDocument<IFibonacci>());
    WriteDocument(directory, "FibonacciSequence", RpcAsyncApi.CreateDocument<IFibonacciSequence>());
    return 0;
}

RpcConnection rpc;
try
{
    rpc = await RpcConnection.ConnectAsync(uri);
}
catch (RpcConnectionException e)
{
    return Fail(e.Message);
}

await using (rpc)
{
    switch (arguments.Count > 0 ? arguments[0] : "demo")
    {
        case "serve":
        {
            await using var server = await rpc.ServeAsync<IFibonacci>(new FibonacciService());
            await using var sequence = await rpc.ServeAsync<IFibonacciSequence>(new FibonacciSequenceService());
            var stop = new TaskCompletionSource();
            Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
            Console.WriteLine($"Serving IFibonacci on queue '{server.Queue}' and IFibonacciSequence on queue '{sequence.Queue}'. Press Ctrl+C to stop.");
            await stop.Task;
            Console.WriteLine("Stopping: finishing calls in flight.");
            return 0;
        }

        case "call":
        {
            if (arguments.Count < 2 || !int.TryParse(arguments[1], out var n)) return Fail("usage: call N   (N an integer, 0..92)");
            var fibonacci = rpc.CreateClient<IFibonacci>();
            try
            {
                Console.WriteLine(await fibonacci.FibAsync(n));
                return 0;
            }
            catch (RpcException e) // timeouts too: RpcTimeoutException is an RpcException
            {
                return Fail(e.Message);
            }
        }

        case "demo":
        {
            await using var server = await rpc.ServeAsync<IFibonacci>(new FibonacciService());
            var fibonacci = rpc.CreateClient<IFibonacci>();
            Console.WriteLine($"Serving IFibonacci on queue '{server.Queue}' and calling it over RabbitMQ:");
            await fibonacci.FibAsync(1); // the first call pays for JIT and connection warm-up; not timed below.

            foreach (var n in new[] { 0, 1, 2, 10, 30, 50, 92 })
            {
                var watch = Stopwatch.StartNew();
                long value = await fibonacci.FibAsync(n);
                Console.WriteLine($"  fib({n,2}) = {value,20}   {watch.Elapsed.TotalMilliseconds,7:0.000} ms");
            }

            const int concurrent = 1000;
            var total = Stopwatch.StartNew();
            var calls = new Task<long>[concurrent];
            for (int i = 0; i < concurrent; i++) calls[i] = fibonacci.FibAsync(i % 93);
            var results = await Task.WhenAll(calls);
            total.Stop();
            for (int i = 0; i < concurrent; i++)
            {
                if (results[i] != await new FibonacciService().FibAsync(i % 93)) return Fail($"call {i} got a wrong answer: {results[i]}");
            }

            Console.WriteLine($"  {concurrent} concurrent calls answered correctly in {total.Elapsed.TotalMilliseconds:0} ms ({concurrent / total.Elapsed.TotalSeconds:0} calls/s)");

            try
            {
                await fibonacci.FibAsync(100);
            }
            catch (RpcRemoteException e)
            {
                Console.WriteLine($"  fib(100) fails on the server, as it should: {e.RemoteType}: {e.RemoteMessage.Split('\n')[0]}");
            }

            return 0;
        }

        default:
            return Fail($"unknown command '{arguments[0]}'. Usage: Samples.Fibonacci [serve | call N | asyncapi DIR] [--amqp URI]");
    }
}

static void WriteDocument(string directory, string service, System.Text.Json.Nodes.JsonObject document)
{
    var path = System.IO.Path.Combine(directory, service + ".asyncapi.json");
    System.IO.File.WriteAllText(path, document.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    Console.WriteLine(path);
}

static int Fail(string message)
{
    Console.Error.WriteLine("error: " + message);
    return 1;
}
