namespace RpcGen.IntegrationTests.Infrastructure;

/// <summary>
/// Broker users a test adds to the shared node (through ./build.sh broker ctl), each with a unique name and the
/// permissions given, all deleted when disposed. Permissions are the three regular expressions of
/// <c>rabbitmqctl set_permissions</c>: configure, write, read, on the vhost of <see cref="TestBroker.Uri"/>.
/// </summary>
public sealed class BrokerUsers : IAsyncDisposable
{
    private readonly List<string> _users = new();

    public static string VirtualHost { get; } = TestBroker.Uri.AbsolutePath is "/" or "" ? "/" : Uri.UnescapeDataString(TestBroker.Uri.AbsolutePath[1..]);

    /// <summary>Adds a user whose name starts with <paramref name="role"/>; returns the AMQP URI to connect as it.</summary>
    public async Task<(string Name, Uri Uri)> AddAsync(string role, string configure, string write, string read)
    {
        var name = $"rpcgen-{role}-{Guid.NewGuid().ToString("N")[..10]}";
        var password = Guid.NewGuid().ToString("N");
        await CtlAsync("add_user", name, password);
        lock (_users) _users.Add(name);
        await CtlAsync("set_permissions", "-p", VirtualHost, name, configure, write, read);
        return (name, new UriBuilder(TestBroker.Uri) { UserName = name, Password = password }.Uri);
    }

    public static Task<string> CtlAsync(params string[] args) => Build.RunAsync(new Dictionary<string, string?>(), ["broker", "ctl", .. args]);

    public async ValueTask DisposeAsync()
    {
        foreach (var user in _users)
        {
            try
            {
                await CtlAsync("delete_user", user);
            }
            catch (InvalidOperationException)
            {
                // Already gone: nothing left behind.
            }
        }
    }
}
