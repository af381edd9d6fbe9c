using System.Net;
using System.Net.Sockets;

namespace RpcGen.IntegrationTests.Infrastructure;

/// <summary>
/// A loopback TCP relay in front of a broker, so a test can break its own connections without touching anyone else's.
/// <see cref="Pause"/> makes it a blackhole: it stops forwarding in both directions but closes nothing, as a dead
/// network path does (no FIN, no RST), so only heartbeats and timeouts can notice.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly List<TcpClient> _open = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private volatile TaskCompletionSource _flowing = Open();

    public TcpProxy(Uri target)
    {
        _targetHost = target.Host;
        _targetPort = target.IsDefaultPort || target.Port < 0 ? 5672 : target.Port;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The broker URI with host and port replaced by this proxy's.</summary>
    public Uri Through(Uri broker) => new UriBuilder(broker) { Host = "127.0.0.1", Port = Port }.Uri;

    /// <summary>Stops forwarding bytes (existing and new connections alike) without closing anything.</summary>
    public void Pause() => _flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Forwards again.</summary>
    public void Resume() => _flowing.TrySetResult();

    /// <summary>Closes every relayed connection at once; new connections are still accepted.</summary>
    public void DropConnections()
    {
        lock (_open)
        {
            foreach (var client in _open) client.Dispose();
            _open.Clear();
        }
    }

    private static TaskCompletionSource Open()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            _ = ConnectAndRelayAsync(inbound);
        }
    }

    private async Task ConnectAndRelayAsync(TcpClient inbound)
    {
        var outbound = new TcpClient();
        try
        {
            await _flowing.Task.WaitAsync(_stop.Token);
            await outbound.ConnectAsync(_targetHost, _targetPort, _stop.Token);
        }
        catch (Exception)
        {
            inbound.Dispose();
            outbound.Dispose();
            return;
        }

        lock (_open)
        {
            _open.Add(inbound);
            _open.Add(outbound);
        }

        _ = RelayAsync(inbound, outbound);
        _ = RelayAsync(outbound, inbound);
    }

    private async Task RelayAsync(TcpClient from, TcpClient to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            var source = from.GetStream();
            var target = to.GetStream();
            while (true)
            {
                int read = await source.ReadAsync(buffer, _stop.Token);
                if (read == 0) break;
                // Paused: the bytes read wait here, and nothing more is read, until the path returns.
                await _flowing.Task.WaitAsync(_stop.Token);
                await target.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception)
        {
            // A dropped connection ends the relay; that is the point.
        }
        finally
        {
            from.Dispose();
            to.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        DropConnections();
        await _accepting;
        _stop.Dispose();
    }
}
