using Xunit;

namespace RpcGen.Runtime.Tests.Client;

/// <summary>
/// The status code of every RpcGen exception, without a broker: an error reply's type sets it, and every public
/// exception is an RpcException, so one catch handles them all. What a live call throws is Rpc.IntegrationTests'
/// StatusCodeTests.
/// </summary>
public sealed class StatusCodeMappingTests
{
    [Theory]
    [InlineData(RpcErrorTypes.DeadlineExceeded, RpcStatusCode.DeadlineExceeded)]
    [InlineData(RpcErrorTypes.UnknownMethod, RpcStatusCode.Unimplemented)]
    [InlineData(RpcErrorTypes.BadRequest, RpcStatusCode.InvalidArgument)]
    [InlineData(RpcErrorTypes.UnsupportedContentType, RpcStatusCode.InvalidArgument)]
    [InlineData(RpcErrorTypes.TooLarge, RpcStatusCode.ResourceExhausted)]
    [InlineData(RpcErrorTypes.Cancelled, RpcStatusCode.Cancelled)]
    [InlineData(RpcErrorTypes.StreamAbandoned, RpcStatusCode.Cancelled)]
    [InlineData(RpcErrorTypes.ServerError, RpcStatusCode.Internal)]
    [InlineData(RpcErrorTypes.UnreadableError, RpcStatusCode.Internal)]
    [InlineData("rpc:from-a-newer-server", RpcStatusCode.Internal)]
    [InlineData("System.InvalidOperationException", RpcStatusCode.Remote)]
    [InlineData("KeyError", RpcStatusCode.Remote)]
    public void An_error_replys_type_sets_the_status(string remoteType, RpcStatusCode expected)
    {
        Assert.Equal(expected, new RpcRemoteException("Shop", "Reserve", remoteType, "message").StatusCode);
    }

    [Fact]
    public void Every_public_RpcGen_exception_derives_from_RpcException()
    {
        var exceptions = typeof(RpcException).Assembly.GetExportedTypes().Where(t => typeof(Exception).IsAssignableFrom(t)).ToArray();
        Assert.Contains(typeof(RpcTimeoutException), exceptions);
        Assert.All(exceptions, t => Assert.True(typeof(RpcException).IsAssignableFrom(t), $"{t.Name} is not an RpcException"));
    }
}
