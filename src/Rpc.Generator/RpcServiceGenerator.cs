using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using RpcGen.Generator.Diagnostics;
using RpcGen.Generator.Emitting;
using RpcGen.Generator.Model;
using RpcGen.Generator.Parsing;

namespace RpcGen.Generator;

/// <summary>
/// For every interface marked [RpcService]: a client, a dispatcher and their registration. The pipeline only wires
/// the steps together: parse into a value-equatable model, report its diagnostics, emit its source.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class RpcServiceGenerator : IIncrementalGenerator
{
    /// <summary>Step names that tests track to prove caching.</summary>
    public static class TrackingNames
    {
        public const string Parse = "RpcGen.Parse";
        public const string Diagnostics = "RpcGen.Diagnostics";
        public const string Services = "RpcGen.Services";
    }

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                AttributeNames.RpcService,
                static (node, _) => node is InterfaceDeclarationSyntax,
                static (syntaxContext, cancellationToken) => ServiceParser.Parse(syntaxContext, cancellationToken))
            .WithTrackingName(TrackingNames.Parse);

        var diagnostics = parsed
            .Select(static (result, _) => result.Diagnostics)
            .WithTrackingName(TrackingNames.Diagnostics);
        context.RegisterSourceOutput(diagnostics, static (output, items) =>
        {
            foreach (var item in items)
            {
                output.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.ById(item.Id), item.Location?.ToLocation() ?? Location.None, MessageArgs(item)));
            }
        });

        var services = parsed
            .Where(static result => result.Service is not null)
            .Select(static (result, _) => result.Service!)
            .WithTrackingName(TrackingNames.Services);
        context.RegisterSourceOutput(services, static (output, service) =>
            output.AddSource(service.HintName, ServiceEmitter.Emit(service)));
    }

    private static object[] MessageArgs(DiagnosticInfo info)
    {
        var args = new object[info.MessageArgs.Count];
        for (int i = 0; i < args.Length; i++) args[i] = info.MessageArgs[i];
        return args;
    }
}
