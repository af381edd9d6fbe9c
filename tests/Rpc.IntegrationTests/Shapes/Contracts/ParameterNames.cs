// Shape: parameter names that are C# keywords or that clash with names the generated code uses.
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace RpcGen.IntegrationTests.Shapes.Names;

[RpcService]
internal interface INaming
{
    Task<string> KeywordsAsync(string @class, int @event, bool @params);

    Task<string> ClashesAsync(string client, string message, string body, string result, string cancellationToken,
        string writer, string reader, string request, string connection, string call, string service);

    Task<int> CountAsync(List<int> request, CancellationToken ct);

    Task<string> OneClashAsync(string request);

    ValueTask<string> ArgumentNamesAsync(int arg0, int arg1, string @_invoker);
}
