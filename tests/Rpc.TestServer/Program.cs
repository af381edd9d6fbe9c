using RpcGen;
using RpcGen.TestServer;

// Usage: Rpc.TestServer --amqp URI --prefix PREFIX --name NAME [--prefetch N]
string Arg(string name, string fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
}

var options = new RpcConnectionOptions
{
    Uri = new Uri(Arg("--amqp", RpcConnectionOptions.DefaultUri.ToString())),
    QueuePrefix = Arg("--prefix", string.Empty),
    Server = { Prefetch = ushort.Parse(Arg("--prefetch", "4")) },
};
await using var rpc = await RpcConnection.ConnectAsync(options);
await using var server = await rpc.ServeAsync<IWorkService>(new WorkService(Arg("--name", "worker"), log: true));
Console.WriteLine("ready");
// Serve until stdin closes or the process is killed.
await Task.Run(() => Console.In.ReadToEnd());
