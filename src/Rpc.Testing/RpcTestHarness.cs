using System;
using System.Collections.Generic;
using System.Linq;
using System.Linq.Expressions;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using RabbitMQ.Client;
using RpcGen.Generated;
using RpcGen.Testing.Broker;

namespace RpcGen.Testing;

/// <summary>
/// RpcGen on an in-memory broker, for tests: <see cref="Connection"/> is a real <see cref="RpcConnection"/> (the same
/// clients, servers, publishers and subscribers, the same timeouts, retries and dead letters) over an in-process
/// RabbitMQ, with no sockets. It records what was sent, delivered, handled, faulted, answered, retried and
/// dead-lettered (<see cref="Records"/>, <see cref="WaitForAsync{T}"/>), simulates what brokers do to applications on
/// request (<see cref="RedeliverNext{TService}"/>, <see cref="SimulateServiceDown{TService}"/>, <see cref="DropNextReply"/>,
/// <see cref="BlockConnectionsAsync"/>), and can run on a fake clock (<see cref="FakeTime"/>). docs/testing.md lists
/// where it differs from RabbitMQ.
/// </summary>
/// <example><code>
/// await using var harness = await RpcTestHarness.StartAsync(o =&gt; o.UseFakeTime = true);
/// await using var server = await harness.Connection.ServeAsync&lt;IStock&gt;(new Stock());
/// var stock = harness.Connection.CreateClient&lt;IStock&gt;();
/// </code></example>
public sealed class RpcTestHarness : IAsyncDisposable
{
    private static readonly TimeSpan s_defaultWait = TimeSpan.FromSeconds(10);
    private readonly InMemoryBroker _broker;
    private readonly RpcTestRecorder _recorder;
    private readonly RpcTestHarnessOptions _options;
    private readonly List<RpcConnection> _connections = new();
    private readonly List<MemoryConnection> _amqpConnections = new();
    private RpcConnection? _connection;
    private int _disposed;

    private RpcTestHarness(RpcTestHarnessOptions options, TimeProvider time)
    {
        _options = options;
        TimeProvider = time;
        _recorder = new RpcTestRecorder(time);
        _broker = new InMemoryBroker(time, _recorder);
    }

    /// <summary>
    /// Starts an in-memory broker and opens <see cref="Connection"/> on it.
    /// </summary>
    /// <param name="configure">Changes the harness's options (fake time, the connections' options, the user).</param>
    /// <param name="cancellationToken">Cancels opening the connection.</param>
    public static async Task<RpcTestHarness> StartAsync(Action<RpcTestHarnessOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        var options = new RpcTestHarnessOptions();
        configure?.Invoke(options);
        var time = options.TimeProvider ?? (options.UseFakeTime ? new TrackedClock(new FakeTimeProvider(options.FakeTimeStart)) : TimeProvider.System);
        var harness = new RpcTestHarness(options, time);
        harness._connection = await harness.ConnectAsync(configure: null, cancellationToken).ConfigureAwait(false);
        return harness;
    }

    /// <summary>The connection tests serve, call, publish and subscribe on.</summary>
    public RpcConnection Connection => _connection ?? throw new InvalidOperationException("The harness has not started.");

    /// <summary>The clock of every connection of the harness and of the broker's message TTLs.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>The fake clock, with <see cref="RpcTestHarnessOptions.UseFakeTime"/>; advance it with <see cref="AdvanceTime"/>.</summary>
    /// <exception cref="InvalidOperationException">The harness runs on another clock.</exception>
    public FakeTimeProvider FakeTime => TimeProvider switch
    {
        TrackedClock tracked => tracked.Fake,
        FakeTimeProvider fake => fake,
        _ => throw new InvalidOperationException("The harness runs on the system clock: start it with options.UseFakeTime = true to advance time."),
    };

    /// <summary>Everything recorded so far, oldest first.</summary>
    public IReadOnlyList<RpcTestRecord> Records => _recorder.Snapshot();

    /// <summary>
    /// Opens another <see cref="RpcConnection"/> on the same broker (another process of the same system: a second
    /// server, a caller whose connection a test closes), with the harness's options, clock and recording.
    /// </summary>
    /// <param name="configure">Changes this connection's options after the harness's <see cref="RpcTestHarnessOptions.ConfigureConnection"/>.</param>
    /// <param name="cancellationToken">Cancels opening the connection.</param>
    public async Task<RpcConnection> ConnectAsync(Action<RpcConnectionOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        var options = new RpcConnectionOptions { ConnectionName = "RpcGen.Testing" };
        _options.ConfigureConnection?.Invoke(options);
        configure?.Invoke(options);
        ApplyTo(options);
        var amqp = CreateAmqpConnection();
        var connection = await RpcConnection.CreateAsync(amqp, options, cancellationToken).ConfigureAwait(false);
        lock (_connections) _connections.Add(connection);
        return connection;
    }

