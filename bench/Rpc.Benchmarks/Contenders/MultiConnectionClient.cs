namespace RpcGen.Benchmarks.Contenders;

/// <summary>
/// One contender's client over several connections (<c>--connections N</c>): N clients connected as the contender
/// connects one, with the workers dealt out among them, worker i to client i mod N.
/// </summary>
public sealed class MultiConnectionClient : IContenderClient
{
    private readonly IContenderClient[] _clients;

    private MultiConnectionClient(IContenderClient[] clients) => _clients = clients;

    public static async Task<IContenderClient> ConnectAsync(IContender contender, BenchEnvironment environment, int connections, int maxInFlight, CancellationToken cancellationToken)
    {
        if (connections <= 1) return await contender.ConnectAsync(environment, maxInFlight, cancellationToken);
        var clients = new List<IContenderClient>(connections);
        try
        {
            // Each client carries its share of the workers.
            int perClient = (maxInFlight + connections - 1) / connections;
            for (int i = 0; i < connections; i++) clients.Add(await contender.ConnectAsync(environment, perClient, cancellationToken));
        }
        catch
        {
            foreach (var client in clients) await client.DisposeAsync();
            throw;
        }

        return new MultiConnectionClient(clients.ToArray());
    }

    public IBenchClient ForWorker(int worker) => _clients[worker % _clients.Length].ForWorker(worker / _clients.Length);

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients) await client.DisposeAsync();
    }
}
