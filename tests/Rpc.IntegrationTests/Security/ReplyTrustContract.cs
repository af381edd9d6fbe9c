// Contracts the reply-trust tests call. Their servers are hostile or broken peers (raw RabbitMQ.Client or pika) that
// answer with whatever bytes a test wants, or RpcGen servers playing the honest service next to them.
namespace RpcGen.IntegrationTests.Security;

/// <summary>A declared fault whose constructor throws when its data lacks <c>Code</c>, as a careless real one would.</summary>
internal sealed class StrictFaultException : Exception
{
    public StrictFaultException(string code) : base("strict " + code.ToUpperInvariant())
    {
        Code = code;
    }

    public string Code { get; }
}

/// <summary>Served by a raw peer that answers each call with the reply its <c>mode</c> names (see UnreadableReplyTests).</summary>
[RpcService(Queue = "broken-replies")]
internal interface IBrokenReplies
{
    [RpcFault(typeof(StrictFaultException))]
    Task<string> GetAsync(string mode);

    [RpcFault(typeof(StrictFaultException))]
    IAsyncEnumerable<int> StreamAsync(string mode, CancellationToken cancellationToken = default);
}

/// <summary>Service A of the forging tests: served by a hostile peer.</summary>
[RpcService(Queue = "trust-a")]
internal interface ITrustA
{
    Task<string> WhoAsync(int n);
}

/// <summary>Service B of the forging tests: served honestly by RpcGen (<see cref="HonestB"/>), or recorded by a raw peer.</summary>
[RpcService(Queue = "trust-b")]
internal interface ITrustB
{
    Task<string> WhoAsync(int n);
}

/// <summary>Answers "B:n" after a delay, so a forged reply has time to arrive first.</summary>
internal sealed class HonestB(int delayMs) : ITrustB
{
    public async Task<string> WhoAsync(int n)
    {
        await Task.Delay(delayMs);
        return "B:" + n;
    }
}
