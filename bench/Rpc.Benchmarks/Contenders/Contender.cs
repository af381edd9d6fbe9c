using RabbitMQ.Client;
using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Contenders;

/// <summary>What one benchmark call looks like from the harness, whatever carries it.</summary>
public interface IBenchClient
{
    Task<int> IncrementAsync(int value);

    Task<Payload> EchoAsync(Payload payload);
}

/// <summary>The client side of a contender, connected and ready for up to a given number of calls in flight.</summary>
public interface IContenderClient : IAsyncDisposable
{
    /// <summary>The client a worker calls through: one shared client, or (tutorial style) one client per worker.</summary>
    IBenchClient ForWorker(int worker);
}

/// <summary>One way of doing RPC over RabbitMQ: its server and its client.</summary>
public interface IContender
{
    /// <summary>The name printed in the tables.</summary>
    string Name { get; }

    /// <summary>Starts the server side; disposing it stops the server and deletes what it declared.</summary>
    Task<IAsyncDisposable> ServeAsync(BenchEnvironment environment, CancellationToken cancellationToken);

    /// <summary>Connects a client able to run <paramref name="maxInFlight"/> calls at once.</summary>
    Task<IContenderClient> ConnectAsync(BenchEnvironment environment, int maxInFlight, CancellationToken cancellationToken);
}

/// <summary>Where the contenders meet: the broker, and a queue prefix that keeps this run's queues apart from others'.</summary>
public sealed record BenchEnvironment(Uri Amqp, string Prefix)
{
    /// <summary>The loopback port of this run's gRPC server (the broker-less contender); 0 when it is not in the run.</summary>
    public int GrpcPort { get; init; }

    public ConnectionFactory ConnectionFactory(string name) => new()
    {
        Uri = Amqp,
        ClientProvidedName = "RpcGen bench " + name,
        // Same settings as RpcGen's own connector where they matter for speed (none of these do per call).
        AutomaticRecoveryEnabled = false,
    };

    /// <summary>A unique prefix per run, so concurrent runs (or a test run) never consume each other's requests.</summary>
    public static string NewPrefix() => "bench-" + Guid.NewGuid().ToString("N")[..8] + ".";
}

/// <summary>The contenders, by the names used on the command line.</summary>
public static class ContenderCatalog
{
    public const string RpcGen = "rpcgen";
    public const string Tutorial = "tutorial";
    public const string BestEffort = "best-effort";
    public const string MassTransit = "masstransit";
    public const string Wolverine = "wolverine";
    public const string Grpc = "grpc";
    public const string Minimal = "minimal";

    /// <summary>RpcGen with <see cref="RpcClientOptions.BatchCalls"/> off: as 1.0 shipped (issue 27 turned it on by default).</summary>
    public const string RpcGenUnbatched = RpcGen + "+nobatch";

    /// <summary>RpcGen with <see cref="RpcClientOptions.BatchCalls"/>: the attempt past the hand-written ceiling (issue 17).</summary>
    public const string RpcGenBatching = RpcGen + "+batch";

    /// <summary>
    /// The tutorial's pair with RabbitMQ's direct reply-to instead of a reply queue of its own, as RpcGen and the minimal
    /// client reply: what the reply path alone costs at one call in flight.
    /// </summary>
    public const string TutorialDirectReplyTo = Tutorial + "+direct-reply-to";

    /// <summary>
    /// RpcGen replying through direct reply-to (<see cref="RpcClientOptions.ReplyQueue"/> = DirectReplyTo), as it did by
    /// default before 1.1 and still does for a user without configure on <c>amq.gen-*</c>.
    /// </summary>
    public const string RpcGenDirectReplyTo = RpcGen + "+direct-reply-to";

    /// <summary>The best effort sending every wire feature RpcGen sends: RpcGen's like-for-like ceiling.</summary>
    public const string BestEffortWithFeatures = BestEffort + "+all";

    // RpcGen batches by default since issue 27: the contest shows it as shipped and with batching off (rpcgen+batch
    // asks for what is now the default, and stays for scripts that name it).
    public static readonly string[] All = { RpcGen, RpcGenUnbatched, Tutorial, Minimal, BestEffort, BestEffortWithFeatures, MassTransit, Wolverine, Grpc };

    /// <summary>
    /// Creates a contender; <paramref name="prefetch"/> sets the server prefetch of RpcGen and the best-effort server (null: their defaults).
    /// <c>best-effort+feature+…</c> is the best-effort contender sending some of RpcGen's wire features (see
    /// <see cref="BestEffortContender.WireFeatures"/>); it is not part of the default contest.
    /// </summary>
    public static IContender Create(string key, ushort? prefetch = null) => key switch
    {
        RpcGen => new RpcGenContender(prefetch),
        RpcGen + "+single-acks" => new RpcGenContender(prefetch, coalesceAcks: false),
        RpcGen + "+logger" => new RpcGenContender(prefetch, logger: true),
        RpcGenBatching => new RpcGenContender(prefetch, batch: true),
        RpcGenUnbatched => new RpcGenContender(prefetch, batch: false),
        RpcGenDirectReplyTo => new RpcGenContender(prefetch, directReplyTo: true),
        Tutorial => new TutorialContender(),
        TutorialDirectReplyTo => new TutorialContender(directReplyTo: true),
        Minimal => new MinimalContender(),
        BestEffort => new BestEffortContender(prefetch ?? BestEffortContender.DefaultPrefetch),
        _ when key.StartsWith(BestEffort + "+", StringComparison.Ordinal) => new BestEffortContender(prefetch ?? BestEffortContender.DefaultPrefetch,
            BestEffortContender.ParseFeatures(key.Split('+').Skip(1))),
        MassTransit => new MassTransitContender(),
        Wolverine => new WolverineContender(),
        Grpc => new GrpcContender(),
        _ => throw new ArgumentException($"Unknown contender '{key}'; use one of {string.Join(", ", All)}."),
    };
}
