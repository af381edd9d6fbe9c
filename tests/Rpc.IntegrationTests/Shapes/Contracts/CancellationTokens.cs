// Shape: a CancellationToken first, in the middle, last, with a default, or absent; it is never sent.
using System.Threading;
using System.Threading.Tasks;

namespace RpcGen.IntegrationTests.Shapes.Cancellation;

[RpcService]
internal interface ITokenPlaces
{
    Task<int> FirstAsync(CancellationToken cancellationToken, int value);

    Task<string> MiddleAsync(string left, CancellationToken token, string right);

    Task<int> LastAsync(int value, CancellationToken cancellationToken = default);

    Task OnlyAsync(CancellationToken cancellationToken);

    ValueTask<bool> ObservedAsync(int milliseconds, CancellationToken cancellationToken);
}
