using Xunit;

namespace RpcGen.Runtime.Tests.Client;

/// <summary>A handler that reads RpcContext.Current can be unit-tested without a broker.</summary>
public sealed class RpcContextTests
{
    [Fact]
    public async Task A_test_creates_a_context_and_makes_it_current_for_the_handler_it_calls()
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(5);
        var context = new RpcContext("Shop", "Header", new Dictionary<string, string> { ["tenant"] = "eu" }, deadline,
            correlationId: "c-1", userId: "alice", messageId: "m-1", redelivered: true);

        Assert.Null(RpcContext.Current);
        using (context.MakeCurrent())
        {
            Assert.Equal("eu", await new HeaderHandler().HeaderAsync("tenant"));
            Assert.Same(context, RpcContext.Current);
        }

        Assert.Null(RpcContext.Current);
        Assert.Equal(("Shop", "Header", "c-1", "alice", "m-1", true, (DateTimeOffset?)deadline),
            (context.Service, context.Method, context.CorrelationId, context.UserId, context.MessageId, context.Redelivered, context.Deadline));
        Assert.Empty(new RpcContext("Shop", "Header").Headers);
    }

    /// <summary>A handler as a service implements it: it reads the request's context, never a parameter.</summary>
    private sealed class HeaderHandler
    {
        public Task<string?> HeaderAsync(string name) =>
            Task.FromResult(RpcContext.Current!.Headers.TryGetValue(name, out var value) ? value : null);
    }
}
