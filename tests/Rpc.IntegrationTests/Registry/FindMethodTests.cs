using RpcGen.Generated;
using RpcGen.IntegrationTests.Evolution;
using Xunit;

namespace RpcGen.IntegrationTests.Registry;

/// <summary>
/// RpcServiceRegistry.FindMethod, which a relay uses to publish a captured message whose contract nothing in the process
/// has used yet: it runs the generated registrations of loaded contracts assemblies, and no other assembly's module
/// initializer.
/// </summary>
public sealed class FindMethodTests
{
    [Fact]
    public void A_contract_nothing_has_used_is_found_and_an_assembly_without_RpcGen_does_not_have_its_initializer_run()
    {
        string flag = "rpcgen-test-initializer-" + Guid.NewGuid().ToString("N");
        ContractCompiler.LoadAssembly("NoContracts" + Guid.NewGuid().ToString("N"), $$"""
            namespace NoContracts;
            internal static class Init
            {
                [System.Runtime.CompilerServices.ModuleInitializer]
                internal static void Run() => System.AppContext.SetData("{{flag}}", "ran");
            }
            """);
        string service = "Unused" + Guid.NewGuid().ToString("N")[..8];
        ContractCompiler.LoadAssembly("Contracts" + service, $$"""
            using System.Threading.Tasks;
            namespace Contracts;
            [RpcGen.RpcService]
            public interface I{{service}}
            {
                Task<int> PingAsync(int n);
            }
            """);

        var method = RpcServiceRegistry.FindMethod(service, "Ping", "nowhere");

        Assert.NotNull(method);
        Assert.Equal(service, method.Service.Name);
        Assert.Null(AppContext.GetData(flag));
    }
}
