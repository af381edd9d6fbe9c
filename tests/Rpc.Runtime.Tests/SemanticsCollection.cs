namespace RpcGen.Runtime.Tests;

/// <summary>
/// Tests that assert a promised timing (a lane held "for the publish timeout only") run one class at a time, never
/// beside the CPU-heavy tests of this project on the CI host's two cores. Rpc.IntegrationTests has its own.
/// </summary>
[Xunit.CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SemanticsCollection
{
    /// <summary>The collection's name, for <see cref="Xunit.CollectionAttribute"/>.</summary>
    public const string Name = "Semantics";
}
