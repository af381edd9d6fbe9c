using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using RpcGen.Generator.Emitting;
using RpcGen.Generator.Parsing;

namespace RpcGen.Generator;

/// <summary>
/// For every interface marked [RpcService]: a client, a dispatcher and their registration; for [RpcEvents], a
/// publisher, a subscriber dispatcher and their registration. The pipeline only wires
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
        public const string ParseEvents = "RpcGen.ParseEvents";
        public const string Events = "RpcGen.Events";
    }

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        Register(context, AttributeNames.RpcService, TrackingNames.Parse, TrackingNames.Services);
        Register(context, AttributeNames.RpcEvents, TrackingNames.ParseEvents, TrackingNames.Events);
    }

    /// <summary>[RpcService] and [RpcEvents] interfaces go through the same parser and emitters; each gets its own pipeline.</summary>
    private static void Register(IncrementalGeneratorInitializationContext context, string attributeName, string parseStep, string outputStep)
    {
        var services = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                attributeName,
                static (node, _) => node is InterfaceDeclarationSyntax,
                static (syntaxContext, cancellationToken) => ServiceParser.Parse(syntaxContext, cancellationToken))
            .WithTrackingName(parseStep)
            .Where(static service => service is not null)
            .Select(static (service, _) => service!)
            .WithTrackingName(outputStep);

        context.RegisterSourceOutput(services, static (output, service) =>
            output.AddSource(service.HintName, ServiceEmitter.Emit(service)));
    }
}
