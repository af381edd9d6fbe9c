using Xunit;

namespace RpcGen.IntegrationTests.Infrastructure;

/// <summary>The fault tests' private node (see <see cref="PrivateNode"/>): they kill, stop and restart it.</summary>
public sealed class FaultBroker() : PrivateNode(Port, Node)
{
    /// <summary>5691, moved by RPCGEN_TEST_PORT_OFFSET so two checkouts can run their fault tests side by side.</summary>
    public static int Port { get; } = TestPorts.Offset + 5691;
    public static string Node { get; } = $"rpcgen-fault{TestPorts.Suffix}@localhost";
}

[CollectionDefinition(Name)]
public sealed class FaultBrokerCollection : ICollectionFixture<FaultBroker>
{
    public const string Name = "fault broker";
}
