// Data types the shape contracts use: an enum, a flags enum, a record struct, a record and a class.
using System;
using System.Collections.Generic;

namespace RpcGen.IntegrationTests.Shapes.Types;

internal enum Priority
{
    Low = 1,
    Normal = 2,
    High = 3,
}

[Flags]
internal enum Channels
{
    None = 0,
    Mail = 1,
    Sms = 2,
}

internal readonly record struct Money(decimal Amount, string Currency);

internal sealed record Customer(Guid Id, string Name, string? Email, DateTimeOffset Since);

internal sealed class Order
{
    public int Number { get; set; }

    public List<string> Lines { get; set; } = new();
}
