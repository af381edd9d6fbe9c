using System;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace RpcGen.Testing.Broker;

/// <summary>
/// A channel or connection error the in-memory broker raises where RabbitMQ would: the channel that asked is closed
/// with <see cref="Code"/> and <see cref="Text"/> (404 NOT_FOUND, 406 PRECONDITION_FAILED, 405 RESOURCE_LOCKED), and
/// the caller sees RabbitMQ.Client's <c>OperationInterruptedException</c> carrying the same reason.
/// </summary>
internal sealed class BrokerException : Exception
{
    public BrokerException(ushort code, string text) : base(text)
    {
        Code = code;
        Text = text;
    }

    public ushort Code { get; }

    public string Text { get; }

    public ShutdownEventArgs ToShutdown(ushort classId, ushort methodId) =>
        new(ShutdownInitiator.Peer, Code, Text, classId, methodId);

    public static BrokerException NotFound(string what) => new(Constants.NotFound, "NOT_FOUND - " + what);

    public static BrokerException PreconditionFailed(string what) => new(Constants.PreconditionFailed, "PRECONDITION_FAILED - " + what);

    public static BrokerException ResourceLocked(string what) => new(Constants.ResourceLocked, "RESOURCE_LOCKED - " + what);
}
