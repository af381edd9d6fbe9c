namespace RpcGen.IntegrationTests.Interop;

/// <summary>A contract with every body shape the AsyncAPI document describes: none, one value, an object of several, recursion, no result, one-way.</summary>
[RpcService(Queue = "asyncapi-orders")]
public interface IOrderDesk
{
    /// <summary>Two required parameters, an optional one, a record result and a declared fault.</summary>
    [RpcFault(typeof(QuoteRefusedException))]
    Task<Quote> QuoteAsync(string product, int quantity, bool express = false, CancellationToken cancellationToken = default);

    /// <summary>One record parameter, sent as the bare value.</summary>
    Task<int> CountAsync(Basket basket, CancellationToken cancellationToken = default);

    /// <summary>No parameter.</summary>
    Task<long> TicketAsync(CancellationToken cancellationToken = default);

    /// <summary>A recursive type, whose schema refers to itself.</summary>
    Task<Category> DeepestAsync(Category root, CancellationToken cancellationToken = default);

    /// <summary>No result.</summary>
    Task ResetAsync(CancellationToken cancellationToken = default);

    /// <summary>One-way: no reply.</summary>
    [RpcMethod(OneWay = true)]
    Task NoteAsync(string text);
}

/// <summary>A declared fault: its properties travel in the error reply's data.</summary>
public sealed class QuoteRefusedException : Exception
{
    public QuoteRefusedException(string product, int limit)
        : base($"At most {limit} of {product} per quote.")
    {
        Product = product;
        Limit = limit;
    }

    public string Product { get; }

    public int Limit { get; }
}

public sealed record Quote(string Product, int Quantity, decimal Total, bool Express);

public sealed record Basket(IReadOnlyList<string> Items, string? Owner);

public sealed record Category(string Name, Category? Child);

public sealed class OrderDesk : IOrderDesk
{
    public Task<Quote> QuoteAsync(string product, int quantity, bool express = false, CancellationToken cancellationToken = default) =>
        quantity > 100
            ? throw new QuoteRefusedException(product, 100)
            : Task.FromResult(new Quote(product, quantity, quantity * 1.25m + (express ? 5 : 0), express));

    public Task<int> CountAsync(Basket basket, CancellationToken cancellationToken = default) => Task.FromResult(basket.Items.Count);

    public Task<long> TicketAsync(CancellationToken cancellationToken = default) => Task.FromResult(42L);

    public Task<Category> DeepestAsync(Category root, CancellationToken cancellationToken = default)
    {
        while (root.Child is not null) root = root.Child;
        return Task.FromResult(root);
    }

    public Task ResetAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task NoteAsync(string text) => Task.CompletedTask;
}
