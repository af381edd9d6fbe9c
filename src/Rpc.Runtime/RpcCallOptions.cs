using System;
using System.Collections.Generic;
using System.Threading;

namespace RpcGen;

/// <summary>
/// Settings for the calls made inside a scope, without changing the service interface:
/// <code>
/// using (RpcCallOptions.WithTimeout(TimeSpan.FromMilliseconds(700)))
/// {
///     await inventory.ReserveAsync(sku, 3);   // expiration and rpc-deadline: 700 ms
/// }
/// </code>
/// The scope flows with the async flow like <see cref="System.Diagnostics.Activity.Current"/>: calls awaited or started
/// inside it (also in tasks it starts) use it; calls elsewhere do not. Scopes nest: an inner scope overrides the
/// settings it sets and keeps the outer scope's others (headers are merged, the inner value winning).
/// </summary>
/// <remarks>
/// Precedence of a call's timeout: this scope's <see cref="Timeout"/>, else the method's
/// <see cref="RpcMethodAttribute.TimeoutMilliseconds"/>, else the service's <see cref="RpcServiceAttribute.TimeoutMilliseconds"/>,
/// else <see cref="RpcClientOptions.DefaultTimeout"/>. A call made while serving a request is then cut to the time that
/// request has left (<c>RpcContext.Current.Deadline</c>), so no inner call outlives the outer one. A call reads the scope
/// when it is made; a streamed result when its method is called, not when it is enumerated.
/// </remarks>
public sealed class RpcCallOptions
{
    private static readonly AsyncLocal<RpcCallOptions?> s_current = new();

    /// <summary>How long the calls wait for a reply; <see langword="null"/> keeps the method's, service's or connection's.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// How long a streamed result may run in all, from the call to its last item; <see langword="null"/> (the default):
    /// no bound but the stream's idle timeout. A stream past it ends with an <see cref="RpcTimeoutException"/>
    /// ("stream deadline of 30 s passed"), and the server's enumeration is cancelled. It does not apply to calls that do not stream; a stream's <see cref="Timeout"/> bounds the wait for its
    /// first item, and <see cref="RpcClientOptions.StreamIdleTimeout"/> each gap after that.
    /// </summary>
    public TimeSpan? StreamDeadline { get; init; }

    /// <summary>
    /// When <see langword="true"/>, a call to a queue that exists but has no consumer waits for a server up to its
    /// timeout (gRPC's wait-for-ready) instead of failing with <see cref="RpcServiceUnavailableException"/>;
    /// <see langword="null"/> keeps <see cref="RpcClientOptions.WaitForReady"/>.
    /// </summary>
    public bool? WaitForReady { get; init; }

    /// <summary>
    /// Headers sent with each request, readable by the handler as <see cref="RpcContext.Headers"/>. Names starting with
    /// <c>rpc-</c>, and <c>traceparent</c>/<c>tracestate</c>, are the runtime's and are refused.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>The settings in force on this async flow, or <see langword="null"/> outside any scope.</summary>
    public static RpcCallOptions? Current => s_current.Value;

    /// <summary>Applies <paramref name="options"/> to the calls made until the returned scope is disposed.</summary>
    /// <exception cref="ArgumentException">A timeout is not positive, or a header name is reserved or empty.</exception>
    public static RpcCallScope Use(RpcCallOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Timeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"RpcCallOptions.Timeout must be positive; it is {timeout}.", nameof(options));
        }

        if (options.StreamDeadline is { } deadline && deadline <= TimeSpan.Zero)
        {
            throw new ArgumentException($"RpcCallOptions.StreamDeadline must be positive; it is {deadline}.", nameof(options));
        }

        if (options.Headers is not null)
        {
            foreach (var header in options.Headers) ValidateHeader(header.Key, header.Value);
        }

        var previous = s_current.Value;
        s_current.Value = previous is null ? options : Merge(previous, options);
        return new RpcCallScope(previous);
    }

    /// <summary>Calls in the returned scope wait <paramref name="timeout"/> for their reply.</summary>
    public static RpcCallScope WithTimeout(TimeSpan timeout) => Use(new RpcCallOptions { Timeout = timeout });

    /// <summary>Calls in the returned scope send the header <paramref name="name"/> = <paramref name="value"/>.</summary>
    public static RpcCallScope WithHeader(string name, string value) =>
        Use(new RpcCallOptions { Headers = new Dictionary<string, string>(1, StringComparer.Ordinal) { [name] = value } });

    /// <summary>Streams started in the returned scope end after <paramref name="deadline"/> in all (<see cref="StreamDeadline"/>).</summary>
    public static RpcCallScope WithStreamDeadline(TimeSpan deadline) => Use(new RpcCallOptions { StreamDeadline = deadline });

    /// <summary>Calls in the returned scope wait for a server to consume their queue, up to their timeout.</summary>
    public static RpcCallScope WithWaitForReady(bool waitForReady = true) => Use(new RpcCallOptions { WaitForReady = waitForReady });

    internal static void Restore(RpcCallOptions? previous) => s_current.Value = previous;

    private static RpcCallOptions Merge(RpcCallOptions outer, RpcCallOptions inner)
    {
        IReadOnlyDictionary<string, string>? headers = inner.Headers ?? outer.Headers;
        if (inner.Headers is not null && outer.Headers is not null)
        {
            var merged = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var header in outer.Headers) merged[header.Key] = header.Value;
            foreach (var header in inner.Headers) merged[header.Key] = header.Value;
            headers = merged;
        }

        return new RpcCallOptions
        {
            Timeout = inner.Timeout ?? outer.Timeout,
            StreamDeadline = inner.StreamDeadline ?? outer.StreamDeadline,
            WaitForReady = inner.WaitForReady ?? outer.WaitForReady,
            Headers = headers,
        };
    }

    private static void ValidateHeader(string name, string value)
    {
        if (string.IsNullOrEmpty(name)) throw new ArgumentException("A call header needs a name.", nameof(name));
        if (Wire.WireContract.IsReservedHeader(name))
        {
            throw new ArgumentException($"Header '{name}' is reserved by RpcGen (names starting with 'rpc-', traceparent, tracestate); choose another name.", nameof(name));
        }

        if (value is null) throw new ArgumentException($"Header '{name}' needs a value (use an empty string for none).", nameof(value));
    }
}

/// <summary>Ends an <see cref="RpcCallOptions"/> scope: the settings in force before it apply again.</summary>
public readonly struct RpcCallScope : IDisposable
{
    private readonly RpcCallOptions? _previous;

    internal RpcCallScope(RpcCallOptions? previous) => _previous = previous;

    /// <summary>Restores the settings in force before the scope began.</summary>
    public void Dispose() => RpcCallOptions.Restore(_previous);
}
