using System.Globalization;
using RpcGen.Benchmarks.Contenders;
using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Harness;

/// <summary>The command line of the benchmark; see <see cref="Usage"/>.</summary>
public sealed class BenchOptions
{
    public const string Usage = """
        usage: Rpc.Benchmarks [--quick] [options]
          --quick                 one short round of everything, one offered load (about 3 minutes with the build)
          --rounds N              rounds per scenario; medians are taken over rounds (full: 11)
          --seconds S             measured window per scenario and round (full: 1)
          --contenders a,b        of: rpcgen, rpcgen+batch, rpcgen+nobatch, tutorial, minimal, best-effort, best-effort+all, masstransit, wolverine, grpc
                                  (default: all); variants: rpcgen+single-acks, rpcgen+logger, tutorial+direct-reply-to,
                                  best-effort+expiration+deadline+status+user+mandatory+content-type
          --offered-load a,b      open-loop latency at these percentages of each contender's own maximum
                                  (full: 25,50,75; quick: 50; "none" to skip); needs an in-flight level above 1
          --offered-rounds N      rounds of the offered-load scenarios (full: 3)
          --offered-seconds S     measured window of an offered-load scenario (full: 2)
          --connections N         connect each contender's client N times and deal the workers out among them
                                  (default 1; run it again with 8, 64 to see how cost grows with connections)
          --pending N             hold N int calls pending per contender and measure memory per call
                                  (full: 10000, quick: 2000; 0 to skip; Linux only: stops the server process)
          --payloads a,b          of: int, 1k, 4k, 64k, 256k, 1m (default: int,4k,256k); "sweep": all six
          --in-flight a,b         1 measures latency, more measure throughput (default: 1,16,256)
          --prefetch N            server prefetch of RpcGen and the best-effort server (default: their defaults)
          --prefetch-sweep a,b    measure RpcGen and best effort with each server prefetch instead of the contest
          --allocations           after each window, print where the client's bytes went, by type (GC AllocationTick samples)
          --amqp URI              broker (default: RPCGEN_AMQP, else amqp://guest:guest@localhost:5672/)
        """;

    public bool Serve { get; private set; }
    public bool Quick { get; private set; }
    public int Rounds { get; private set; } = 11;
    public TimeSpan Window { get; private set; } = TimeSpan.FromSeconds(1);
    public TimeSpan Warmup { get; private set; } = TimeSpan.FromSeconds(0.3);
    public string[] Contenders { get; private set; } = ContenderCatalog.All;
    public PayloadKind[] Payloads { get; private set; } = { PayloadKind.Int, PayloadKind.Object4K, PayloadKind.Object256K };
    public int[] InFlight { get; private set; } = { 1, 16, 256 };
    public ushort? Prefetch { get; private set; }
    public bool Allocations { get; private set; }
    public int[] OfferedLoad { get; private set; } = { 25, 50, 75 };
    public int OfferedRounds { get; private set; } = 3;
    public int Pending { get; private set; } = 10_000;
    public int Connections { get; private set; } = 1;
    public TimeSpan OfferedWindow { get; private set; } = TimeSpan.FromSeconds(2);

    /// <summary>Set by the harness for its server process: where the gRPC contender's server listens.</summary>
    public int GrpcPort { get; private set; }
    public ushort[]? PrefetchSweep { get; private set; }
    public Uri Amqp { get; private set; } = new(Environment.GetEnvironmentVariable("RPCGEN_AMQP") is { Length: > 0 } uri ? uri : "amqp://guest:guest@localhost:5672/");

