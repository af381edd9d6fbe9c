using RpcGen.IntegrationTests.Infrastructure;

namespace RpcGen.Ecosystem.Tests.Infrastructure;

/// <summary>
/// The ecosystem tests' private node (see <see cref="PrivateNode"/>), so the health tests may kill and restart a
/// broker without disturbing the one the other tests share.
/// </summary>
public sealed class PrivateBroker() : PrivateNode(Port, Node)
{
    /// <summary>5695 (the integration tests' private nodes use 5691-5693), moved by RPCGEN_TEST_PORT_OFFSET.</summary>
    public static int Port { get; } = TestPorts.Offset + 5695;

    public static string Node { get; } = $"rpcgen-eco{TestPorts.Suffix}@localhost";
}

[CollectionDefinition(Name)]
public sealed class PrivateBrokerCollection : ICollectionFixture<PrivateBroker>
{
    public const string Name = "private broker";
}
