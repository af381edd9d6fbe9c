using Microsoft.Extensions.Logging;
using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Contenders;

/// <summary>Contender 1: the generated <c>BenchServiceClient</c> and <c>BenchServiceDispatcher</c> over the RpcGen runtime.</summary>
public sealed class RpcGenContender : IContender
{
    private readonly ushort? _prefetch;
    private readonly bool _coalesceAcks;
    private readonly bool _logger;
    private readonly bool? _batch;
    private readonly bool _directReplyTo;

    /// <param name="prefetch">The server's prefetch; null keeps <see cref="RpcServerOptions.Prefetch"/>'s default.</param>
    /// <param name="coalesceAcks">False: the server acks every request on its own (the variant <c>rpcgen+single-acks</c>).</param>
    /// <param name="logger">
    /// True: client and server log through a Microsoft.Extensions.Logging factory at the usual Information minimum, as
    /// under a host (the variant <c>rpcgen+logger</c>): what the logging hooks cost a call while Debug is off.
    /// </param>
    /// <param name="batch">
    /// <see cref="RpcClientOptions.BatchCalls"/>: true for the variant <c>rpcgen+batch</c>, false for <c>rpcgen+nobatch</c>, null keeps its default.
    /// </param>
    /// <param name="directReplyTo">True: replies through direct reply-to rather than the connection's own queue (the variant <c>rpcgen+direct-reply-to</c>).</param>
    public RpcGenContender(ushort? prefetch = null, bool coalesceAcks = true, bool logger = false, bool? batch = null, bool directReplyTo = false)
    {
        _directReplyTo = directReplyTo;
        _batch = batch;
        _prefetch = prefetch;
        _coalesceAcks = coalesceAcks;
        _logger = logger;
    }

    /// <summary>RpcGen as it ships: default prefetch, acks coalesced.</summary>
    public bool IsDefault => _prefetch is null && _coalesceAcks && !_logger && _batch is null && !_directReplyTo;

    /// <summary>RpcGen with batching asked for and otherwise as it ships.</summary>
    public bool IsBatching => _prefetch is null && _coalesceAcks && !_logger && _batch == true && !_directReplyTo;

    public string Name => (_prefetch is null ? "RpcGen" : $"RpcGen (prefetch {_prefetch})") + (_coalesceAcks ? string.Empty : ", single acks")
        + (_logger ? ", logger at Information" : string.Empty)
        + _batch switch { true => ", batching calls", false => ", batching off", null => string.Empty }
        + (_directReplyTo ? ", direct reply-to" : string.Empty);

