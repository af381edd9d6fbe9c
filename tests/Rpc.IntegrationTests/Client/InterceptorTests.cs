using System.Collections.Concurrent;
using RpcGen.IntegrationTests.Infrastructure;
using RpcGen.IntegrationTests.Shapes.Faults;
using Xunit;

namespace RpcGen.IntegrationTests.Semantics;

/// <summary>Per-call headers reach the handler; client and server interceptors see each call and can refuse it.</summary>
[Collection(SemanticsCollection.Name)]
public sealed class InterceptorTests
{
    [Fact]
    public async Task Headers_of_a_call_scope_are_readable_on_the_server_and_reserved_names_are_refused()
    {
        await using var broker = new TestBroker();
        await broker.ServeAsync<IShop>(await broker.ConnectAsync(), new Shop());
        var shop = (await broker.ConnectAsync()).CreateClient<IShop>();

        using (RpcCallOptions.WithHeader("tenant", "acme"))
        using (RpcCallOptions.WithHeader("region", "eu"))
        {
            Assert.Equal("acme", await shop.HeaderAsync("tenant"));
            Assert.Equal("eu", await shop.HeaderAsync("region"));
        }

        Assert.Null(await shop.HeaderAsync("tenant"));
        // The runtime's own headers are not the caller's.
        Assert.Null(await shop.HeaderAsync("rpc-deadline"));
        Assert.Throws<ArgumentException>(() => RpcCallOptions.WithHeader("rpc-deadline", "0"));
        Assert.Throws<ArgumentException>(() => RpcCallOptions.WithHeader("traceparent", "x"));
    }

    [Fact]
    public async Task Interceptors_see_method_headers_and_outcome_and_a_server_interceptor_refuses_by_user_with_a_declared_fault()
    {
        await using var broker = new TestBroker();
        var server = new Recorder();
        var shop = new Shop();
        await broker.ServeAsync<IShop>(await broker.ConnectAsync(o =>
        {
            o.Server.Interceptors.Add(server);
            o.Server.Interceptors.Add(new OnlyUser("guest", refuseMethod: "Break"));
        }), shop);
        var client = new Recorder();
        var rpc = await broker.ConnectAsync(o => o.Client.Interceptors.Add(client));
        var calls = rpc.CreateClient<IShop>();

        // The client interceptor adds a header; the server interceptor and the handler read it.
        Assert.Equal("from-interceptor", await calls.HeaderAsync("added"));
        Assert.Equal(2, await calls.ReserveAsync("apple", 2));
        await Assert.ThrowsAsync<OutOfStockException>(() => calls.ReserveAsync("apple", 9));
        // Refused by the server interceptor before the handler: the declared fault reaches the caller as itself.
        var refused = await Assert.ThrowsAsync<NotAllowedException>(() => calls.BreakAsync());
        Assert.Contains("Break is closed to guest", refused.Message);

        Assert.Equal(new[] { "Header:ok", "Reserve:ok", "Reserve:OutOfStockException", "Break:NotAllowedException" }, client.Seen.ToArray());
        Assert.Equal(new[] { "Header:ok", "Reserve:ok", "Reserve:OutOfStockException", "Break:NotAllowedException" }, server.Seen.ToArray());
        Assert.All(server.Users, u => Assert.Equal("guest", u));
        Assert.Equal("from-interceptor", server.Headers.First());
    }

    [Fact]
    public async Task A_client_interceptor_that_throws_sends_nothing()
    {
        await using var broker = new TestBroker();
        var shop = new Shop();
        var served = await broker.ServeAsync<IShop>(await broker.ConnectAsync(), shop);
        var rpc = await broker.ConnectAsync(o => o.Client.Interceptors.Add(new Refuser()));

        var e = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => rpc.CreateClient<IShop>().ReserveAsync("apple", 1));
        Assert.Equal("no token", e.Message);
        Assert.Equal(0, served.Served);
        Assert.Equal(0, rpc.PendingCallCount);
    }

    private sealed class Recorder : IRpcClientInterceptor, IRpcServerInterceptor
    {
        public ConcurrentQueue<string> Seen { get; } = new();
        public ConcurrentQueue<string?> Users { get; } = new();
        public ConcurrentQueue<string?> Headers { get; } = new();

        public async Task InterceptAsync(RpcClientCallContext call, Func<RpcClientCallContext, Task> next)
        {
            call.Headers["added"] = "from-interceptor";
            try
            {
                await next(call);
                Seen.Enqueue(call.Method.WireName + ":ok");
            }
            catch (Exception e)
            {
                Seen.Enqueue(call.Method.WireName + ":" + e.GetType().Name);
                throw;
            }
        }

        public async ValueTask InterceptAsync(RpcServerCallContext call, Func<RpcServerCallContext, ValueTask> next)
        {
            Users.Enqueue(call.Context.UserId);
            Headers.Enqueue(call.Context.Headers.TryGetValue("added", out var added) ? added : null);
            Assert.Same(call.Context, RpcContext.Current);
            try
            {
                await next(call);
                Seen.Enqueue(call.Method.WireName + ":ok");
            }
            catch (Exception e)
            {
                Seen.Enqueue(call.Method.WireName + ":" + e.GetType().Name);
                throw;
            }
        }
    }

    /// <summary>Authorisation by the caller's user id (RabbitMQ-checked user_id), refusing one method.</summary>
    private sealed class OnlyUser(string user, string refuseMethod) : IRpcServerInterceptor
    {
        public ValueTask InterceptAsync(RpcServerCallContext call, Func<RpcServerCallContext, ValueTask> next)
        {
            if (RpcContext.Current?.UserId != user || call.Method.WireName == refuseMethod)
            {
                throw new NotAllowedException($"{call.Method.WireName} is closed to {RpcContext.Current?.UserId}") { User = RpcContext.Current?.UserId };
            }

            return next(call);
        }
    }

    private sealed class Refuser : IRpcClientInterceptor
    {
        public Task InterceptAsync(RpcClientCallContext call, Func<RpcClientCallContext, Task> next) =>
            throw new UnauthorizedAccessException("no token");
    }
}
