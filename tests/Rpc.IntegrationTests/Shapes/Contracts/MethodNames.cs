// Shape: method names a client class cannot simply declare: object's members, the client's own name and field, a
// C# keyword, and the dispatcher's own member names.
using System.Threading.Tasks;

namespace RpcGen.IntegrationTests.Shapes.MethodNames;

[RpcService]
internal interface ITricky
{
    Task<string> ToString(int value);

    Task<bool> Equals(string? other);

    Task<int> GetHashCode();

    Task<string> TrickyClient();

    Task<int> _invoker();

    Task<int> @return(int @int);

    Task<int> InvokeAsync(int service, int call);
}
