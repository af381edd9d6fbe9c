using System;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace RpcGen.Client;

/// <summary>What a failed publish means for the caller, as an <see cref="RpcException"/> that names the service, method and cause.</summary>
internal static class PublishFailures
{
    public static RpcException Describe(RpcMethodDescriptor method, string queue, Exception e, bool connectionOpen)
    {
        var service = method.Service;
        return e switch
        {
            // The channel went, the connection did not: the broker closed the channel (the holder rebuilds it).
            AlreadyClosedException or OperationInterruptedException when connectionOpen && ShutdownOf(e) is { Initiator: ShutdownInitiator.Peer } closed =>
                new RpcChannelClosedException(
                    CallFailures.Text(method, $"RabbitMQ closed the channel ({closed.ReplyCode} {closed.ReplyText}); it is being rebuilt."),
                    closed.ReplyCode, closed.ReplyText, service.Name, method.WireName),
            PublishException { IsReturn: true } => new RpcServiceUnavailableException(service.Name, method.WireName, queue),
            // A nack: the broker did not take the request (a full queue that rejects publishes, an error in the queue).
            PublishException => new RpcException(RpcStatusCode.Unavailable, CallFailures.Text(method, "the broker refused the request (nack)."),
                service.Name, method.WireName, e),
            AlreadyClosedException or OperationInterruptedException or ObjectDisposedException => new RpcConnectionException(
                CallFailures.Text(method, $"not connected to RabbitMQ ({ShutdownReason(e)})."), service.Name, method.WireName, e),
            // The destination's declaration failed: its status says whether waiting can help (a missing queue may appear).
            RpcException declaring => new RpcException(declaring.StatusCode, CallFailures.Text(method, declaring.Message), service.Name, method.WireName, e),
            _ => new RpcException(RpcStatusCode.Internal, CallFailures.Text(method, $"publishing the request failed: {e.Message}"), service.Name, method.WireName, e),
        };
    }

    private static ShutdownEventArgs? ShutdownOf(Exception e) => e switch
    {
        AlreadyClosedException closed => closed.ShutdownReason,
        OperationInterruptedException interrupted => interrupted.ShutdownReason,
        _ => null,
    };

    /// <summary>The broker's or library's one-line reason; the exceptions' own messages carry whole stack traces.</summary>
    private static string ShutdownReason(Exception e) => e switch
    {
        OperationInterruptedException { ShutdownReason: { } reason } => reason.ReplyText,
        _ => e.Message,
    };
}
