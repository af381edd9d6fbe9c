// Shape: a file-scoped namespace; an internal interface gives internal generated types.
using System.Threading.Tasks;

namespace RpcGen.IntegrationTests.Shapes.FileScoped;

[RpcService]
internal interface IFileScopedEcho
{
    Task<string> EchoAsync(string text);
}
