// Shape: parameter types and default values: params arrays, nullable reference and value types, structs, records,
// enums, arrays, List<T>, Dictionary<string,T>, Guid, DateTimeOffset, decimal.
using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace RpcGen.IntegrationTests.Shapes.Types;

[RpcService]
internal interface ITypeShapes
{
    Task<string> DefaultsAsync(int count = 3, string text = "a \"quoted\"\n text", double ratio = 0.5, decimal price = 9.99m,
        long big = 1L << 40, char letter = 'x', bool flag = true, Priority priority = Priority.High, Channels channels = Channels.Mail | Channels.Sms,
        string? nothing = null, int? maybe = null, int? some = 7, Money money = default, float single = 1.5f, byte small = 200, uint unsigned = 4000000000);

    Task<int> SumAsync(params int[] values);

    Task<string> JoinAsync(string separator, params string?[] parts);

    Task<string> NullablesAsync(string? text, int? number, Money? money, Customer? customer, Priority? priority);

    Task<string> ValuesAsync(Money money, Customer customer, Order order, Priority priority, Guid id, DateTimeOffset at, decimal amount);

    Task<string> CollectionsAsync(int[] numbers, List<Customer> customers, Dictionary<string, Money> wallet, Dictionary<string, int?> counts,
        List<string?> names, Customer?[] maybeCustomers);
}
