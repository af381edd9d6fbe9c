// Shape: overloads, allowed when [RpcMethod("name")] gives them distinct wire names.
using System.Threading.Tasks;

namespace RpcGen.IntegrationTests.Shapes.Overloads;

[RpcService]
internal interface IFormatter
{
    Task<string> FormatAsync(int value);

    [RpcMethod("format-double")]
    Task<string> FormatAsync(double value);

    [RpcMethod("format-pair")]
    Task<string> FormatAsync(int left, int right);
}