    /// <summary>
    /// What every connection on the harness's broker needs, whoever made its options (the harness, or <c>AddRpcGen</c>
    /// through <see cref="RpcTestHarnessBuilderExtensions.UseRpcTestHarness"/>): the harness's user (sent as
    /// <c>user_id</c>), its clock, and its recording interceptor first.
    /// </summary>
    internal void ApplyTo(RpcConnectionOptions options)
    {
        options.Uri = new Uri($"amqp://{Uri.EscapeDataString(_options.UserName)}:in-memory@in-memory/");
        options.TimeProvider = TimeProvider;
        if (!options.Server.Interceptors.Contains(_recorder)) options.Server.Interceptors.Insert(0, _recorder);
    }

    /// <summary>
    /// A raw AMQP connection to the in-memory broker, as RabbitMQ.Client's <see cref="IConnection"/>: for a test that
    /// looks at queues itself (<c>BasicGetAsync</c> on a dead-letter queue), or for <c>UseConnection</c> under <c>AddRpcGen</c>.
    /// The harness closes it when disposed.
    /// </summary>
    public IConnection CreateAmqpConnection()
    {
        var connection = new MemoryConnection(_broker, _options.UserName, "RpcGen.Testing");
        lock (_amqpConnections) _amqpConnections.Add(connection);
        return connection;
    }

    /// <summary>Moves the fake clock forward and expires the messages whose TTL passed meanwhile (as the broker would have).</summary>
    /// <exception cref="InvalidOperationException">The harness runs on another clock.</exception>
    public void AdvanceTime(TimeSpan by)
    {
        FakeTime.Advance(by);
        _broker.ExpireAll();
    }

