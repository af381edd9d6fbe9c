namespace RpcGen.IntegrationTests.Evolution;

/// <summary>
/// What a compiled contract version offers the test: serve the service, make a named call as its client. Declared
/// here, in the test assembly that every load context shares, so versions loaded side by side meet through it.
/// </summary>
public interface IContractPeer
{
    string Version { get; }

    Task<IAsyncDisposable> ServeAsync(RpcConnection connection);

    /// <summary>Makes one of <see cref="ContractVersions.V1Calls"/> or <see cref="ContractVersions.V2Calls"/> and shows its result.</summary>
    Task<string> CallAsync(RpcConnection connection, string call);

    /// <summary>Calls the tutorial pika fib server through a v2 contract that added an optional parameter.</summary>
    Task<long> TutorialFibAsync(RpcConnection connection, int n);
}
