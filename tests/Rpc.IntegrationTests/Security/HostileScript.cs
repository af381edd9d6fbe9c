using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Interop;

namespace RpcGen.IntegrationTests.Security;

/// <summary>
/// Runs hostile_server.py (this folder, not Interop: it is no example for docs/wire-format.md) against the test broker
/// and waits until it consumes its queue.
/// </summary>
internal static class HostileScript
{
    public static async Task<PythonScript> StartAsync(TestBroker broker, string queue, params string[] options)
    {
        broker.Track(queue);
        var script = PythonScript.Start(Path.Combine(PythonScript.Folder, "..", "Security", "hostile_server.py"),
            new[] { "--amqp", TestBroker.Uri.ToString(), "--queue", queue }.Concat(options).ToArray());
        try
        {
            await script.WaitForLineAsync("serving " + queue, TimeSpan.FromSeconds(20));
        }
        catch
        {
            await script.DisposeAsync();
            throw;
        }

        return script;
    }
}
