using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using RpcGen.Generator.Emitting;
using RpcGen.Generator.Parsing;

namespace RpcGen.Generator;

/// <summary>
/// For every interface marked [RpcService]: a client, a dispatcher and their registration. The pipeline only wires
/// the steps together: parse into a value-equatable model and emit its source. An interface with problems gets no
/// code; <see cref="RpcServiceAnalyzer"/> reports the problems, with locations editors and #pragma can use.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class RpcServiceGenerator : IIncrementalGenerator
{
    /// <summary>Step names that tests track to prove caching.</summary>
    public static class TrackingNames
    {
        public const string Parse = "RpcGen.Parse";
        public const string Services = "RpcGen.Services";
    }

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var services = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                AttributeNames.RpcService,
                static (node, _) => node is InterfaceDeclarationSyntax,
                static (syntaxContext, cancellationToken) => ServiceParser.Parse(syntaxContext, cancellationToken))
            .WithTrackingName(TrackingNames.Parse)
            .Where(static service => service is not null)
            .Select(static (service, _) => service!)
            .WithTrackingName(TrackingNames.Services);

        context.RegisterSourceOutput(services, static (output, service) =>
            output.AddSource(service.HintName, ServiceEmitter.Emit(service)));
    }
}
