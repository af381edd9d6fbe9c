namespace RpcGen.Outbox.Benchmarks;

/// <summary>One way of saving an order and announcing it: a transaction per order.</summary>
internal interface IOutboxContender : IAsyncDisposable
{
    string Name { get; }

    /// <summary>The queue the announcements reach (null when nothing is announced), counted by <see cref="Arrivals"/>.</summary>
    string? Queue { get; }

    /// <summary>Saves order <paramref name="id"/> in a transaction and announces it the contender's way; returns when the app would go on.</summary>
    Task PlaceAsync(long id);
}
