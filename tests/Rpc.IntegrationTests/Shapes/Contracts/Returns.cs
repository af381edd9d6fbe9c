// Shape: the four return types, with results of the parameter shapes, including nullable ones.
using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using RpcGen.IntegrationTests.Shapes.Types;

namespace RpcGen.IntegrationTests.Shapes.Returns;

[RpcService]
internal interface IReturnShapes
{
    Task DoAsync();

    ValueTask DoValueAsync();

    Task<int> IntAsync();

    ValueTask<int> IntValueAsync();

    Task<int?> MaybeIntAsync(bool some);

    ValueTask<string?> MaybeTextAsync(bool some);

    Task<Customer?> MaybeCustomerAsync(bool some);

    Task<Money> MoneyAsync();

    ValueTask<Money?> MaybeMoneyAsync(bool some);

    Task<Priority> PriorityAsync();

    Task<Priority?> MaybePriorityAsync(bool some);

    Task<Guid> GuidAsync();

    Task<DateTimeOffset> TimeAsync();

    Task<decimal> DecimalAsync();

    Task<int[]> ArrayAsync();

    Task<List<Customer>> ListAsync();

    Task<Dictionary<string, Money>> DictionaryAsync();

    Task<Dictionary<string, int?>?> MaybeDictionaryAsync(bool some);
}
