// Shape: two interfaces with the same name in two namespaces of one project: distinct hint names and generated types.
using System.Threading.Tasks;

namespace RpcGen.IntegrationTests.Shapes.Warehouse
{
    /// <summary>The warehouse's stock.</summary>
    [RpcService]
    public interface IInventory
    {
        /// <summary>Items of <paramref name="sku"/> in the warehouse.</summary>
        Task<int> CountAsync(string sku);
    }
}

namespace RpcGen.IntegrationTests.Shapes.Shop
{
    [RpcService]
    internal interface IInventory
    {
        Task<bool> InStockAsync(string sku);
    }
}
