using RpcGen.IntegrationTests.Infrastructure;

namespace RpcGen.Cli.Tests.Infrastructure;

/// <summary>
/// A private node for rpcgen top, which reads the management API: ./build.sh broker start enables it on the AMQP port +
/// 10000. Private, so the test does not depend on how the shared node was started, and its rates are this test's only.
/// </summary>
public sealed class ManagementNode() : PrivateNode(Port, "rpcgen-cli" + TestPorts.Suffix)
{
    public static int Port { get; } = 5697 + TestPorts.Offset;
}

[CollectionDefinition(Name)]
public sealed class TerminalCollection : ICollectionFixture<ManagementNode>
{
    public const string Name = "rpcgen in a terminal";
}
