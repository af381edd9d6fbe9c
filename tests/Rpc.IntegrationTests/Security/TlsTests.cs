using System.Diagnostics;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using RpcGen.IntegrationTests.Infrastructure;
using Xunit;

namespace RpcGen.IntegrationTests.Security;

/// <summary>
/// A private node with a TLS listener and a certificate this fixture makes with openssl (its own CA), so amqps://
/// is tested end to end, with validation on.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class TlsBroker : IAsyncLifetime
{
    public static int Port { get; } = TestPorts.Offset + 5692;
    public static int TlsPort { get; } = TestPorts.Offset + 5693;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "rpcgen-tls-" + Guid.NewGuid().ToString("N")[..8]);

    public Uri Uri { get; } = new($"amqps://guest:guest@localhost:{TlsPort}/");

    public X509Certificate2 Authority { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        await OpenSslAsync("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=RpcGen Test CA");
        await OpenSslAsync("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
        await File.WriteAllTextAsync(Path.Combine(_dir, "ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
        await OpenSslAsync("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf");
        // The node runs as the rabbitmq user: it must be able to read the files.
        File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101);
        foreach (var file in Directory.GetFiles(_dir)) File.SetUnixFileMode(file, (UnixFileMode)0b110_100_100);
        Authority = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(_dir, "ca.pem")));

        await Build.RunAsync(Environment(), "broker", "stop"); // a node left on this port would carry an old certificate
        await Build.RunAsync(Environment(), "broker", "start");
    }

    public async Task DisposeAsync()
    {
        await Build.RunAsync(Environment(), "broker", "stop");
        Directory.Delete(_dir, recursive: true);
    }

    private Dictionary<string, string?> Environment() => new()
    {
        ["RPCGEN_PORT"] = Port.ToString(),
        ["RPCGEN_NODE"] = $"rpcgen-tls{TestPorts.Suffix}@localhost",
        ["RPCGEN_BROKER_CONF"] = string.Join('\n',
            $"listeners.ssl.default = {TlsPort}",
            $"ssl_options.cacertfile = {_dir}/ca.pem",
            $"ssl_options.certfile = {_dir}/server.pem",
            $"ssl_options.keyfile = {_dir}/server.key",
            "ssl_options.verify = verify_none",
            "ssl_options.fail_if_no_peer_cert = false"),
    };

    private async Task OpenSslAsync(params string[] args)
    {
        var start = new ProcessStartInfo("openssl") { WorkingDirectory = _dir, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException("openssl " + string.Join(' ', args) + ": " + await error);
    }
}

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class TlsTests : IClassFixture<TlsBroker>
{
    private readonly TlsBroker _broker;

    public TlsTests(TlsBroker broker) => _broker = broker;

    [Fact]
    public async Task Calls_travel_over_amqps_when_the_broker_certificate_chains_to_the_trusted_authority()
    {
        var authority = _broker.Authority;
        var options = new RpcConnectionOptions
        {
            Uri = _broker.Uri,
            QueuePrefix = "tls-" + Guid.NewGuid().ToString("N")[..8] + ".",
            ServerCertificateValidation = (_, certificate, _, errors) => ChainsTo(authority, certificate, errors),
        };

        await using var rpc = await RpcConnection.ConnectAsync(options);
        await using var server = await rpc.ServeAsync<ICalculator>(new Calculator());
        Assert.Equal(42, await rpc.CreateClient<ICalculator>().AddAsync(40, 2));
    }

    [Fact]
    public async Task Certificate_validation_is_on_by_default_and_rejects_an_untrusted_broker()
    {
        var e = await Assert.ThrowsAsync<RpcConnectionException>(() => RpcConnection.ConnectAsync(new RpcConnectionOptions { Uri = _broker.Uri }));

        Assert.Contains($"amqps://guest:***@localhost:{TlsBroker.TlsPort}/", e.Message);
        Assert.DoesNotContain("guest:guest", e.Message);
    }

    /// <summary>Accepts only a certificate whose chain ends at our own CA, and whose name matched the host.</summary>
    private static bool ChainsTo(X509Certificate2 authority, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(new X509Certificate2(certificate));
    }
}