    /// <summary>
    /// Moves the fake clock from one due timer to the next (a retry's backoff, a call's timeout, a stream's idle
    /// timeout) until <paramref name="count"/> records of <paramref name="kind"/> exist for <typeparamref name="T"/>,
    /// and returns them. Before each step it lets what the last one started run (it waits for a record or a new timer,
    /// at most 50 ms of real time), so a timer made in reaction to the last step is never jumped over.
    /// </summary>
    /// <param name="kind">What must have happened.</param>
    /// <param name="method">The method as a method group; <see langword="null"/>: any method.</param>
    /// <param name="count">How many times.</param>
    /// <param name="limit">How far the fake clock may move; an hour when <see langword="null"/>.</param>
    /// <param name="timeout">How long to try on the real clock; 10 seconds when <see langword="null"/>.</param>
    /// <exception cref="InvalidOperationException">The harness does not run on <see cref="RpcTestHarnessOptions.UseFakeTime"/>.</exception>
    /// <exception cref="TimeoutException">Fewer came within the limit or the timeout; the message names what was expected and what was recorded.</exception>
    public async Task<IReadOnlyList<RpcTestRecord>> AdvanceTimeUntilAsync<T>(RpcTestEventKind kind, Expression<Func<T, Delegate>>? method = null, int count = 1,
        TimeSpan? limit = null, TimeSpan? timeout = null) where T : class
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var clock = TimeProvider as TrackedClock
            ?? throw new InvalidOperationException("AdvanceTimeUntilAsync needs the harness's own fake clock: start it with options.UseFakeTime = true.");
        var filter = FilterFor(method);
        var end = clock.GetUtcNow() + (limit ?? TimeSpan.FromHours(1));
        var wait = timeout ?? s_defaultWait;
        var until = DateTime.UtcNow + wait;
        while (true)
        {
            var activity = Task.WhenAny(_recorder.Changed, clock.Changed);
            var seen = _recorder.Snapshot();
            var matching = seen.Where(r => r.Kind == kind && filter.Matches(r)).ToArray();
            if (matching.Length >= count) return matching;
            if (DateTime.UtcNow > until) throw new TimeoutException(Describe(kind, filter, count, matching.Length, wait, seen));
            if (await Task.WhenAny(activity, Task.Delay(s_settle)).ConfigureAwait(false) == activity) continue;
            if (clock.NextDue() is not { } next || next > end) continue;
            AdvanceTime(next > clock.GetUtcNow() ? next - clock.GetUtcNow() : TimeSpan.Zero);
        }
    }

    private static readonly TimeSpan s_settle = TimeSpan.FromMilliseconds(50);

    /// <summary>The records of <paramref name="kind"/> for <typeparamref name="T"/> (a service or events interface), of one method or all.</summary>
    /// <param name="kind">What happened.</param>
    /// <param name="method">The method as a method group (<c>x =&gt; x.PlaceAsync</c>); <see langword="null"/>: every method.</param>
    public IReadOnlyList<RpcTestRecord> Find<T>(RpcTestEventKind kind, Expression<Func<T, Delegate>>? method = null) where T : class
    {
        var filter = FilterFor(method);
        return _recorder.Snapshot().Where(r => r.Kind == kind && filter.Matches(r)).ToArray();
    }

    /// <summary>
    /// Waits until <paramref name="count"/> records of <paramref name="kind"/> for <typeparamref name="T"/> exist and
    /// returns them; never sleeps (it wakes at each record). Waits on the real clock, whatever the harness runs on.
    /// </summary>
    /// <param name="kind">What must have happened.</param>
    /// <param name="method">The method as a method group (<c>x =&gt; x.PlaceAsync</c>); <see langword="null"/>: any method.</param>
    /// <param name="count">How many times.</param>
    /// <param name="timeout">How long to wait on the real clock; 10 seconds when <see langword="null"/>.</param>
    /// <exception cref="TimeoutException">Fewer came in time: the message names what was expected and lists what was recorded for <typeparamref name="T"/>.</exception>
    public async Task<IReadOnlyList<RpcTestRecord>> WaitForAsync<T>(RpcTestEventKind kind, Expression<Func<T, Delegate>>? method = null, int count = 1,
        TimeSpan? timeout = null) where T : class
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var filter = FilterFor(method);
        var limit = timeout ?? s_defaultWait;
        var until = DateTime.UtcNow + limit;
        while (true)
        {
            var changed = _recorder.Changed;
            var seen = _recorder.Snapshot();
            var matching = seen.Where(r => r.Kind == kind && filter.Matches(r)).ToArray();
            if (matching.Length >= count) return matching;
            var left = until - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException(Describe(kind, filter, count, matching.Length, limit, seen));
            try
            {
                await changed.WaitAsync(left).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Checked once more above, then reported.
            }
        }
    }

    /// <summary>Waits until the handler of <paramref name="method"/> returned <paramref name="count"/> times (see <see cref="WaitForAsync{T}"/>).</summary>
    /// <exception cref="TimeoutException">Fewer came in time; the message names what was expected and what was recorded.</exception>
    public Task<IReadOnlyList<RpcTestRecord>> WaitForHandledAsync<T>(Expression<Func<T, Delegate>> method, int count = 1, TimeSpan? timeout = null) where T : class =>
        WaitForAsync(RpcTestEventKind.Handled, method, count, timeout);

    /// <summary>Waits until the handler of <paramref name="method"/> threw <paramref name="count"/> times (see <see cref="WaitForAsync{T}"/>).</summary>
    /// <exception cref="TimeoutException">Fewer came in time; the message names what was expected and what was recorded.</exception>
    public Task<IReadOnlyList<RpcTestRecord>> WaitForFaultedAsync<T>(Expression<Func<T, Delegate>> method, int count = 1, TimeSpan? timeout = null) where T : class =>
        WaitForAsync(RpcTestEventKind.Faulted, method, count, timeout);

    /// <summary>Waits until <paramref name="count"/> messages of <paramref name="method"/> reached the dead-letter queue (see <see cref="WaitForAsync{T}"/>).</summary>
    /// <exception cref="TimeoutException">Fewer came in time; the message names what was expected and what was recorded.</exception>
    public Task<IReadOnlyList<RpcTestRecord>> WaitForDeadLetteredAsync<T>(Expression<Func<T, Delegate>> method, int count = 1, TimeSpan? timeout = null) where T : class =>
        WaitForAsync(RpcTestEventKind.DeadLettered, method, count, timeout);

    /// <summary>The next delivery from <typeparamref name="TService"/>'s queue arrives with the redelivered flag, as after a server that died before it acked.</summary>
    /// <exception cref="InvalidOperationException">The queue does not exist yet: serve the service first.</exception>
    public void RedeliverNext<TService>() where TService : class =>
        WithQueue(QueueOf<TService>(), queue => queue.RedeliverNext = true);

    /// <summary>
    /// Until the returned handle is disposed, <typeparamref name="TService"/>'s queue behaves as one no server consumes:
    /// requests wait in it, a passive declare counts no consumer, so calls fail as they do when the service is down
    /// (<see cref="RpcRequestQueuedException"/>, then <see cref="RpcServiceUnavailableException"/>) or wait for it with
    /// <see cref="RpcCallOptions.WaitForReady"/>; one-way work and events wait for it. Disposing delivers what waited.
    /// </summary>
    /// <exception cref="InvalidOperationException">The queue does not exist yet: serve the service first.</exception>
    public IDisposable SimulateServiceDown<TService>() where TService : class
    {
        var queue = QueueOf<TService>();
        WithQueue(queue, q => q.Held = true);
        return new Restore(() => WithQueue(queue, q => q.Held = false));
    }

    /// <summary>The next reply a server sends to a caller is lost on its way (the call times out, as when a reply is lost with its connection).</summary>
    public void DropNextReply()
    {
        lock (_broker.Gate) _broker.RepliesToDrop++;
    }

    /// <summary>
    /// The broker blocks every connection of the harness (<c>connection.blocked</c>, sent on a memory or disk alarm):
    /// RpcGen fails calls and sends at once with <see cref="RpcBrokerBlockedException"/>, and a publish already under
    /// way waits until <see cref="UnblockConnectionsAsync"/>.
    /// </summary>
    /// <param name="reason">The broker's reason, as <see cref="RpcConnection.BlockedReason"/> reports it.</param>
    public async Task BlockConnectionsAsync(string reason = "low on memory")
    {
        foreach (var connection in AmqpConnections()) await connection.BlockAsync(reason).ConfigureAwait(false);
    }

    /// <summary>The alarm clears: the connections are unblocked (<c>connection.unblocked</c>).</summary>
    public async Task UnblockConnectionsAsync()
    {
        foreach (var connection in AmqpConnections()) await connection.UnblockAsync().ConfigureAwait(false);
    }

    /// <summary>The messages ready in <paramref name="queue"/> (not delivered, or given back): 0 when there is no such queue.</summary>
    public int MessageCount(string queue) => _broker.Peek(queue).Count;

    /// <summary>Whether a queue of that name exists on the broker.</summary>
    public bool QueueExists(string queue) => _broker.QueueExists(queue);

    /// <summary>The queue <typeparamref name="TService"/> is served on, with the connection's queue prefix.</summary>
    public string QueueOf<TService>() where TService : class =>
        RpcServiceRegistry.Get<TService>().Descriptor is RpcEventsDescriptor
            ? throw new InvalidOperationException($"{typeof(TService).Name} is an [RpcEvents] interface: its subscriptions have queues of their own.")
            : Connection.Invoker.QueueOf(RpcServiceRegistry.Get<TService>().Descriptor).Value;

    /// <summary>Stops the servers (draining their calls) and closes every connection of the harness.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        RpcConnection[] connections;
        lock (_connections) connections = _connections.ToArray();
        foreach (var connection in connections) await connection.DisposeAsync().ConfigureAwait(false);
        foreach (var connection in AmqpConnections()) await connection.DisposeAsync().ConfigureAwait(false);
    }

    private MemoryConnection[] AmqpConnections()
    {
        lock (_amqpConnections) return _amqpConnections.ToArray();
    }

    private void WithQueue(string queue, Action<MemoryQueue> change)
    {
        if (!_broker.WithQueue(queue, change)) throw new InvalidOperationException($"Queue '{queue}' does not exist yet: serve the service (or send to it) first.");
    }

    private RecordFilter FilterFor<T>(Expression<Func<T, Delegate>>? method) where T : class
    {
        var descriptor = RpcServiceRegistry.Get<T>().Descriptor;
        string destination = descriptor is RpcEventsDescriptor events ? Connection.Settings.ExchangeFor(events) : Connection.Invoker.QueueOf(descriptor).Value;
        string? wireName = method is null ? null : MethodSelector.WireNameOf(descriptor, method);
        return new RecordFilter(typeof(T).Name, descriptor.Name, destination, wireName);
    }

    private static string Describe(RpcTestEventKind kind, RecordFilter filter, int count, int found, TimeSpan waited, IReadOnlyList<RpcTestRecord> seen)
    {
        var text = new StringBuilder();
        text.Append($"Expected {count} {kind} of {filter.Describe()} within {waited.TotalSeconds:0.###} s; saw {found}.");
        var ofService = seen.Where(filter.MatchesService).ToArray();
        if (ofService.Length == 0)
        {
            text.Append($" Nothing was recorded for {filter.Interface} (is it served or subscribed on a harness connection?).");
            return text.ToString();
        }

        text.Append($" Recorded for {filter.Interface}:");
        foreach (var group in ofService.GroupBy(r => (r.Kind, r.Method)))
        {
            text.Append($" {group.Key.Kind} {group.Key.Method} x{group.Count()}");
            if (group.Key.Kind == RpcTestEventKind.Faulted && group.Last().Exception is { } last) text.Append($" (last: {last.GetType().Name}: {last.Message})");
            text.Append(';');
        }

        return text.ToString().TrimEnd(';') + ".";
    }

    private sealed record RecordFilter(string Interface, string Service, string Destination, string? Method)
    {
        public bool MatchesService(RpcTestRecord record) => record.Service == Service || record.Service is null && record.Destination == Destination;

        public bool Matches(RpcTestRecord record) => MatchesService(record) && (Method is null || record.Method == Method);

        public string Describe() => Method is null ? Interface : Interface + "." + Method;
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        private Action? _restore = restore;

        public void Dispose() => Interlocked.Exchange(ref _restore, null)?.Invoke();
    }
}
