using System;

namespace RpcGen;

/// <summary>
/// On a <see langword="string"/> parameter of an <see cref="RpcEventsAttribute"/> method: the event's routing key,
/// sent as the AMQP routing key and not in the body. In a subscriber it receives the delivery's routing key. An event
/// without one is published with its wire name as routing key.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter, Inherited = false, AllowMultiple = false)]
public sealed class RpcRoutingKeyAttribute : Attribute
{
}