    /// <summary>Set by the harness for its server process.</summary>
    public string? Prefix { get; private set; }

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions();
        bool roundsSet = false, windowSet = false, offeredRoundsSet = false, offeredWindowSet = false, pendingSet = false, offeredLoadSet = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.\n{Usage}");
            switch (args[i])
            {
                case "serve": options.Serve = true; break;
                case "--quick": options.Quick = true; break;
                case "--rounds": options.Rounds = int.Parse(Next(), CultureInfo.InvariantCulture); roundsSet = true; break;
                case "--seconds": options.Window = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)); windowSet = true; break;
                case "--contenders": options.Contenders = List(Next()); break;
                case "--payloads":
                    var payloads = Next();
                    // How cost grows with the body: the int call (a body of a few bytes) up to 1 MB.
                    options.Payloads = payloads == "sweep"
                        ? new[] { PayloadKind.Int, PayloadKind.Object1K, PayloadKind.Object4K, PayloadKind.Object64K, PayloadKind.Object256K, PayloadKind.Object1M }
                        : List(payloads).Select(ParsePayload).ToArray();
                    break;
                case "--in-flight": options.InFlight = List(Next()).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--prefetch": options.Prefetch = ushort.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--prefetch-sweep": options.PrefetchSweep = List(Next()).Select(s => ushort.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--amqp": options.Amqp = new Uri(Next()); break;
                case "--allocations": options.Allocations = true; break;
                case "--prefix": options.Prefix = Next(); break;
                case "--connections": options.Connections = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--pending": options.Pending = int.Parse(Next(), CultureInfo.InvariantCulture); pendingSet = true; break;
                case "--grpc-port": options.GrpcPort = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--offered-load":
                    var load = Next();
                    options.OfferedLoad = load == "none" ? Array.Empty<int>() : List(load).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                    offeredLoadSet = true;
                    break;
                case "--offered-rounds": options.OfferedRounds = int.Parse(Next(), CultureInfo.InvariantCulture); offeredRoundsSet = true; break;
                case "--offered-seconds": options.OfferedWindow = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)); offeredWindowSet = true; break;
                case "-h" or "--help": throw new ArgumentException(Usage);
                default: throw new ArgumentException($"Unknown argument '{args[i]}'.\n{Usage}");
            }
        }

        if (options.Quick)
        {
            if (!roundsSet) options.Rounds = 1;
            if (!windowSet) options.Window = TimeSpan.FromSeconds(0.6);
            if (!offeredRoundsSet) options.OfferedRounds = 1;
            if (!pendingSet) options.Pending = 2_000;
            // One offered load of the three keeps the smoke test near 3 minutes on this host.
            if (!offeredLoadSet) options.OfferedLoad = new[] { 50 };
            if (!offeredWindowSet) options.OfferedWindow = TimeSpan.FromSeconds(0.6);
            options.Warmup = TimeSpan.FromSeconds(0.2);
        }

        foreach (var contender in options.Contenders) _ = ContenderCatalog.Create(contender);
        if (options.Connections < 1) throw new ArgumentException("--connections must be at least 1.");
        if (options.Rounds < 1) throw new ArgumentException("--rounds must be at least 1.");
        if (options.InFlight.Any(n => n < 1)) throw new ArgumentException("--in-flight values must be at least 1.");
        if (options.OfferedLoad.Any(p => p is < 1 or > 100)) throw new ArgumentException("--offered-load values are percentages from 1 to 100.");
        return options;
    }

    /// <summary>The contenders this run measures, built the same way in the harness and in its server process.</summary>
    public IReadOnlyList<IContender> CreateContenders()
    {
        if (PrefetchSweep is { } sweep)
        {
            var list = new List<IContender>();
            foreach (var prefetch in sweep)
            {
                if (Contenders.Contains(ContenderCatalog.BestEffort)) list.Add(new BestEffortContender(prefetch));
                if (Contenders.Contains(ContenderCatalog.RpcGen)) list.Add(new RpcGenContender(prefetch));
            }

            return list;
        }

        return Contenders.Select(c => ContenderCatalog.Create(c, Prefetch)).ToArray();
    }

    /// <summary>The arguments that make the server process serve what this run measures.</summary>
    public IEnumerable<string> ServerArguments(string prefix, int grpcPort)
    {
        yield return "serve";
        yield return "--amqp";
        yield return Amqp.ToString();
        yield return "--prefix";
        yield return prefix;
        yield return "--contenders";
        yield return string.Join(",", Contenders);
        yield return "--grpc-port";
        yield return grpcPort.ToString(CultureInfo.InvariantCulture);
        if (Prefetch is { } prefetch)
        {
            yield return "--prefetch";
            yield return prefetch.ToString(CultureInfo.InvariantCulture);
        }

        if (PrefetchSweep is { } sweep)
        {
            yield return "--prefetch-sweep";
            yield return string.Join(",", sweep);
        }
    }

    private static string[] List(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static PayloadKind ParsePayload(string value) => value.ToLowerInvariant() switch
    {
        "int" => PayloadKind.Int,
        "4k" or "4kb" => PayloadKind.Object4K,
        "256k" or "256kb" => PayloadKind.Object256K,
        "1k" or "1kb" => PayloadKind.Object1K,
        "64k" or "64kb" => PayloadKind.Object64K,
        "1m" or "1mb" => PayloadKind.Object1M,
        _ => throw new ArgumentException($"Unknown payload '{value}'; use int, 1k, 4k, 64k, 256k, 1m or sweep."),
    };
}