    private RpcConnectionOptions Options(BenchEnvironment environment, string role)
    {
        var options = new RpcConnectionOptions
        {
            Uri = environment.Amqp,
            // A prefix per prefetch value lets one server process serve several settings side by side.
            QueuePrefix = environment.Prefix + (_prefetch is null ? string.Empty : "p" + _prefetch + ".") + (_coalesceAcks ? string.Empty : "single-acks.")
                + (_logger ? "logger." : string.Empty) + _batch switch { true => "batch.", false => "nobatch.", null => string.Empty }
                + (_directReplyTo ? "direct-reply-to." : string.Empty),
            JsonSerializerOptions = BenchJson.SharedOptions,
            ConnectionName = "RpcGen bench " + role,
        };
        if (_prefetch is { } prefetch) options.Server.Prefetch = prefetch;
        options.Server.CoalesceAcks = _coalesceAcks;
        if (_batch is { } batch) options.Client.BatchCalls = batch;
        if (_directReplyTo) options.Client.ReplyQueue = RpcReplyQueue.DirectReplyTo;
        if (_logger) options.LoggerFactory = LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Information).AddProvider(new DiscardingProvider()));
        return options;
    }

    /// <summary>Takes every entry the factory's filter lets through and writes it nowhere, so only RpcGen's own cost is timed.</summary>
    private sealed class DiscardingProvider : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
        }

        public void Dispose()
        {
        }
    }

    public async Task<IAsyncDisposable> ServeAsync(BenchEnvironment environment, CancellationToken cancellationToken)
    {
        var options = Options(environment, "server");
        var connection = await RpcConnection.ConnectAsync(options, cancellationToken);
        var acks = new CounterSums(RpcGen.Diagnostics.RpcDiagnostics.ServerSettlements, RpcGen.Diagnostics.RpcDiagnostics.ServerSettlementFrames);
        var server = await connection.ServeAsync<IBenchService>(new BenchService(), cancellationToken);
        return new Serving(environment, connection, server, acks);
    }

    public async Task<IContenderClient> ConnectAsync(BenchEnvironment environment, int maxInFlight, CancellationToken cancellationToken)
    {
        var connection = await RpcConnection.ConnectAsync(Options(environment, "client"), cancellationToken);
        return new Client(connection, connection.CreateClient<IBenchService>());
    }

    private sealed class Serving(BenchEnvironment environment, RpcConnection connection, RpcServer server, CounterSums acks) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await connection.DisposeAsync();
            // How well the server coalesced its acks over the run (Server/Acknowledgements.cs).
            var (settled, frames) = acks.Read();
            acks.Dispose();
            Console.WriteLine($"{server.Queue}: {settled} requests settled with {frames} ack frames "
                + $"({(settled == 0 ? 0 : (double)frames / settled):0.00} per request).");
            // RpcGen declares its service queues durable; this run's queue must not outlive it.
            await AmqpCleanup.DeleteQueuesAsync(environment, server.Queue);
        }
    }

    private sealed class Client(RpcConnection connection, IBenchService service) : IContenderClient, IBenchClient
    {
        // How many calls travelled in batches (RpcClientOptions.BatchCalls; Client/CallBatcher.cs), read from the RpcGen Meter as
        // an operator would; every RpcGen client in the process counts, which for one contender at a time is this one.
        private readonly CounterSums _batches = new(RpcGen.Diagnostics.RpcDiagnostics.ClientBatches, RpcGen.Diagnostics.RpcDiagnostics.ClientBatchedCalls);
        private readonly DateTime _connected = DateTime.UtcNow;

        public IBenchClient ForWorker(int worker) => this;

        public Task<int> IncrementAsync(int value) => service.IncrementAsync(value);

        public Task<Payload> EchoAsync(Payload payload) => service.EchoAsync(payload);

        public ValueTask DisposeAsync()
        {
            var (batches, calls) = _batches.Read();
            _batches.Dispose();
            if (batches > 0) Console.WriteLine($"{connection.Settings.ConnectionName}: {calls} calls sent in {batches} batches ({(double)calls / batches:0.0} per batch).");
            // What learning who reads batches cost this client (Client/BatchReaders.cs): passive declares over its life.
            if (connection.Invoker.BatchReaderProbes > 0)
            {
                Console.Error.WriteLine($"{connection.Settings.ConnectionName}: {connection.Invoker.BatchReaderProbes} passive declares to learn who reads batches "
                    + $"in {(DateTime.UtcNow - _connected).TotalSeconds:0} s.");
            }
            return connection.DisposeAsync();
        }
    }

    /// <summary>The sums of two counters of the RpcGen meter since it was made (the run serves one queue, on one connection a side).</summary>
    private sealed class CounterSums : IDisposable
    {
        private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
        private long _first;
        private long _second;

        public CounterSums(string first, string second)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == RpcGen.Diagnostics.RpcDiagnostics.MeterName && (instrument.Name == first || instrument.Name == second))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
                Interlocked.Add(ref instrument.Name == first ? ref _first : ref _second, value));
            _listener.Start();
        }

        public (long First, long Second) Read() => (Interlocked.Read(ref _first), Interlocked.Read(ref _second));

        public void Dispose() => _listener.Dispose();
    }
}
